import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { ALL_SERVICE_MODULES } from '@trace/embedded';
import { createHostApp, EmbeddedTransport } from '@trace/messaging';
import { createLogger, loadConfig, Metrics, type Role } from '@trace/platform';
import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { Api } from './api';

export const TEST_JWT_SECRET = 'integration-tests-secret-0123456789abcdef';

export interface EmbeddedTestApp {
  app: INestApplication;
  url: string;
  /** An API client acting as a client of `orgId` with `role`. */
  as(orgId: string, role: Role): Api;
  anonymous: Api;
  /** Schema prefix of this app's services: `${prefix}agri`, `${prefix}lineage`, … */
  prefix: string;
  /** Runs SQL against the test database (for assertions on what was stored). */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
  /** Closes the app but keeps its schemas: another app started with `{ prefix }` carries on where it stopped (a restart). */
  stop(): Promise<void>;
}

/**
 * The whole backend as `npm start` hosts it (every service module, embedded
 * event delivery), in this process, on a random port, in schemas of its own
 * in the test database. Integration tests of the public API use this.
 */
export async function startEmbeddedApp(overrides: Record<string, string> = {}, opts: { prefix?: string } = {}): Promise<EmbeddedTestApp> {
  const prefix = opts.prefix ?? uniquePrefix('app');
  const url = testDatabaseUrl();
  const config = loadConfig(
    {
      DATABASE_URL: url,
      DB_SCHEMA_PREFIX: prefix,
      // Two per service: nine services, and a test may hold two apps at once, within PostgreSQL's default 100 connections.
      DB_POOL_SIZE: '2',
      JWT_SECRET: TEST_JWT_SECRET,
      OUTBOX_POLL_MS: '50',
      NODE_ENV: 'test',
      ...overrides,
    },
    { RUN_MODE: 'embedded' },
  );
  const app = await createHostApp({
    name: 'test',
    config,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    modules: ALL_SERVICE_MODULES,
    transport: new EmbeddedTransport(),
    metrics: new Metrics(false),
    shutdownHooks: false,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  return {
    app,
    url: base,
    as: (orgId, role) => new Api(base).as(TEST_JWT_SECRET, orgId, role),
    anonymous: new Api(base),
    prefix,
    query: async (sql, params) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    close: async () => {
      await app.close();
      await dropSchemas(url, prefix);
    },
    stop: () => app.close(),
  };
}
