import type { PoolClient, QueryResult } from 'pg';
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
