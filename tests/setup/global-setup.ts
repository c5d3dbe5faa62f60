/* Jest loads global setup outside its module registry, where the @trace/* path
   aliases do not resolve: relative imports are the only option here. */
/* eslint-disable @nx/enforce-module-boundaries */
import { execSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../libs/platform/src/embedded-postgres';
import { createLogger } from '../../libs/platform/src/logging';
import { assertTestDatabase } from '../../libs/testing/src/env';

/**
 * Finds the services the integration and e2e tiers talk to. URLs from the
 * environment win (CI starts PostgreSQL, Redis and the Kafka test broker and
 * exports them). Otherwise: containers where a Docker engine runs, and
 * embedded PostgreSQL where it does not, so `npm test` works on a laptop.
 */
export default async function globalSetup(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  if (!process.env.DATABASE_URL) {
    if (dockerRuns()) {
      const { GenericContainer, Wait } = await import('testcontainers');
      const pg = await new GenericContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_PASSWORD: 'test', POSTGRES_DB: 'test' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
        .start();
      g.__PG_CONTAINER__ = pg;
      process.env.DATABASE_URL = `postgres://postgres:test@${pg.getHost()}:${pg.getMappedPort(5432)}/test`;
      if (!process.env.REDIS_URL) {
        const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
        g.__REDIS_CONTAINER__ = redis;
        process.env.REDIS_URL = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}/0`;
      }
    }
    if (!process.env.DATABASE_URL && (await reachable('postgres://postgres@127.0.0.1:5432/test'))) {
      process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
    }
    if (!process.env.DATABASE_URL) {
      const dir = mkdtempSync(join(tmpdir(), 'trace-test-pg-'));
      chmodSync(dir, 0o755); // as root, PostgreSQL's own user must be able to enter it
      const db = await startEmbeddedPostgres(join(dir, 'pg'), 55_000 + Math.floor(Math.random() * 5000), createLogger('warn'));
      g.__EMBEDDED_PG__ = db;
      process.env.DATABASE_URL = db.url.replace(/\/trace$/, '/trace_test');
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query('CREATE DATABASE trace_test');
      await admin.end();
    }
  }
  assertTestDatabase(process.env.DATABASE_URL);
  if (!process.env.REDIS_URL && (await redisAnswers('127.0.0.1', 6379))) process.env.REDIS_URL = 'redis://127.0.0.1:6379/15';
  console.log(`\n[test services] DATABASE_URL=${redact(process.env.DATABASE_URL)} REDIS_URL=${process.env.REDIS_URL ?? '(none)'} KAFKA_BROKERS=${process.env.KAFKA_BROKERS ?? '(per-test mock cluster)'}`);
}

function redact(url: string) {
  return url.replace(/:\/\/([^:@]+):[^@]+@/, '://$1:***@');
}

function dockerRuns(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function reachable(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

async function redisAnswers(host: string, port: number): Promise<boolean> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: 1000 }, () => {
      s.write('PING\r\n');
    });
    s.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      s.destroy();
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      resolve(false);
      s.destroy();
    });
  });
}
