/**
 * EPCIS capture throughput: one 10,000-event document through
 * POST /v1/epcis/capture of the embedded app (every service module in one
 * process, local PostgreSQL), timed from the request to the job's end.
 *
 *   node scripts/run.js scripts/bench/epcis-capture.ts
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *   # BENCH_EVENTS=10000 BENCH_LOTS=1000 BENCH_MODE=rollback|proceed|both (default both)
 *   # OUTBOX_BATCH_SIZE (the relay's claim, default 200)
 *   # BENCH_TARGET=npm-start: against `npm start` in a process of its own (compiled ahead, its heap cap
 *   #   TRACE_MAX_OLD_SPACE_MB, default 192, and pool), not the app in this process; prints its RSS
 *   # BENCH_STALLS=50: each event-loop stall over 50 ms as STALL <from µs> <to µs> (run under node --cpu-prof),
 *   #   each pass as PHASE <mode>-first|<mode>-again <from µs> <to µs>, and the delivery after the jobs as PHASE delivery <from µs> <to µs>
 *
 * The document: BENCH_LOTS lots commissioned (ObjectEvent ADD with a
 * quantity), then shipping/receiving/storing/inspecting ObjectEvent OBSERVE
 * events spread over them, a sensor reading on every fifth, until
 * BENCH_EVENTS; 20 % of the lots are food made from an agri lot
 * (TransformationEvent across domains). Every event lands on a trace chain
 * (hash-chained, outbox row, de-duplication key). The same document is then
 * captured again to time the pure de-duplication path.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'pg';
import { ALL_SERVICE_MODULES } from '@trace/embedded';
import { validateEpcis } from '@trace/epcis';
import { createHostApp, EmbeddedTransport } from '@trace/messaging';
import { createLogger, loadConfig, Metrics, TokenService } from '@trace/platform';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { cpuMs, memoryOf, postgresCpuMs } from './support/measure';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const LOTS = Number(process.env.BENCH_LOTS ?? 1_000);
/** in-process (default): the app in this process; npm-start: `npm start` in its own process. */
const TARGET = process.env.BENCH_TARGET ?? 'in-process';
const MODES = (process.env.BENCH_MODE ?? 'both') === 'both' ? ['rollback', 'proceed'] : [process.env.BENCH_MODE as string];
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
const STEPS = [
  ['shipping', 'in_transit'],
  ['receiving', 'in_progress'],
  ['storing', 'sellable_not_accessible'],
  ['inspecting', 'conformant'],
] as const;

