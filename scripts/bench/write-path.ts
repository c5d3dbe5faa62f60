/**
 * The write path against the database's own rate: `POST /v1/agri/batches/{id}/events`
 * and `POST /v1/agri/batches` over HTTP to the real `npm start` process
 * (embedded mode) on the test PostgreSQL, each next to a plain autocommit
 * INSERT from `pg` (one row of about the same size, one round trip) measured
 * right after it in the same run, at 1 and 16 concurrent clients, rounds
 * alternating app and baseline so the load of the shared machine falls on both.
 *
 *   node scripts/run.js scripts/bench/write-path.ts
 *   # BENCH_SECONDS (5 per scenario), BENCH_ROUNDS (3), BENCH_BATCHES (64 batches the events go to, round robin),
 *   # BENCH_CONCURRENCY (1,16), BENCH_CPU_PROF=FILE.cpuprofile (the app's CPU profile of the run)
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *
 * Each client is a closed loop (next request when the answer came), keep-alive
 * (`node:http`, see `call`), on loopback. Events are `storing` at the producer's own location on batches
 * it holds (each client on its own batches, so 16 clients are not 16 waiters
 * on one row lock). The app is started with count-statements.js preloaded:
 * statements/request is every statement the process sent during a scenario
 * (request path, delivery through the outbox and inbox, relay polling)
 * divided by the requests answered.
 *
 * Beside the app, two ceilings (support/insert-ceiling.ts), each driven the same way beside its own plain
 * INSERT: a bare `node:http` server and a bare Nest app whose one route writes the baseline's row in one
 * autocommit INSERT and does nothing else. Every route of the app does at least what they do, so their
 * ratios bound what any write route of this stack can reach on this machine (BENCH_CEILINGS=0: without them).
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { TokenService } from '@trace/platform';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { cpuMs, sysMs, threadCpuMs } from './support/measure';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-write-path-secret-0123456789abcdef';
const GTIN = '09506000134352';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 64);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number);
/** BENCH_CEILINGS=0 leaves out the two ceiling servers (support/insert-ceiling.ts). */
const CEILINGS = process.env.BENCH_CEILINGS !== '0';
/** A file: the app's CPU profile of the whole run (.cpuprofile, for Chrome's DevTools), written before it stops. */
const CPU_PROF = process.env.BENCH_CPU_PROF;

interface Measure {
  scenario: string;
  c: number;
  requests: number;
  errors: number;
  rate: number;
  p50: number;
  p99: number;
  statementsPerRequest?: number;
  /** The app process's CPU (user + system) per request answered, delivery of what it wrote included: what the load of the machine moves least. */
  cpuMsPerRequest?: number;
  /** Of which the kernel's (system time): the socket writes and reads, mostly. */
  sysMsPerRequest?: number;
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] : NaN);
const r2 = (n: number) => Math.round(n * 100) / 100;

/** `c` closed loops calling `once(worker, i)` for `seconds`; rate and latency percentiles. */
async function drive(scenario: string, c: number, seconds: number, once: (worker: number, i: number) => Promise<boolean>): Promise<Measure> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        const t = performance.now();
        if (await once(w, i)) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { scenario, c, requests: latencies.length, errors, rate: Math.round(latencies.length / elapsed), p50: r2(pct(latencies, 50)), p99: r2(pct(latencies, 99)) };
}

/**
 * The load generator's client: Node's `http` with keep-alive sockets. It shares the two cores with the app and
 * the database, so it must cost little: `fetch` (undici) took 0.46–0.73 ms of CPU a request here against the
 * ceiling server (1.6 ms cold), `http.request` 0.10–0.24, and at c16 `fetch` alone held every server under
 * about 1,750 requests/s.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: { id: string } }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(path, base);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolvePromise({ status: res.statusCode as number, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string } });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function must(base: string, token: string, method: string, path: string, body?: unknown) {
  const r = await call(base, token, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** The app's statement count so far (count-statements.js answers SIGUSR2 on stderr). */
