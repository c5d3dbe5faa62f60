/**
 * Consumer scan under load: autocannon on loopback against the real
 * `npm start` process (embedded mode, in-memory cache) on the test PostgreSQL.
 *
 *   node scripts/run.js scripts/bench/scan-load.ts [lots=200] [seconds=10] [connections=10]
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *
 * Scenarios, one after the other against the same data: JSON and the HTML page
 * answered from the cache (every lot scanned twice beforehand, the cache fills
 * from the second scan), then the same process restarted with
 * SCAN_CACHE_TTL_SECONDS=0 so every scan asks the domain services (five
 * lookups, one per domain, then the chain, certificates, samples, directory).
 * Each request picks the next of `lots` lots, each with a certificate and a
 * four-step journey. The rate limit is lifted for the run, and the requests
 * come from 1,000 client addresses in turn (X-Forwarded-For behind one trusted
 * hop), as phones do: the per-address rate-limit log then holds what one
 * address sends, not the whole run (from one address, its sliding log grows
 * to every request of the window and each request scans it).
 *
 * Baseline, in the same run: a bare Node `http` server (bare-server.js) in a
 * process of its own answering the very bytes the app answered (the health
 * body, one scan's JSON, one scan's HTML page) is loaded the same way right
 * after each app scenario, then once more at the rate the app reached
 * (autocannon's overallRate): CPU per request falls as the rate rises, and on
 * a busy machine the app's rate is a fraction of the bare server's. The number
 * compared is CPU (user + system) per request of the serving process: on a
 * shared 2-core machine it moves far less with the load than latency or req/s do.
 * BENCH_SMOKE=1: short warm-ups and settling, for `npm run bench -- --smoke`.
 * SCAN_LOAD_CPU_PROF=DIR: the cached-phase app process writes a V8 CPU profile
 * into DIR at its exit, and each scenario prints `PHASE <name> <from> <to>`
 * (monotonic µs, the profile's clock) so that cpu-profile-top.js can keep
 * just the samples of one scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '@trace/platform';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { load, type LoadRow, type Target } from './support/measure';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-scan-load-secret-0123456789abcdef';
const GTIN = '09506000134352';
const SMOKE = process.env.BENCH_SMOKE === '1';
const PROFILE_DIR = process.env.SCAN_LOAD_CPU_PROF;

async function call(base: string, token: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as { id: string };
  if (r.status >= 300 && r.status !== 409) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function seed(base: string, lots: number): Promise<string[]> {
  const tokens = new TokenService(SECRET);
  const as = async (orgId: string, role: 'admin' | 'operator') => (await tokens.sign({ clientId: `${role}-bench`, orgId, role })).token;
  const admin = await as('platform', 'admin');
  const farm = await call(base, admin, 'POST', '/v1/orgs', { name: 'Bench Farm', kind: 'producer' });
  const shop = await call(base, admin, 'POST', '/v1/orgs', { name: 'Bench Shop', kind: 'retailer' });
  const f = await as(farm.id, 'operator');
  const s = await as(shop.id, 'operator');
  const field = (await call(base, f, 'POST', '/v1/locations', { name: 'Bench Farm field', kind: 'farm', region: 'CN-37' })).id;
  const store = (await call(base, s, 'POST', '/v1/locations', { name: 'Bench Shop store', kind: 'store', region: 'CN-11' })).id;
  await call(base, f, 'POST', '/v1/agri/products', { gtin: GTIN, name: 'Cherry tomatoes', category: 'vegetable' });
  const paths: string[] = [];
  const now = Date.now();
  for (let i = 0; i < lots; i++) {
    const lot = `BENCH-${i}`;
    const b = await call(base, f, 'POST', '/v1/agri/batches', { gtin: GTIN, lot, quantity: { value: 100, unit: 'kg' }, producedAt: new Date(now - 86_400_000).toISOString(), locationId: field });
    await call(base, f, 'POST', `/v1/agri/batches/${b.id}/certificate`, { commitments: ['no_banned_substances'], basis: 'self_test', contact: '13800138000', origin: 'Shouguang' });
    await call(base, f, 'POST', `/v1/agri/batches/${b.id}/events`, { bizStep: 'shipping', eventTime: new Date(now - 3_600_000).toISOString(), locationId: field, toOrgId: shop.id });
    await call(base, s, 'POST', `/v1/agri/batches/${b.id}/events`, { bizStep: 'receiving', eventTime: new Date(now - 1_800_000).toISOString(), locationId: store });
    await call(base, s, 'POST', `/v1/agri/batches/${b.id}/events`, { bizStep: 'retail_selling', eventTime: new Date(now - 600_000).toISOString(), locationId: store });
    paths.push(`/01/${GTIN}/10/${lot}`);
  }
  return paths;
}

/** One scenario: the requests go to the next of `paths` in turn, each from the next of 1,000 client addresses. */
function scan(scenario: string, proc: Target, paths: string[], accept: string, seconds: number, connections: number, overallRate?: number): Promise<LoadRow> {
  let next = 0;
  return load(scenario, proc, {
    seconds,
    connections,
    overallRate,
    headers: { accept, 'accept-language': 'zh-CN,zh;q=0.9' },
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[next % paths.length], headers: { ...req.headers, 'x-forwarded-for': `198.51.${(next >> 8) & 3}.${next++ & 255}` } }) }],
    threads: process.env.SCAN_LOAD_THREADS === '1',
    phases: Boolean(PROFILE_DIR),
  });
}

