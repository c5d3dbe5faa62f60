import { Client as PgClient, Query as PgQuery, type Connection as PgConnection, type PoolClient, type QueryResult } from 'pg';
import { prepareValue } from 'pg/lib/utils';
import {
  DataSource,
  DataSourceOptions,
  EntityManager,
  EntitySchema,
  MixedList,
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  QueryResult as TypeOrmQueryResult,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
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
  /** Prepare statements by name per connection (default true: StatementCachingClient); false sends each as written. */
  preparedStatements?: boolean;
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
      ...(opts.preparedStatements === false ? {} : { Client: StatementCachingClient }),
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
    },
  };
  return new DataSource(options);
}

/**
 * Put in a statement's text, keeps it from being prepared (planned anew for every run, with its values):
 * for the few statements whose generic plan reads a whole table where the values would have let an index
 * do (optional filters, arrays of pairs joined in): scripts/bench/plans.ts lists generic plans that grow.
 */
export const CUSTOM_PLAN = '/* custom plan */';

/** How many times a statement's text runs on a connection before it is prepared there by name. */
const PREPARE_AFTER_USES = 2;
/**
 * Named statements a connection keeps at most: their plans live in its backend's memory, and embedded,
 * every service's pool is on one PostgreSQL (pgjdbc keeps 256 by default as well).
 */
const MAX_PREPARED_PER_CONNECTION = 256;

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed under it (a `SELECT *` of a
 * table another replica's migration just altered): the text then gets a new name, so the caller's retry
 * (the inbox's, the client's) prepares it afresh instead of failing on this connection for ever.
 */
const isStalePlan = (err: { code?: unknown; message?: unknown } | undefined) =>
  err?.code === '0A000' && /cached plan must not change result type/.test(String(err.message));

/**
 * A pg Client that prepares a parameterised statement by name once its text
 * has run a couple of times on the connection, as pgjdbc does
 * (prepareThreshold): later runs skip PostgreSQL's parse and analysis (and,
 * once the plan cache settles, its planning), which on the write and
 * delivery paths were most of the server's CPU per statement. Texts without
 * parameters (START TRANSACTION, COMMIT, multi-statement scripts) stay on the
 * simple protocol.
 */
type QueryCallback = (err: Error | null, res?: QueryResult) => void;

export class StatementCachingClient extends PgClient {
  private readonly statementUses = new Map<string, number | string>();
  private prepared = 0;

  /** The statement name for `text` on this connection, or '' while it stays unnamed. */
  statementName(text: string): string {
    const seen = this.statementUses.get(text);
    if (typeof seen === 'string') return seen;
    if (text.includes(CUSTOM_PLAN)) return '';
    if (this.prepared >= MAX_PREPARED_PER_CONNECTION) return '';
    const uses = (seen ?? 0) + 1;
    if (uses < PREPARE_AFTER_USES) {
      this.statementUses.set(text, uses);
      return '';
    }
    const name = `trace_${++this.prepared}`;
    this.statementUses.set(text, name);
    return name;
  }

  /**
   * Gives these texts new names: a failed pipeline may or may not have prepared them (the old names are
   * left to the backend, a few at most).
   */
  forget(texts: string[]): void {
    for (const text of texts) this.statementUses.delete(text);
  }

  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = this.statementName(config);
      if (name) return this.namedQuery(config, values, name, callback as QueryCallback | undefined) as never;
    }
    return (super.query as (...a: unknown[]) => never)(config, values, callback);
  }

  /**
   * Runs `text` as the named statement `name`: answers a promise, or calls `callback` when given (as pg
   * does). The Query is made from the text and named after: given a config object, pg copies it property
   * descriptor by property descriptor at every query (the most expensive step of its per-statement work).
   */
  private namedQuery(text: string, values: unknown[], name: string, callback?: QueryCallback): Promise<QueryResult> | undefined {
    const query = new PgQuery(text, values) as PgQuery & { name?: string; callback?: QueryCallback };
    query.name = name;
    let reply = callback;
    const result = reply ? undefined : new Promise<QueryResult>((resolve, reject) => (reply = (err, res) => (err ? reject(err) : resolve(res as QueryResult))));
    query.callback = (err, res) => {
      // A value pg cannot serialise fails before the server sees it (no code), and pg then closes the statement
      // while still counting it as prepared; a stale plan cannot run again: either way the text gets a new name.
      if (err && ((err as { code?: unknown }).code === undefined || isStalePlan(err))) this.forget([text]);
      (reply as QueryCallback)(err, res);
    };
    (super.query as (...a: unknown[]) => unknown)(query);
    return result;
  }
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

