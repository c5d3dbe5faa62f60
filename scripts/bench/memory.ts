/**
 * Memory of the `npm start` process (issue 14 item 6; scripts/start.js, the
 * sources compiled ahead, as npm start runs them): its resident set idle,
 * after a load of registrations, chain events and consumer scans, and at its
 * peak, beside a bare Node process (an `http` server with nothing in it) as
 * the baseline: what Node itself costs before the app adds anything.
 * PostgreSQL is the test database (DATABASE_URL), not the embedded one, so
 * only the app is counted.
 *
 *   node scripts/run.js scripts/bench/memory.ts [batches=2000] [eventsPerBatch=10] [scansPerBatch=20]
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
 *   # TRACE_MAX_OLD_SPACE_MB=N: npm start's heap cap (default 192; a --max-old-space-size in NODE_OPTIONS does not override the script's)
 *   # BENCH_APP_NODE_OPTIONS: other Node options for the app
 *
 * Target (issue 14): the app ≤ 300 MB after load.
 */
import { spawn } from 'node:child_process';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { TokenService } from '@trace/platform';
import { memoryOf } from './support/measure';

const SECRET = 'bench-memory-secret-0123456789abcdef0123';
const GTIN = '09506000134352';
const CONCURRENCY = 16;
const [batches, eventsPerBatch, scansPerBatch] = [2000, 10, 20].map((d, i) => Number(process.argv[3 + i] ?? d));

async function call(base: string, token: string | undefined, method: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** What the app's heap holds (prom-client's Node metrics on /metrics), in MB: live objects versus what RSS shows. */
async function heapOf(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const metric = (name: string) => Math.round(Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 104857.6) / 10;
  return {
    heapUsedMb: metric('nodejs_heap_size_used_bytes'),
    heapTotalMb: metric('nodejs_heap_size_total_bytes'),
    externalMb: metric('nodejs_external_memory_bytes'),
    // A metric labelled by something unbounded (a raw path) grows here, one series per value.
    metricsLines: text.split('\n').length,
  };
}

/** Runs `work(i)` for i < n, CONCURRENCY at a time. */
async function pool(n: number, work: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await work(next++);
  }));
}

/** The baseline: a bare Node http server, idle and after answering as many requests as the app got. */
async function bareNode(requests: number) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('{}')).listen(${port}, '127.0.0.1', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = memoryOf(child.pid!);
    await pool(requests, () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()));
    return { idle, after: memoryOf(child.pid!) };
  } finally {
    child.kill('SIGTERM');
  }
}

async function main() {
  const prefix = uniquePrefix('benchmem');
  const proc = ServiceProcess.spawnNpmStart(
    { DATABASE_URL: testDatabaseUrl(), DB_SCHEMA_PREFIX: prefix, JWT_SECRET: SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production', SCAN_RATE_LIMIT: '100000000', ...(process.env.BENCH_APP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS } : {}), ...(process.env.TRACE_MAX_OLD_SPACE_MB ? { TRACE_MAX_OLD_SPACE_MB: process.env.TRACE_MAX_OLD_SPACE_MB } : {}) },
    await freePort(),
  );
  try {
    await proc.ready(120_000);
    // Settled start-up: the graph loaded, the relays listening.
    await new Promise((r) => setTimeout(r, 3000));
    const idle = memoryOf(proc.child.pid!);
    const tokens = new TokenService(SECRET);
    const admin = (await tokens.sign({ clientId: 'admin-bench', orgId: 'platform', role: 'admin' })).token;
    const farm = await call(proc.url, admin, 'POST', '/v1/orgs', { name: 'Memory Farm', kind: 'producer' });
    const f = (await tokens.sign({ clientId: 'operator-bench', orgId: farm.id, role: 'operator' })).token;
    const field = (await call(proc.url, f, 'POST', '/v1/locations', { name: 'Memory Farm field', kind: 'farm', region: 'CN-37' })).id;
    await call(proc.url, f, 'POST', '/v1/agri/products', { gtin: GTIN, name: 'Cherry tomatoes', category: 'grain' });
    const started = Date.now();
    const ids: string[] = [];
    await pool(batches, async (i) => {
      const b = await call(proc.url, f, 'POST', '/v1/agri/batches', {
        gtin: GTIN, lot: `MEM-${i}`, quantity: { value: 100, unit: 'kg' }, producedAt: '2026-11-20T08:00:00+08:00', locationId: field,
      });
      ids[i] = b.id;
    });
    await pool(batches * eventsPerBatch, (i) =>
      call(proc.url, f, 'POST', `/v1/agri/batches/${ids[i % batches]}/events`, { bizStep: 'storing', eventTime: new Date().toISOString(), locationId: field }),
    );
    await pool(batches * scansPerBatch, (i) => call(proc.url, undefined, 'GET', `/01/${GTIN}/10/MEM-${i % batches}`));
    const after = memoryOf(proc.child.pid!);
    const heap = await heapOf(proc.url);
    const requests = batches * (1 + eventsPerBatch + scansPerBatch);
    const bare = await bareNode(requests);
    const report = { batches, events: batches * eventsPerBatch, scans: batches * scansPerBatch, loadSeconds: Math.round((Date.now() - started) / 100) / 10, app: { idle, after, heap }, bareNode: bare };
    console.log(JSON.stringify(report));
    const row = (benchmark: string, value: number, baseline: number) =>
      console.log(`BENCH_RESULT ${JSON.stringify({ benchmark, value, unit: 'MB', baseline, better: 'lower' })}`);
    row('memory, app RSS idle (baseline: bare Node)', idle.rssMb, bare.idle.rssMb);
    row(`memory, app RSS after ${requests} requests (baseline: bare Node after as many)`, after.rssMb, bare.after.rssMb);
    row('memory, app peak RSS (baseline: the 300 MB target)', after.peakMb, 300);
  } finally {
    await proc.stop('SIGTERM').catch(() => proc.stop('SIGKILL'));
    await dropSchemas(testDatabaseUrl(), prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