function start(prefix: string, port: number, cacheTtl: number, profileDir?: string) {
  return ServiceProcess.spawn(
    'embedded',
    'services/embedded/src/main.ts',
    {
      DATABASE_URL: testDatabaseUrl(),
      DB_SCHEMA_PREFIX: prefix,
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      OPENAPI_ENABLED: 'false',
      SCAN_RATE_LIMIT: '100000000',
      TRUST_PROXY_HOPS: '1',
      SCAN_CACHE_TTL_SECONDS: String(cacheTtl),
    },
    port,
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
}

/** The baseline: bare-server.js answering `bytes` (the app's own answers), in a process of its own. */
async function startBare(bytes: Record<'health' | 'scan.json' | 'scan.html', Buffer>): Promise<Target & { stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  for (const [name, body] of Object.entries(bytes)) writeFileSync(join(dir, name), body);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'bare-server.js'), dir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`bare server exited ${code}`)));
    child.stdout!.once('data', () => ready());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const bytesOf = async (url: string, accept: string) => {
  const r = await fetch(url, { headers: { accept, 'accept-language': 'zh-CN,zh;q=0.9' } });
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
};

async function main() {
  const [lotsArg, secondsArg, connArg] = process.argv.slice(3);
  const lots = Number(lotsArg ?? 200);
  const seconds = Number(secondsArg ?? 10);
  const connections = Number(connArg ?? 10);
  const prefix = uniquePrefix('benchscan');
  const rows: LoadRow[] = [];
  const results: { benchmark: string; value: number; baseline: number }[] = [];
  let proc = start(prefix, await freePort(), 300, PROFILE_DIR);
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    await proc.ready(120_000);
    const app = () => ({ url: proc.url, pid: proc.child.pid! });
    console.log(`seeding ${lots} lots…`);
    const paths = await seed(proc.url, lots);
    // Let the relays deliver the seeding events (each one invalidates its lot) before filling the cache.
    await new Promise((r) => setTimeout(r, SMOKE ? 500 : 3000));
    for (let round = 0; round < 2; round++) for (const p of paths) await fetch(`${proc.url}${p}`, { headers: { accept: 'application/json' } });
    const probe = await fetch(`${proc.url}${paths[0]}`, { headers: { accept: 'application/json' } });
    console.log(`cache check: X-Cache=${probe.headers.get('x-cache')}`);
    bare = await startBare({
      health: await bytesOf(`${proc.url}/health/live`, 'application/json'),
      'scan.json': await bytesOf(`${proc.url}${paths[0]}`, 'application/json'),
      'scan.html': await bytesOf(`${proc.url}${paths[0]}`, 'text/html'),
    });
    // JIT and pools warm up first, unmeasured (not in the smoke run, whose numbers mean nothing).
    if (!SMOKE) {
      await scan('warm-up', app(), paths, 'application/json', 3, connections);
      await scan('warm-up', app(), paths, 'text/html', 3, connections);
      await scan('warm-up', bare, paths, 'application/json', 3, connections);
    }
    // Each app scenario, then the bare server on the same requests: side by side, the load of the machine alike.
    for (const [name, scenarioPaths, accept] of [
      ['GET /health/live', ['/health/live'], 'application/json'],
      ['cached scan, JSON', paths, 'application/json'],
      ['cached scan, HTML page', paths, 'text/html'],
    ] as const) {
      const a = await scan(name, app(), [...scenarioPaths], accept, seconds, connections);
      const b = await scan(`bare http server, same bytes as "${name}"`, bare, [...scenarioPaths], accept, seconds, connections);
      // CPU per request falls as the rate rises (more requests per turn of the event loop and per wake-up): on a
      // busy machine the app gets far fewer requests/s than the bare server, so the bare server again at the app's rate.
      const c = await scan(`bare http server at the app's rate (${a.rps}/s), "${name}"`, bare, [...scenarioPaths], accept, seconds, connections, a.rps);
      rows.push(a, b, c);
      results.push({ benchmark: `${name}, server CPU per request`, value: a.cpuMsPerRequest, baseline: b.cpuMsPerRequest });
      results.push({ benchmark: `${name}, server CPU per request, bare server at the app's rate`, value: a.cpuMsPerRequest, baseline: c.cpuMsPerRequest });
    }
    await proc.stop('SIGTERM');

    proc = start(prefix, await freePort(), 0);
    await proc.ready(120_000);
    if (!SMOKE) await scan('warm-up', app(), paths, 'application/json', 3, connections);
    rows.push(await scan('uncached, JSON', app(), paths, 'application/json', seconds, connections));
    rows.push(await scan('uncached, HTML page', app(), paths, 'text/html', seconds, connections));
  } finally {
    bare?.stop();
    await proc.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  }
  console.log(`\n${lots} lots, ${connections} connections, ${seconds} s per scenario, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| scenario | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx/errors | server CPU ms/request | of which system |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.requests} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.non2xx} | ${r.cpuMsPerRequest} | ${r.sysMsPerRequest} |`);
  const failed = rows.filter((r) => r.non2xx > 0 || r.requests === 0);
  if (failed.length) throw new Error(`scenarios with failed requests: ${failed.map((r) => `${r.scenario} (${r.non2xx})`).join(', ')}`);
  // For scripts/bench/all.ts: CPU per request, less is better.
  for (const r of results) console.log(`BENCH_RESULT ${JSON.stringify({ ...r, unit: 'ms CPU', better: 'lower' })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
