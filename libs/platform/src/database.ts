import { Query as PgQuery, type Connection as PgConnection, type PoolClient, type QueryResult } from 'pg';
import { prepareValue } from 'pg/lib/utils';
import { DataSource, DataSourceOptions, EntityManager, EntitySchema, MixedList } from 'typeorm';
import type { Logger } from './logging';

export interface ServiceDatabaseOptions {
  /** Service name; its tables live in the schema of that name (plus an optional prefix). */
  service: string;
  url: string;
  schemaPrefix?: string;
  poolSize?: number;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Only for throw-away test databases: build tables from entities, no migrations. */
  synchronize?: boolean;
}

export function schemaFor(service: string, prefix = ''): string {
  const schema = `${prefix}${service}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  return schema;
}

/**
 * Each service owns a schema. `search_path` points at it, so migrations are
 * written once with unqualified table names and reused by every service that
 * needs the same tables (outbox, inbox, trace chain).
 */
export function createServiceDataSource(opts: ServiceDatabaseOptions): DataSource {
  const schema = schemaFor(opts.service, opts.schemaPrefix);
  const options: DataSourceOptions = {
    type: 'postgres',
    url: opts.url,
    schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: opts.synchronize ?? false,
    logging: false,
    applicationName: `trace-${opts.service}`,
    extra: {
      max: opts.poolSize ?? 10,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
    },
  };
  return new DataSource(options);
}

/**
 * Connects, creates the schema and applies pending migrations under an advisory
 * lock, so two replicas starting together do not race each other's DDL.
 */
export async function initializeServiceDatabase(ds: DataSource, logger?: Logger): Promise<void> {
  const schema = (ds.options as { schema: string }).schema;
  // The schema must exist before the pool's search_path can point into it.
  const bootstrap = new DataSource({ ...(ds.options as DataSourceOptions), entities: [], migrations: [], extra: { max: 1 } } as DataSourceOptions);
  await bootstrap.initialize();
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await bootstrap.destroy();
  }
  await ds.initialize();
  if (ds.options.synchronize) return;
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    if (applied.length > 0) logger?.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Runs `work` in a transaction whose first statement goes out with its
 * `START TRANSACTION`, in one round trip, and commits it: a transaction costs
 * the round trips of its statements plus the COMMIT, not one more for the
 * START. The pair goes over the simple protocol, which takes no parameters:
 * `first` must carry its values as literals (escapeLiteral from `pg`, or
 * numbers checked as such). `work` gets the first statement's rows and the
 * transaction's manager, on which everything is as after
 * `queryRunner.startTransaction()` (commit hooks, savepoints of nested
 * transactions); a failure rolls back and is rethrown.
 */
export async function transactionStartingWith<R, T>(
  dataSource: DataSource,
  first: string,
  work: (rows: R[], manager: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner('master');
  try {
    const client = (await runner.connect()) as PoolClient;
    await runner.broadcaster.broadcast('BeforeTransactionStart');
    // Set before the round trip: if `first` fails, the transaction is open (aborted) and must be rolled back.
    Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
    const results = (await client.query(`START TRANSACTION; ${first}`)) as unknown as QueryResult[];
    await runner.broadcaster.broadcast('AfterTransactionStart');
    const out = await work(results[results.length - 1].rows as R[], runner.manager);
    await runner.commitTransaction();
    return out;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await runner.release();
  }
}

/** A statement of a pipeline: its text and parameters, as for `query`. */
interface Step {
  text: string;
  values?: unknown[];
}

/**
 * Several statements in ONE round trip over the extended protocol: each one's
 * Parse/Bind/Describe/Execute, then a single Sync. PostgreSQL runs them in
 * order and stops at the first error (the rest are skipped up to the Sync),
 * which is what a transaction's START before, or COMMIT after, a statement
 * needs. Answers the result of each step, in order. pg's Query keeps the
 * results apart (one per CommandComplete); only the sending is different.
 */
class Pipeline extends PgQuery {
  constructor(
    /** Read by scripts/bench/record-statements.js, which explains each statement with its own parameters. */
    readonly steps: Step[],
    callback: (err: Error | null, results: QueryResult[] | QueryResult) => void,
  ) {
    super({ text: steps.map((s) => s.text).join('; '), callback } as never);
  }

  override submit = (connection: PgConnection): void => {
    const con = connection as unknown as PipelineConnection;
    con.stream.cork?.();
    try {
      for (const s of this.steps) {
        con.parse({ text: s.text, name: '', types: [] });
        con.bind({ portal: '', statement: '', values: s.values ?? [], binary: false, valueMapper: prepareValue });
        con.describe({ type: 'P', name: '' });
        con.execute({ portal: '', rows: 0 });
      }
      con.sync();
    } finally {
      con.stream.uncork?.();
    }
  };
}

/** The part of pg's Connection a Pipeline writes with (not in @types/pg). */
interface PipelineConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: (v: unknown) => unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
}

function pipeline(client: PoolClient, steps: Step[]): Promise<QueryResult[]> {
  return new Promise((resolve, reject) => {
    // Through Client#query (a submittable is queued like any query): it waits its turn on the connection.
    client.query(
      new Pipeline(steps, (err, results) => {
        if (err) reject(err);
        else resolve(Array.isArray(results) ? results : [results]);
      }) as never,
    );
  });
}

const DEFERRED = Symbol('statements sent with the COMMIT');
type Deferred = { [DEFERRED]?: Step[] };

/**
 * Like `dataSource.transaction(work)`, in two round trips fewer: the
 * `START TRANSACTION` goes out with the transaction's first statement, and the
 * `COMMIT` with the statements `work` handed to `deferToCommit` (an outbox
 * row: nothing in the transaction reads it back), all pipelined on the
 * connection (one Sync each time, so an error stops what follows it, and the
 * transaction then rolls back as usual). Statements, parameters and their
 * types are exactly what they would be one by one; the connection, its
 * row locks and triggers, commit hooks (`afterTransactionCommit`) and
 * nested transactions (savepoints) are TypeORM's own.
 */
export async function pipelinedTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner('master');
  const client = (await runner.connect()) as PoolClient & { query: PoolClient['query'] };
  const deferred: Step[] = [];
  let startPending = true;
  const plain = client.query;
  // Only while this transaction runs: TypeORM sends every statement through client.query(text, values).
  client.query = ((text: unknown, values?: unknown[]) => {
    if (typeof text !== 'string') return (plain as (...a: unknown[]) => unknown).call(client, text, values);
    const steps: Step[] = [];
    if (startPending) steps.push({ text: 'START TRANSACTION' });
    startPending = false;
    // A statement after deferred ones: they go first, in order, in the same round trip.
    steps.push(...deferred.splice(0), { text, values });
    return pipeline(client, steps).then((results) => results[results.length - 1]);
  }) as PoolClient['query'];
  (runner.manager as Deferred)[DEFERRED] = deferred;
  try {
    await runner.broadcaster.broadcast('BeforeTransactionStart');
    Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
    await runner.broadcaster.broadcast('AfterTransactionStart');
    let out: T;
    try {
      out = await work(runner.manager);
    } catch (err) {
      deferred.length = 0;
      // Nothing was sent: there is no transaction to roll back.
      if (startPending) Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
      throw err;
    }
    if (startPending && deferred.length === 0) {
      Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
      return out;
    }
    await runner.broadcaster.broadcast('BeforeTransactionCommit');
    const steps = [...(startPending ? [{ text: 'START TRANSACTION' }] : []), ...deferred.splice(0), { text: 'COMMIT' }];
    startPending = false;
    await pipeline(client, steps);
    Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
    await runner.broadcaster.broadcast('AfterTransactionCommit');
    return out;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    delete (client as { query?: unknown }).query;
    if (client.query !== plain) client.query = plain;
    await runner.release();
  }
}

/**
 * Hands a statement to the COMMIT of `manager`'s pipelined transaction (sent
 * with it, or before the next statement if one comes first); false when the
 * manager's transaction is not one (the caller sends it as usual).
 */
export function deferToCommit(manager: EntityManager, text: string, values: unknown[]): boolean {
  const deferred = (manager as Deferred)[DEFERRED];
  if (!deferred || manager.queryRunner?.isReleased) return false;
  deferred.push({ text, values });
  return true;
}