/** A statement of a pipeline: its text and parameters, as for `query`. */
interface Step {
  text: string;
  values?: unknown[];
  /** Prepared statement name (StatementCachingClient), or unnamed. */
  name?: string;
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
    // The text, not a config object: pg would copy that one property descriptor by property descriptor.
    super(steps.map((s) => s.text).join('; ') as never, undefined as never, callback as never);
  }

  /** Statements this pipeline prepares by name: known to the connection only once it has succeeded. */
  readonly preparing: { name: string; text: string }[] = [];

  override submit = (connection: PgConnection): void => {
    const con = connection as unknown as PipelineConnection;
    con.stream.cork?.();
    try {
      for (const s of this.steps) {
        const name = s.name ?? '';
        // A text twice in one pipeline (two inputs' links) is prepared once, by the first of them.
        if (!name || (con.parsedStatements[name] === undefined && !this.preparing.some((p) => p.name === name))) {
          if (name) this.preparing.push({ name, text: s.text });
          con.parse({ text: s.text, name, types: [] });
        }
        con.bind({ portal: '', statement: name, values: s.values ?? [], binary: false, valueMapper: prepareValue });
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
  parsedStatements: Record<string, string>;
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: (v: unknown) => unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
}

function pipeline(client: PoolClient, steps: Step[]): Promise<QueryResult[]> {
  if (client instanceof StatementCachingClient) {
    for (const s of steps) if (s.values?.length) s.name = client.statementName(s.text) || undefined;
  }
  return new Promise((resolve, reject) => {
    // Through Client#query (a submittable is queued like any query): it waits its turn on the connection.
    const query: Pipeline = new Pipeline(steps, (err, results) => {
      if (err) {
        // Which of its statements were prepared before the error is unknown: they get new names.
        if (client instanceof StatementCachingClient) {
          client.forget(isStalePlan(err as never) ? steps.filter((st) => st.name).map((st) => st.text) : query.preparing.map((p) => p.text));
        }
        return reject(err);
      }
      const parsed = (client as unknown as { connection: PipelineConnection }).connection.parsedStatements;
      for (const p of query.preparing) parsed[p.name] = p.text;
      resolve(Array.isArray(results) ? results : [results]);
    });
    client.query(query as never);
  });
}

const DEFERRED = Symbol('statements sent with the COMMIT');
const ALONG = Symbol('statements sent right after the next one');
const SEND_NOW = Symbol('sends the deferred statements without waiting for them');
/** A statement riding along with the transaction's next one (readAlongWithNext), and who waits for its rows. */
interface Along {
  step: Step;
  settle: (result: QueryResult | undefined, err?: unknown) => void;
}
type Deferred = { [DEFERRED]?: Step[]; [ALONG]?: Along[]; [SEND_NOW]?: () => void };

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
  const along: Along[] = [];
  // The first failure of a pipeline sent by sendDeferred, which nobody waits for: what the transaction failed of
  // (what follows it on the connection only answers "current transaction is aborted", and a COMMIT after it
  // answers ROLLBACK without an error).
  let backgroundFailure: { err: unknown } | undefined;
  // One pipeline on the connection at a time: the next is handed to pg once the one before is answered
  // (pg queues a query issued while another runs, but deprecates doing so). Awaited, it is also the end of
  // every pipeline sent so far.
  let inFlight: Promise<unknown> = Promise.resolve();
  const send = (steps: Step[]): Promise<QueryResult[]> => {
    const sent = inFlight.then(() => pipeline(client, steps));
    inFlight = sent.catch(() => undefined);
    return sent;
  };
  client.query = ((text: unknown, values?: unknown[]) => {
    if (typeof text !== 'string') return (plain as (...a: unknown[]) => unknown).call(client, text, values);
    const steps: Step[] = [];
    if (startPending) steps.push({ text: 'START TRANSACTION' });
    startPending = false;
    // A statement after deferred ones: they go first, in order, in the same round trip; reads waiting for
    // the next statement go right after it.
    steps.push(...deferred.splice(0), { text, values });
    const main = steps.length - 1;
    const riding = along.splice(0);
    steps.push(...riding.map((a) => a.step));
    return send(steps).then(
      (results) => {
        riding.forEach((a, i) => a.settle(results[main + 1 + i]));
        return results[main];
      },
      (err) => {
        const cause = backgroundFailure ? backgroundFailure.err : err;
        for (const a of riding) a.settle(undefined, cause);
        throw cause;
      },
    );
  }) as PoolClient['query'];
  (runner.manager as Deferred)[DEFERRED] = deferred;
  (runner.manager as Deferred)[ALONG] = along;
  (runner.manager as Deferred)[SEND_NOW] = () => {
    if (deferred.length === 0) return;
    const steps = [...(startPending ? [{ text: 'START TRANSACTION' }] : []), ...deferred.splice(0)];
    startPending = false;
    send(steps).catch((err: unknown) => (backgroundFailure ??= { err }));
  };
  const direct = directQuery(runner, client);
  if (direct) Object.assign(runner, { query: direct });
  try {
    await transactionEvent(runner, 'beforeTransactionStart');
    Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
    await transactionEvent(runner, 'afterTransactionStart');
    let out: T;
    try {
      out = await work(runner.manager);
      await inFlight;
      if (backgroundFailure) throw backgroundFailure.err;
    } catch (err) {
      deferred.length = 0;
      if (backgroundFailure) {
        await inFlight;
        throw backgroundFailure.err;
      }
      // Nothing was sent: there is no transaction to roll back.
      if (startPending) Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
      throw err;
    }
    if (startPending && deferred.length === 0) {
      Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
      return out;
    }
    await transactionEvent(runner, 'beforeTransactionCommit');
    // Reads nobody sent a statement after: nobody waits for them any more (they would only be answered).
    for (const a of along.splice(0)) a.settle(undefined, new Error('the transaction committed before the statement was sent'));
    const steps = [...(startPending ? [{ text: 'START TRANSACTION' }] : []), ...deferred.splice(0), { text: 'COMMIT' }];
    startPending = false;
    await send(steps);
    Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
    await transactionEvent(runner, 'afterTransactionCommit');
    return out;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    delete (client as { query?: unknown }).query;
    if (client.query !== plain) client.query = plain;
    if (direct) delete (runner as { query?: unknown }).query;
    await runner.release();
  }
}

type TransactionEventName = 'beforeTransactionStart' | 'afterTransactionStart' | 'beforeTransactionCommit' | 'afterTransactionCommit';

/**
 * What `runner.broadcaster.broadcast(...)` does for a transaction event — each subscriber that has the method,
 * in order, given the same event object, its promises awaited together — without the broadcaster's string
 * lookup, result object and two awaits when no subscriber returns a promise (none of ours does). Four a
 * transaction: they were 2-3 % of a chain event's main-thread time (backbone-throughput.ts profile).
 */
function transactionEvent(runner: QueryRunner, method: TransactionEventName): Promise<unknown> | undefined {
  let pending: Promise<unknown>[] | undefined;
  for (const subscriber of runner.connection.subscribers as EntitySubscriberInterface[]) {
    const fn = subscriber[method];
    if (typeof fn !== 'function') continue;
    const result = (fn as (e: TransactionCommitEvent) => unknown).call(subscriber, { connection: runner.connection, queryRunner: runner, manager: runner.manager });
    if (result instanceof Promise) (pending ??= []).push(result);
  }
  return pending && Promise.all(pending);
}

/**
 * The runner's `query` for a pipelined transaction: what TypeORM's PostgresQueryRunner.query does — refuse
 * once released, log the statement, shape the answer (rows; [rows, count] for UPDATE and DELETE; the
 * structured QueryResult when asked), wrap a failure in QueryFailedError after logging it — without what
 * nobody here uses: the before/after-query broadcasts (two result objects and two awaits a statement), the
 * connect() it already has and the clock reads for a slow-query log that is off. Undefined, so TypeORM's own
 * runs, when a subscriber listens to queries or a slow-query threshold is set.
 */
function directQuery(runner: QueryRunner, client: PoolClient): QueryRunner['query'] | undefined {
  const connection = runner.connection;
  if ((connection.options as { maxQueryExecutionTime?: number }).maxQueryExecutionTime) return undefined;
  if ((connection.subscribers as EntitySubscriberInterface[]).some((s) => s.beforeQuery || s.afterQuery)) return undefined;
  const logger = connection.logger;
  return (async (query: string, parameters?: unknown[], useStructuredResult = false) => {
    if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
    logger.logQuery(query, parameters, runner);
    let raw: QueryResult;
    try {
      raw = await client.query(query, parameters);
    } catch (err) {
      logger.logQueryError(err as Error, query, parameters, runner);
      throw new QueryFailedError(query, parameters, err as Error);
    }
    const result = new TypeOrmQueryResult();
    if (!raw) return result;
    if (Object.prototype.hasOwnProperty.call(raw, 'rows')) result.records = raw.rows;
    if (Object.prototype.hasOwnProperty.call(raw, 'rowCount')) result.affected = raw.rowCount as number;
    result.raw = raw.command === 'DELETE' || raw.command === 'UPDATE' ? [raw.rows, raw.rowCount] : raw.rows;
    return useStructuredResult ? result : result.raw;
  }) as QueryRunner['query'];
}

/**
 * Sends a read in the same round trip as the next statement of `manager`'s pipelined transaction, right after
 * it (so under the row locks that statement takes), and answers its rows when that round trip is back;
 * undefined when the manager's transaction is not a pipelined one (the caller reads as usual). If the
 * statement before it fails, so does the read; a caller that never awaits it (it refused the request after
 * that statement) leaves nothing pending.
 */
export function readAlongWithNext<R>(manager: EntityManager, text: string, values: unknown[]): Promise<R[]> | undefined {
  const along = (manager as Deferred)[ALONG];
  if (!along || manager.queryRunner?.isReleased) return undefined;
  const rows = new Promise<R[]>((resolve, reject) =>
    along.push({ step: { text, values }, settle: (result, err) => (err !== undefined || !result ? reject(err) : resolve(result.rows as R[])) }),
  );
  rows.catch(() => undefined);
  return rows;
}

/**
 * A write whose result nobody reads: sent with the next statement or the COMMIT of `manager`'s pipelined
 * transaction (deferToCommit), or at once in any other. Its errors then surface with that statement or the
 * COMMIT, which roll the transaction back all the same.
 */
export async function queryOrDefer(manager: EntityManager, text: string, values: unknown[]): Promise<void> {
  if (!deferToCommit(manager, text, values)) await manager.query(text, values);
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

/**
 * Sends the statements deferred so far in `manager`'s pipelined transaction now, in one round trip, and
 * returns without waiting for PostgreSQL to run them: the caller goes on computing while they run. Their
 * failure fails the transaction's next statement or its COMMIT (with their own error). False when the
 * manager's transaction is not a pipelined one.
 */
export function sendDeferred(manager: EntityManager): boolean {
  const send = (manager as Deferred)[SEND_NOW];
  if (!send || manager.queryRunner?.isReleased) return false;
  send();
  return true;
}

/**
 * `manager` seen by code that only writes: its `query` hands each statement to the transaction's pipeline
 * (deferToCommit) and answers no rows, or runs it at once outside a pipelined transaction. For writers
 * whose results nobody reads (a capture's chunk: links, batches, custody, holdings, outbox), so that a
 * chunk's writes leave in one round trip (sendDeferred) rather than one each.
 */
export function deferringWrites(manager: EntityManager): EntityManager {
  if (!(manager as Deferred)[DEFERRED]) return manager;
  return Object.create(manager, {
    query: {
      value: async (text: string, values?: unknown[]) => {
        if (deferToCommit(manager, text, values ?? [])) return [];
        return manager.query(text, values);
      },
    },
  }) as EntityManager;
}

const AFTER_COMMIT = Symbol('hooks run when the transaction commits');
type WithHooks = { [AFTER_COMMIT]?: Map<unknown, () => void> };

/** Runs the hooks of a transaction once its outermost COMMIT went through (a savepoint's release is not one). */
const commitHooks: EntitySubscriberInterface = {
  afterTransactionCommit({ queryRunner }: TransactionCommitEvent) {
    if (queryRunner.isTransactionActive) return;
    const data = queryRunner.data as WithHooks;
    const hooks = data[AFTER_COMMIT];
    delete data[AFTER_COMMIT];
    for (const hook of hooks?.values() ?? []) {
      try {
        hook();
      } catch {
        // A hook only signals (wakes a relay): what committed stays committed, and the caller gets its answer.
      }
    }
  },
  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent) {
    if (!queryRunner.isTransactionActive) delete (queryRunner.data as WithHooks)[AFTER_COMMIT];
  },
};

/**
 * Runs `hook` (synchronously, after the fact) once the transaction `manager` belongs to has committed; not at
 * all if it rolls back. Answers false when `manager` is not in a transaction. For signals that must not go out
 * before the data they announce is visible, and must not cost the transaction a statement (a relay's wake-up).
 * Hooks given the same `key` in one transaction run once (the first one given): a transaction that appends to
 * an outbox three times wakes its relay once.
 */
export function afterCommit(manager: EntityManager, hook: () => void, key: unknown = Symbol()): boolean {
  const runner = manager.queryRunner as (QueryRunner & { data: WithHooks }) | undefined;
  if (!runner?.isTransactionActive) return false;
  const subscribers = runner.connection.subscribers as EntitySubscriberInterface[];
  if (!subscribers.includes(commitHooks)) subscribers.push(commitHooks);
  const hooks = (runner.data[AFTER_COMMIT] ??= new Map());
  if (!hooks.has(key)) hooks.set(key, hook);
  return true;
}
