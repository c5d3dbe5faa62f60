import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { dropSchemas, freePort, KafkaMockCluster, sharedKafka, testDatabaseUrl, uniquePrefix } from '@trace/testing';

const ROOT = resolve(__dirname, '../..');
// Inside the repository, so the compiled files resolve node_modules as in the image.
const OUT = resolve(ROOT, '.data/dist-e2e');

/**
 * What the container image runs (Dockerfile): libs and services compiled by
 * scripts/build-dist.js, started with plain `node`, no TypeScript at run
 * time. No Docker engine here, so this checks the image's payload directly.
 */
describe('the image payload (precompiled JavaScript)', () => {
  let cluster: KafkaMockCluster | undefined;
  const prefix = uniquePrefix('e2edist');

  beforeAll(() => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'scripts/build-dist.js'), OUT], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^compiled \d+ files/);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await dropSchemas(testDatabaseUrl(), prefix);
    rmSync(OUT, { recursive: true, force: true });
  });

  it('starts a compiled service with node alone, ready on /health/ready, and stops it on SIGTERM', async () => {
    const real = await sharedKafka(prefix);
    if (!real) cluster = await KafkaMockCluster.start();
    const brokers = real ? real.brokers.join(',') : cluster!.bootstrap;
    const port = await freePort();
    const child = spawn(process.execPath, [resolve(OUT, 'services/agri/src/main.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: testDatabaseUrl(),
        DB_SCHEMA_PREFIX: prefix,
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: real?.topicPrefix ?? '',
        KAFKA_IDEMPOTENT: real ? 'true' : 'false',
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/15',
        JWT_SECRET: 'image-dist-secret-0123456789abcdef0123',
        IDENTITY_URL: 'http://127.0.0.1:9',
        NODE_ENV: 'production',
      },
    });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    child.stderr.on('data', (d) => (logs += d));
    // 'close', not 'exit': the output is read to its end first.
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.once('close', (code, signal) => r(signal ?? code)));
    try {
      let ready = false;
      for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      if (!ready) throw new Error(`compiled agri did not become ready:\n${logs.slice(-3000)}`);
      const docs = (await fetch(`http://127.0.0.1:${port}/docs-json`).then((r) => r.json())) as { paths: Record<string, unknown> };
      expect(Object.keys(docs.paths)).toContain('/v1/agri/batches');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe('SIGTERM');
    expect(logs).toContain('outbox flushed before shutdown');
  }, 180_000);

  it('compiles the one-shot topic job the compose file runs', () => {
    const r = spawnSync(process.execPath, [resolve(OUT, 'scripts/create-topics.js')], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('KAFKA_BROKERS is required');
  });
});