async function statements(proc: ServiceProcess): Promise<number> {
  const seen = proc.output.length;
  proc.child.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const line = proc.output
      .slice(seen)
      .join('')
      .match(/STATEMENTS (\d+)/);
    if (line) return Number(line[1]);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the app did not report its statement count');
}

/** BENCH_LOG_STATEMENTS=1: what the scenario sent, by the statement's first words, per request answered (most first). */
function printStatements(log: string, requests: number): void {
  const kinds = new Map<string, number>();
  for (const m of log.matchAll(/^STATEMENT (.*)$/gm)) {
    const kind = m[1].slice(0, 60);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  for (const [kind, n] of [...kinds].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${r2(n / Math.max(1, requests)).toFixed(2)}  ${kind}`);
}

async function main() {
  const prefix = uniquePrefix('benchwrite');
  const port = await freePort();
  const proc = ServiceProcess.spawn(
    'embedded',
    'services/embedded/src/main.ts',
    {
      DATABASE_URL: testDatabaseUrl(),
      DB_SCHEMA_PREFIX: prefix,
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      OPENAPI_ENABLED: 'false',
      NODE_OPTIONS: `--require ${resolve(__dirname, 'count-statements.js')}`,
      ...(CPU_PROF ? { BENCH_CPU_PROF_FILE: resolve(CPU_PROF) } : {}),
      ...(process.env.BENCH_LOG_STATEMENTS === '1' ? { BENCH_LOG_STATEMENTS: '1' } : {}),
    },
    port,
  );
  const plain: Client[] = [];
  const ceilings: ServiceProcess[] = [];
  const measures: Measure[] = [];
  try {
    await proc.ready(120_000);
    const base = proc.url;
    const tokens = new TokenService(SECRET);
    const as = async (orgId: string, role: 'admin' | 'operator') => (await tokens.sign({ clientId: `${role}-bench`, orgId, role })).token;
    const admin = await as('platform', 'admin');
    const farm = await must(base, admin, 'POST', '/v1/orgs', { name: 'Bench Farm', kind: 'producer' });
    const f = await as(farm.id, 'operator');
    const field = (await must(base, f, 'POST', '/v1/locations', { name: 'Bench Farm field', kind: 'farm', region: 'CN-37' })).id;
    await must(base, f, 'POST', '/v1/agri/products', { gtin: GTIN, name: 'Cherry tomatoes', category: 'vegetable' });
    const producedAt = new Date(Date.now() - 86_400_000).toISOString();
    const batches: string[] = [];
    for (let i = 0; i < BATCHES; i++) {
      batches.push((await must(base, f, 'POST', '/v1/agri/batches', { gtin: GTIN, lot: `SEED-${i}`, quantity: { value: 100, unit: 'kg' }, producedAt, locationId: field })).id);
    }
    const eventBody = { bizStep: 'storing', eventTime: new Date(Date.now() - 60_000).toISOString(), locationId: field };

    // The baseline's table: about the row an event writes, primary key and one index, autocommit.
    const setup = new Client({ connectionString: testDatabaseUrl() });
    await setup.connect();
    await setup.query(`CREATE SCHEMA "${prefix}bench"`);
    await setup.query(`CREATE TABLE "${prefix}bench".plain_rows (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), batch_id uuid NOT NULL, kind text NOT NULL,
                        event_time timestamptz NOT NULL, content jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await setup.query(`CREATE INDEX ON "${prefix}bench".plain_rows (batch_id)`);
    await setup.end();
    // The warm-up drives 4 clients whatever BENCH_CONCURRENCY says.
    for (let i = 0; i < Math.max(4, ...CONCURRENCY); i++) {
      const c = new Client({ connectionString: testDatabaseUrl() });
      await c.connect();
      plain.push(c);
    }
    const plainInsert = async (w: number, i: number, kind: string) => {
      await plain[w].query(`INSERT INTO "${prefix}bench".plain_rows (batch_id, kind, event_time, content) VALUES ($1, $2, $3, $4)`, [
        batches[(w + i * 16) % batches.length],
        kind,
        eventBody.eventTime,
        JSON.stringify({ ...eventBody, gtin: GTIN, lot: `L-${w}-${i}`, quantity: { value: 100, unit: 'kg' } }),
      ]);
      return true;
    };

    // The ceilings: the same plain row written by an HTTP server that does nothing else (see
    // support/insert-ceiling.ts). What they reach over their plain INSERT, no route of this stack can pass here.
    if (CEILINGS) {
      for (const kind of ['http', 'nest'] as const) {
        const ceiling = ServiceProcess.spawn(`ceiling-${kind}`, 'scripts/bench/support/insert-ceiling.ts', { CEILING: kind, TABLE: `"${prefix}bench".plain_rows`, DATABASE_URL: testDatabaseUrl() }, await freePort());
        ceilings.push(ceiling);
        await ceiling.ready(60_000);
      }
    }
    const ceilingRow = (w: number, i: number) => ({
      batchId: batches[(w + i * 16) % batches.length],
      kind: 'ceiling',
      eventTime: eventBody.eventTime,
      content: { ...eventBody, gtin: GTIN, lot: `C-${w}-${i}`, quantity: { value: 100, unit: 'kg' } },
    });

    let lot = 0;
    const scenarios: { name: string; proc: ServiceProcess; app: (w: number, i: number) => Promise<boolean>; baseline: (w: number, i: number) => Promise<boolean> }[] = [
      {
        name: 'POST /v1/agri/batches/{id}/events',
        proc,
        app: async (w: number, i: number) => (await call(base, f, 'POST', `/v1/agri/batches/${batches[(w + i * 16) % batches.length]}/events`, eventBody)).status === 201,
        baseline: (w: number, i: number) => plainInsert(w, i, 'event'),
      },
      {
        name: 'POST /v1/agri/batches',
        proc,
        app: async () =>
          (await call(base, f, 'POST', '/v1/agri/batches', { gtin: GTIN, lot: `B-${lot++}`, quantity: { value: 100, unit: 'kg' }, producedAt, locationId: field })).status === 201,
        baseline: (w: number, i: number) => plainInsert(w, i, 'batch'),
      },
      ...ceilings.map((ceiling) => ({
        name: `ceiling: ${ceiling.name === 'ceiling-http' ? 'node:http' : 'Nest (Express)'} + one INSERT`,
        proc: ceiling,
        app: async (w: number, i: number) => (await call(ceiling.url, f, 'POST', '/rows', ceilingRow(w, i))).status === 201,
        baseline: (w: number, i: number) => plainInsert(w, i, 'ceiling'),
      })),
    ];
    // Warm-up: JIT, pools, plans (not measured).
    for (const s of scenarios) {
      await drive('warm-up', 4, Math.min(2, SECONDS), s.app);
      await drive('warm-up', 4, Math.min(1, SECONDS), s.baseline);
    }
    const idleFrom = await statements(proc);
    await new Promise((r) => setTimeout(r, 2000));
    const idlePerSecond = ((await statements(proc)) - idleFrom) / 2;

    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CONCURRENCY) {
        for (const s of scenarios) {
          // A ceiling sends one statement a request and delivers nothing: only the app is counted and waited for.
          const isApp = s.proc === proc;
          const pid = s.proc.child.pid as number;
          const before = isApp ? await statements(proc) : 0;
          const logFrom = proc.output.length;
          const cpuBefore = cpuMs(pid);
          const sysBefore = sysMs(pid);
          const threadsBefore = process.env.BENCH_THREADS === '1' ? threadCpuMs(pid) : undefined;
          const a = await drive(s.name, c, SECONDS, s.app);
          // Delivery of what the scenario wrote finishes after it: wait for the relay before counting.
          if (isApp) await new Promise((r) => setTimeout(r, 1000));
          a.statementsPerRequest = isApp ? r2(((await statements(proc)) - before - idlePerSecond) / Math.max(1, a.requests)) : 1;
          a.cpuMsPerRequest = r2((cpuMs(pid) - cpuBefore) / Math.max(1, a.requests));
          a.sysMsPerRequest = r2((sysMs(pid) - sysBefore) / Math.max(1, a.requests));
          if (threadsBefore) {
            const spent = [...threadCpuMs(pid)].map(([name, ms]) => `${name} ${r2((ms - (threadsBefore.get(name) ?? 0)) / Math.max(1, a.requests))}`);
            console.log(`THREADS c${c} ${s.name} (CPU ms per request by thread): ${spent.join(', ')}`);
          }
          if (isApp && process.env.BENCH_LOG_STATEMENTS === '1') printStatements(proc.output.slice(logFrom).join(''), a.requests);
          const b = await drive(`plain INSERT (baseline of ${s.name})`, c, SECONDS, s.baseline);
          measures.push(a, b);
          console.log(
            `round ${round + 1} c${c} ${s.name}: ${a.rate}/s p99 ${a.p99} ms (${a.errors} errors, ${a.statementsPerRequest} statements/request, ${a.cpuMsPerRequest} ms app CPU/request, of which system ${a.sysMsPerRequest}) | plain INSERT ${b.rate}/s p99 ${b.p99} ms | ratio ${r2(a.rate / b.rate)}`,
          );
        }
      }
    }

    console.log(
      `\n${SECONDS} s per scenario, ${ROUNDS} rounds, ${BATCHES} batches, Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, idle ${idlePerSecond} statements/s\n`,
    );
    console.log('| scenario | c | round | req/s | p50 ms | p99 ms | errors | statements/request | app CPU ms/request | baseline req/s | baseline p99 ms | rate ratio | p99 ratio (app/baseline) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const apps = measures.filter((_, i) => i % 2 === 0);
    apps.forEach((a, k) => {
      const b = measures[2 * k + 1];
      const round = Math.floor(k / (CONCURRENCY.length * scenarios.length)) + 1;
      console.log(`| ${a.scenario} | ${a.c} | ${round} | ${a.rate} | ${a.p50} | ${a.p99} | ${a.errors} | ${a.statementsPerRequest} | ${a.cpuMsPerRequest} | ${b.rate} | ${b.p99} | ${r2(a.rate / b.rate)} | ${r2(a.p99 / b.p99)} |`);
    });
    const failed = apps.filter((a) => a.errors > 0 || a.requests === 0);
    if (failed.length) throw new Error(`scenarios with failed requests: ${failed.map((a) => `${a.scenario} c${a.c} (${a.errors})`).join(', ')}`);
    // For scripts/bench/all.ts: the median round of each scenario and concurrency.
    for (const s of scenarios) {
      for (const c of CONCURRENCY) {
        const pairs = apps.map((a, k) => [a, measures[2 * k + 1]] as const).filter(([a]) => a.scenario === s.name && a.c === c);
        const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
        const row = (what: string, value: number, baseline: number, unit: string, better: 'higher' | 'lower') =>
          console.log(`BENCH_RESULT ${JSON.stringify({ benchmark: `${s.name}, c${c}, ${what}`, value, baseline, unit, better })}`);
        row('rate vs plain INSERT', med(pairs.map(([a]) => a.rate)), med(pairs.map(([, b]) => b.rate)), 'req/s', 'higher');
        row('p99 vs plain INSERT', med(pairs.map(([a]) => a.p99)), med(pairs.map(([, b]) => b.p99)), 'ms', 'lower');
        // The app against the framework's own ceiling in the same rounds: how much of what Nest leaves it, it uses.
        const nest = apps.filter((a) => a.scenario.startsWith('ceiling: Nest') && a.c === c);
        if (s.proc === proc && nest.length) row('rate vs the Nest + one INSERT ceiling', med(pairs.map(([a]) => a.rate)), med(nest.map((a) => a.rate)), 'req/s', 'higher');
      }
    }
    if (CPU_PROF) {
      const seen = proc.output.length;
      proc.child.kill('SIGWINCH');
      for (let i = 0; i < 500 && !/CPU_PROFILE/.test(proc.output.slice(seen).join('')); i++) await new Promise((r) => setTimeout(r, 20));
      console.log(`CPU profile: ${CPU_PROF}`);
    }
  } finally {
    agent.destroy();
    await Promise.all(plain.map((c) => c.end().catch(() => undefined)));
    await Promise.all(ceilings.map((c) => c.stop('SIGTERM').catch(() => undefined)));
    await proc.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