function documentOf(tag: string) {
  const events: Record<string, unknown>[] = [];
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const at = (n: number) => new Date(t0 + n * 1000).toISOString();
  const location = { id: 'urn:epc:id:sgln:9506000.13435.0' };
  const agriLots = Math.ceil(LOTS * 0.8);
  for (let i = 0; i < agriLots && events.length < EVENTS; i++) {
    events.push({
      type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active', eventTime: at(events.length), eventTimeZoneOffset: '+00:00',
      quantityList: [{ epcClass: `https://id.gs1.org/01/${AGRI_GTIN}/10/${tag}A${i}`, quantity: 1000, uom: 'KGM' }], bizLocation: location,
    });
  }
  for (let i = 0; i < LOTS - agriLots && events.length < EVENTS; i++) {
    events.push({
      type: 'TransformationEvent', bizStep: 'commissioning', eventTime: at(events.length), eventTimeZoneOffset: '+00:00',
      inputQuantityList: [{ epcClass: `https://id.gs1.org/01/${AGRI_GTIN}/10/${tag}A${i % agriLots}`, quantity: 10, uom: 'KGM' }],
      outputQuantityList: [{ epcClass: `https://id.gs1.org/01/${FOOD_GTIN}/10/${tag}F${i}`, quantity: 9, uom: 'KGM' }], bizLocation: location,
    });
  }
  for (let n = 0; events.length < EVENTS; n++) {
    const [bizStep, disposition] = STEPS[n % STEPS.length];
    const lot = n % 5 === 4 ? `${tag}F${n % (LOTS - agriLots)}` : `${tag}A${n % agriLots}`;
    const gtin = lot.startsWith(`${tag}F`) ? FOOD_GTIN : AGRI_GTIN;
    events.push({
      type: 'ObjectEvent', action: 'OBSERVE', bizStep, disposition, eventTime: at(events.length), eventTimeZoneOffset: '+00:00',
      quantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/${lot}` }], readPoint: location, bizLocation: location,
      ...(n % 5 === 0 ? { sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 4 + (n % 3), uom: 'CEL', time: at(events.length) }] }] } : {}),
    });
  }
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events },
  };
}

/**
 * BENCH_STALLS=MS: prints `STALL <from µs> <to µs>` for every turn of the event loop that kept a 1 ms
 * timer waiting longer than MS, on the clock of a CPU profile (`node --cpu-prof`), to cut it with
 * `node scripts/bench/cpu-profile-top.js PROFILE <from µs> <to µs>` and see what held the loop.
 */
function stallWatch(): { stop(): void } {
  const limit = Number(process.env.BENCH_STALLS ?? 0) * 1000;
  if (!limit) return { stop() {} };
  let last = process.hrtime.bigint();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const gap = Number(now - last) / 1000;
    if (gap > limit) console.log(`  STALL ${(Number(last) / 1000).toFixed(0)} ${(Number(now) / 1000).toFixed(0)} (${(gap / 1000).toFixed(0)} ms)`);
    last = now;
  }, 1);
  return { stop: () => clearInterval(timer) };
}

/** `npm start` on the test database (the app compiled ahead, its heap cap and pool), answering on a port of its own. */
async function startNpmStart(url: string, prefix: string): Promise<ServiceProcess> {
  const proc = ServiceProcess.spawnNpmStart(
    {
      DATABASE_URL: url, DB_SCHEMA_PREFIX: prefix, JWT_SECRET: SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production',
      ...(process.env.TRACE_MAX_OLD_SPACE_MB ? { TRACE_MAX_OLD_SPACE_MB: process.env.TRACE_MAX_OLD_SPACE_MB } : {}),
      ...(process.env.OUTBOX_BATCH_SIZE ? { OUTBOX_BATCH_SIZE: process.env.OUTBOX_BATCH_SIZE } : {}),
    },
    await freePort(),
  );
  await proc.ready(180_000);
  return proc;
}

/** The app's resident set now and at its peak, for the log line. */
function appRss(pid: number): string {
  const { rssMb, peakMb } = memoryOf(pid);
  return `${Math.round(rssMb)} MB (peak ${Math.round(peakMb)} MB)`;
}

async function main() {
  const prefix = uniquePrefix('bench');
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  const url = testDatabaseUrl();
  const config = loadConfig(
    {
      DATABASE_URL: url, DB_SCHEMA_PREFIX: prefix, DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '3', JWT_SECRET: SECRET, NODE_ENV: 'test',
      ...(process.env.OUTBOX_BATCH_SIZE ? { OUTBOX_BATCH_SIZE: process.env.OUTBOX_BATCH_SIZE } : {}),
    },
    { RUN_MODE: 'embedded' },
  );
  // npm-start: the app as `npm start` runs it (compiled ahead, its heap cap, its pool), in a process of its own.
  const started = TARGET === 'npm-start' ? await startNpmStart(url, prefix) : undefined;
  const app = started
    ? undefined
    : await createHostApp({
        name: 'bench', config, logger: createLogger('warn'), modules: ALL_SERVICE_MODULES, transport: new EmbeddedTransport(), metrics: new Metrics(false), shutdownHooks: false,
      });
  await app?.listen(0, '127.0.0.1');
  const base = started?.url ?? `http://127.0.0.1:${(app?.getHttpServer().address() as { port: number }).port}`;
  /** The app's CPU seconds so far: this process's, or npm start's from /proc. */
  const appCpuSeconds = () => {
    if (started) return cpuMs(started.child.pid as number) / 1000;
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const postgresCpuSeconds = () => postgresCpuMs() / 1000;
  const tokens = new TokenService(SECRET);
  const auth = async (orgId: string, role: 'admin' | 'operator') => ({ authorization: `Bearer ${(await tokens.sign({ clientId: `${role}-bench`, orgId, role })).token}` });
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const r = await fetch(`${base}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown>, location: r.headers.get('location') };
  };
  try {
    const org = (await call('POST', '/v1/orgs', await auth('platform', 'admin'), { name: 'Bench Mill', kind: 'processor' })).body;
    const op = await auth(org.id as string, 'operator');
    await call('POST', '/v1/agri/products', op, { gtin: AGRI_GTIN, name: 'Wheat', category: 'grain' });
    await call('POST', '/v1/food/products', op, { gtin: FOOD_GTIN, name: 'Flour', category: 'flour' });
    console.log(`EPCIS capture benchmark: ${EVENTS} events over ${LOTS} lots, embedded app (${started ? 'npm start, its own process' : 'in this process'}), PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}`);
    for (const mode of MODES) {
      const doc = documentOf(mode[0].toUpperCase());
      const body = JSON.stringify(doc);
      let t = performance.now();
      const errors = validateEpcis(doc);
      console.log(`  [${mode}] document ${(body.length / 1e6).toFixed(1)} MB; schema validation alone ${(performance.now() - t).toFixed(0)} ms (${errors.length} errors)`);
      for (const pass of ['first capture', 'same document again (all duplicates)']) {
        t = performance.now();
        const passFrom = process.hrtime.bigint();
        // The app's CPU: what the machine's load moves least.
        const cpu0 = appCpuSeconds();
        const pg0 = postgresCpuSeconds();
        // The app shares this process's event loop: how long a capture keeps it from anything else (a scan, a health check).
        const loop = monitorEventLoopDelay({ resolution: 10 });
        loop.enable();
        const stalls = stallWatch();
        const r = await fetch(`${base}/v1/epcis/capture`, { method: 'POST', headers: { ...op, 'content-type': 'application/ld+json', 'GS1-Capture-Error-Behaviour': mode }, body });
        const accepted = performance.now() - t;
        const location = r.headers.get('location');
        if (r.status !== 202 || !location) throw new Error(`capture: ${r.status} ${await r.text()}`);
        let job: Record<string, unknown>;
        let polls = 0;
        for (;;) {
          job = (await call('GET', location, op)).body;
          if (!job.running) break;
          polls++;
          await new Promise((res) => setTimeout(res, 100));
        }
        const total = (performance.now() - t) / 1000;
        const cpu = appCpuSeconds() - cpu0;
        const pgCpu = postgresCpuSeconds() - pg0;
        loop.disable();
        stalls.stop();
        if (!job.success) throw new Error(`job failed: ${JSON.stringify(job.errors).slice(0, 500)}`);
        if (process.env.BENCH_STALLS) console.log(`  PHASE ${mode}-${pass.startsWith('first') ? 'first' : 'again'} ${(Number(passFrom) / 1000).toFixed(0)} ${(Number(process.hrtime.bigint()) / 1000).toFixed(0)}`);
        console.log(
          `  [${mode}] ${pass}: 202 after ${accepted.toFixed(0)} ms, job done in ${total.toFixed(1)} s → ${(EVENTS / total).toFixed(0)} events/s, app CPU ${cpu.toFixed(1)} s, PostgreSQL CPU ${pgCpu.toFixed(1)} s` +
            (started ? `, app RSS ${appRss(started.child.pid as number)} ` : `, event loop blocked up to ${(loop.max / 1e6).toFixed(0)} ms (p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms) `) +
            `(progress polled ${polls}×, last ${JSON.stringify(job.progress)})`,
        );
      }
    }
    const pg = new Client({ connectionString: url });
    await pg.connect();
    // The relay delivers the captured events to lineage (and the scan) after the job: how long until all are through.
    const t = performance.now();
    const deliveryFrom = process.hrtime.bigint();
    const cpu0 = appCpuSeconds();
    const pg0 = postgresCpuSeconds();
    let pendingAtEnd: number | undefined;
    let lineageDone: number | undefined;
    // Events of the two outboxes on the topics lineage consumes that lineage's inbox does not hold yet: exact,
    // but it reads both outboxes whole (payloads and all), 30 ms of PostgreSQL's CPU a time. Polled every 100 ms it
    // took a third of a core from the delivery it measures, so it is asked only once the inbox has as many rows on
    // those topics as the outboxes have events (the outboxes are complete once the jobs ended).
    const topics = `(SELECT DISTINCT topic FROM "${prefix}lineage".inbox)`;
    const outboxes = `(SELECT event_id, topic FROM "${prefix}agri".outbox UNION ALL SELECT event_id, topic FROM "${prefix}food".outbox)`;
    const notInLineage = `
      SELECT count(*)::int AS n FROM ${outboxes} o
       WHERE o.topic IN ${topics} AND NOT EXISTS (SELECT 1 FROM "${prefix}lineage".inbox i WHERE i.event_id = o.event_id)`;
    const expected = (await pg.query(`SELECT topic, count(*)::int AS n FROM ${outboxes} o GROUP BY topic`)).rows as { topic: string; n: number }[];
    const inLineage = async () => {
      const held = (await pg.query(`SELECT topic, count(*)::int AS n FROM "${prefix}lineage".inbox GROUP BY topic`)).rows as { topic: string; n: number }[];
      return held.length > 0 && held.every((h) => h.n >= (expected.find((e) => e.topic === h.topic)?.n ?? 0));
    };
    for (;;) {
      const pending = await Promise.all(['agri', 'food'].map(async (d) => (await pg.query(`SELECT count(*)::int AS n FROM "${prefix}${d}".outbox WHERE sent_at IS NULL`)).rows[0].n as number));
      pendingAtEnd ??= pending[0] + pending[1];
      if (lineageDone === undefined && (await inLineage()) && (await pg.query(notInLineage)).rows[0].n === 0) lineageDone = performance.now() - t;
      if (lineageDone !== undefined && pending.every((n) => n === 0)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const cpu = appCpuSeconds() - cpu0;
    if (process.env.BENCH_STALLS) console.log(`  PHASE delivery ${(Number(deliveryFrom) / 1000).toFixed(0)} ${(Number(process.hrtime.bigint()) / 1000).toFixed(0)}`);
    console.log(
      `  lineage had every event ${((lineageDone as number) / 1000).toFixed(1)} s after the last job ended; the outboxes were drained to every consumer ` +
        `(lineage, gateway, recall) after ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(${pendingAtEnd} events still to deliver then; app CPU ${cpu.toFixed(1)} s, PostgreSQL CPU ${(postgresCpuSeconds() - pg0).toFixed(1)} s)`,
    );
    const [agri, food] = await Promise.all(['agri', 'food'].map(async (d) => (await pg.query(`SELECT count(*)::int AS n FROM "${prefix}${d}".trace_events`)).rows[0].n));
    await pg.end();
    console.log(`  chain events stored: agri ${agri}, food ${food}`);
  } finally {
    await app?.close();
    await started?.stop('SIGTERM').catch(() => started.stop('SIGKILL'));
    await dropSchemas(url, prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
