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
 * four-step journey. The rate limit is lifted for the run.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { TokenService } from '@trace/platform';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-scan-load-secret-0123456789abcdef';
const GTIN = '09506000134352';

async function call(base: string, token: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as any;
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

interface Row {
  scenario: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  cpuMsPerRequest: number;
}

/** CPU time (user + system) the server process has used so far, in ms: load-independent, unlike latency on a shared machine. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function load(scenario: string, proc: ServiceProcess, paths: string[], accept: string, seconds: number, connections: number): Promise<Row> {
  const base = proc.url;
  let next = 0;
  const cpuBefore = cpuMs(proc.child.pid!);
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    headers: { accept, 'accept-language': 'zh-CN,zh;q=0.9' },
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }],
  });
  return {
    scenario,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx + result.errors + result.timeouts,
    cpuMsPerRequest: Math.round(((cpuMs(proc.child.pid!) - cpuBefore) / result.requests.total) * 100) / 100,
  };
}

function start(prefix: string, port: number, cacheTtl: number) {
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
      SCAN_CACHE_TTL_SECONDS: String(cacheTtl),
    },
    port,
  );
}

async function main() {
  const [lotsArg, secondsArg, connArg] = process.argv.slice(3);
  const lots = Number(lotsArg ?? 200);
  const seconds = Number(secondsArg ?? 10);
  const connections = Number(connArg ?? 10);
  const prefix = uniquePrefix('benchscan');
  const rows: Row[] = [];
  let proc = start(prefix, await freePort(), 300);
  try {
    await proc.ready(120_000);
    console.log(`seeding ${lots} lots…`);
    const paths = await seed(proc.url, lots);
    // Let the relays deliver the seeding events (each one invalidates its lot) before filling the cache.
    await new Promise((r) => setTimeout(r, 3000));
    for (let round = 0; round < 2; round++) for (const p of paths) await fetch(`${proc.url}${p}`, { headers: { accept: 'application/json' } });
    const probe = await fetch(`${proc.url}${paths[0]}`, { headers: { accept: 'application/json' } });
    console.log(`cache check: X-Cache=${probe.headers.get('x-cache')}`);
    // JIT and pools warm up first, unmeasured; then the framework's own cost per request, for scale.
    await load('warm-up', proc, paths, 'application/json', 3, connections);
    rows.push(await load('baseline: GET /health/live (no scan)', proc, ['/health/live'], 'application/json', seconds, connections));
    rows.push(await load('cached, JSON', proc, paths, 'application/json', seconds, connections));
    rows.push(await load('cached, HTML page', proc, paths, 'text/html', seconds, connections));
    await proc.stop('SIGTERM');

    proc = start(prefix, await freePort(), 0);
    await proc.ready(120_000);
    await load('warm-up', proc, paths, 'application/json', 3, connections);
    rows.push(await load('uncached, JSON', proc, paths, 'application/json', seconds, connections));
    rows.push(await load('uncached, HTML page', proc, paths, 'text/html', seconds, connections));
  } finally {
    await proc.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  }
  console.log(`\n${lots} lots, ${connections} connections, ${seconds} s per scenario, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| scenario | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx/errors | server CPU ms/request |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.requests} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.non2xx} | ${r.cpuMsPerRequest} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
