/**
 * Recall propagation, end to end in the embedded app: from `POST /v1/recalls`
 * on a root lot that feeds ~10,000 downstream batches until every batch in
 * scope reads `recalled` in its own service (a `holding`/`recalled` link on
 * its chain, status projected), and, for orientation, until lineage has seen
 * every one of those chain events.
 *
 *   node scripts/run.js scripts/bench/recall-propagation.ts [fanout=100] [levels=2] [runs=3] [embedded|distributed]
 *   # BENCH_WARMUP=1: runs before the counted ones (printed with "warmup": true, left out of the summary)
 *   # DATABASE_URL=postgres://…/some_test_db (default postgres://postgres@127.0.0.1:5432/test)
 *   # embedded also prints cpuMs: the CPU this process (the whole app) spent from the POST until every batch read recalled
 *   # BENCH_TRACE=1: once a second until lineage has every link, on stderr: what lineage has, the unsent
 *   #   outbox rows of each schema that feeds it, and what the database is busy with (pg_stat_activity)
 *   # BENCH_PHASES=1: PHASE recall|lineage <from µs> <to µs> on the clock of node --cpu-prof, to cut a profile at
 *   # distributed: agri, food, lineage, recall and the gateway as their own processes over
 *   # Kafka (KAFKA_BROKERS, else a private librdkafka mock cluster), as tests/e2e do.
 *
 * The graph (1 agri root → `fanout` food batches → `fanout` food batches each:
 * 10,101 batches at the defaults) is written straight into the domain and
 * lineage tables with set-based SQL, each batch with a real one-link chain
 * (commissioning or transforming event hashed as the service hashes it), and
 * lineage catches up on those rows as it does on another replica's writes.
 * Registering ten thousand batches through the API would measure the API, not
 * the recall. Each run recalls a fresh tree, so every run marks every batch.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LineageIndex } from '../../services/lineage/src/lineage-index';
import type { Api } from '../../tests/support/api';
import { startDistributed } from '../../tests/support/distributed';
import { startEmbeddedApp } from '../../tests/support/embedded-app';
import { seedTree, type SeedBatch } from '../../tests/support/seed-tree';
import { anOrg } from '../../tests/support/world';

const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
/** Between two looks at the tables: the times are good to this much. */
const POLL_MS = 20;


/** BENCH_TRACE: where lineage's catching up stands, and what the database runs meanwhile (how a 20 s outlier was found). */
async function traceCatchUp(db: Client, prefix: string, nowMs: number, lineageHas: number): Promise<void> {
  const unsent = ['agri', 'food', 'recall'].map((s) => `(SELECT count(*)::int FROM ${prefix}${s}.outbox WHERE sent_at IS NULL) AS ${s}`).join(', ');
  const [outbox] = (await db.query(`SELECT ${unsent}`)).rows;
  console.error(`TRACE ${Math.round(nowMs)} ms: lineage has ${lineageHas}; unsent outbox rows ${JSON.stringify(outbox)}`);
  const { rows } = await db.query(
    `SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
       FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND state <> 'idle'`,
  );
  for (const a of rows) console.error(`  ${a.state} ${a.wait_event_type ?? '-'}/${a.wait_event ?? '-'} ${a.query}`);
}

async function main() {
  const [fanoutArg, levelsArg, runsArg, modeArg] = process.argv.slice(3);
  const fanout = Number(fanoutArg ?? 100);
  const levels = Number(levelsArg ?? 2);
  const runs = Number(runsArg ?? 3);
  const mode = modeArg === 'distributed' ? 'distributed' : 'embedded';
  // The test harness reads it too; the default is the local test database.
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  const target = mode === 'embedded' ? await embeddedTarget() : await distributedTarget();
  const { prefix, regulator, orgs } = target;
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await db.query('CREATE TEMP TABLE bench_tree (id uuid PRIMARY KEY, domain text NOT NULL)');
  try {
    const results: Record<string, number>[] = [];

    // One warm-up run first, not counted: a service that has been up a while has its code
    // compiled and its connections open; the first recall after a start does not.
    const warmup = Number(process.env.BENCH_WARMUP ?? 1);
    for (let run = 1 - warmup; run <= runs; run++) {
      // The tree: one agri root, then `levels` levels of food batches.
      const tag = randomUUID().slice(0, 8);
      const root: SeedBatch = { id: randomUUID(), domain: 'agri', gtin: AGRI_GTIN, lot: `ROOT-${tag}`, parent: null, parentDomain: null, quantity: 1e6, unit: 'kg' };
      const all: SeedBatch[] = [root];
      let frontier = [root];
      for (let level = 1; level <= levels; level++) {
        const next: SeedBatch[] = [];
        for (const parent of frontier) {
          for (let f = 0; f < fanout; f++) {
            next.push({ id: randomUUID(), domain: 'food', gtin: FOOD_GTIN, lot: `F${level}-${tag}-${next.length}`, parent: parent.id, parentDomain: parent.domain, quantity: 100, unit: 'box' });
          }
        }
        all.push(...next);
        frontier = next;
      }
      const seedStarted = Date.now();
      // One transaction: a replica catching up in between would see half a tree.
      await db.query('BEGIN');
      await seedTree(db, prefix, all, orgs);
      await db.query('COMMIT');
      // The tree's ids once, in this session, for the polls below to join (see recalledCount).
      await db.query('TRUNCATE bench_tree');
      await db.query(`INSERT INTO bench_tree SELECT * FROM unnest($1::uuid[], $2::text[])`, [all.map((b) => b.id), all.map((b) => b.domain)]);
      await db.query('ANALYZE bench_tree');
      // Lineage picks the rows up as another replica's writes (the root is in the table, not yet in the graph).
      await target.catchUp(root.id, all.length, levels);
      const seededMs = Date.now() - seedStarted;

      const started = performance.now();
      const startedUs = Number(process.hrtime.bigint() / BigInt(1000));
      // In embedded mode the app is this process: the CPU it spends until every batch reads recalled is
      // the work done, whatever else the machine runs (the wall times above grow with the load, this barely).
      const cpuAtStart = process.cpuUsage();
      const res = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: root.id }], level: 1, reason: 'benchmark' });
      const createdMs = performance.now() - started;
      if (res.status !== 201) throw new Error(`recall: ${res.status} ${JSON.stringify(res.body)}`);
      const scope = res.body.scope.batches.length as number;
      if (scope !== all.length) throw new Error(`scope has ${scope} batches, expected ${all.length}`);

      let firstRecalledMs = NaN;
      let allRecalledMs = NaN;
      let lineageMs = NaN;
      let tracedSecond = -1;
      let cpuMs = NaN;
      for (;;) {
        const marked = await recalledCount(db, prefix);
        const now = performance.now() - started;
        if (Number.isNaN(firstRecalledMs) && marked > 0) firstRecalledMs = now;
        if (Number.isNaN(allRecalledMs) && marked === all.length) {
          allRecalledMs = now;
          // On the clock of a CPU profile (node --cpu-prof): the windows to cut it at.
          if (process.env.BENCH_PHASES) console.log(`PHASE recall ${startedUs} ${Number(process.hrtime.bigint() / BigInt(1000))}`);
          const cpu = process.cpuUsage(cpuAtStart);
          cpuMs = (cpu.user + cpu.system) / 1000;
        }
        if (!Number.isNaN(allRecalledMs)) {
          const { rows } = await db.query(
            `SELECT count(*)::int AS n FROM ${prefix}lineage.lineage_nodes n JOIN bench_tree t ON t.id = n.batch_id WHERE n.status = 'recalled'`,
          );
          if (process.env.BENCH_TRACE && Math.floor(now / 1000) !== tracedSecond) {
            tracedSecond = Math.floor(now / 1000);
            await traceCatchUp(db, prefix, now, rows[0].n);
          }
          if (rows[0].n === all.length) {
            lineageMs = now;
            if (process.env.BENCH_PHASES) console.log(`PHASE lineage ${startedUs} ${Number(process.hrtime.bigint() / BigInt(1000))}`);
            break;
          }
        }
        if (now > 300_000) throw new Error(`after 300 s only ${marked} of ${all.length} batches are recalled`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const result = { run, batches: all.length, seededMs, createdMs: Math.round(createdMs), firstRecalledMs: Math.round(firstRecalledMs), allRecalledMs: Math.round(allRecalledMs), lineageMs: Math.round(lineageMs), ...(mode === 'embedded' ? { cpuMs: Math.round(cpuMs) } : {}) };
      if (run < 1) {
        console.log(JSON.stringify({ warmup: true, ...result }));
        continue;
      }
      results.push(result);
      console.log(JSON.stringify(result));
    }
    const sorted = (k: string) => results.map((r) => r[k]).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        summary: true,
        mode,
        batches: results[0].batches,
        runs,
        createdMsMedian: sorted('createdMs')[Math.floor(runs / 2)],
        allRecalledMsMedian: sorted('allRecalledMs')[Math.floor(runs / 2)],
        allRecalledMsMax: sorted('allRecalledMs').at(-1),
        lineageMsMedian: sorted('lineageMs')[Math.floor(runs / 2)],
        ...(mode === 'embedded' ? { cpuMsMedian: sorted('cpuMs')[Math.floor(runs / 2)] } : {}),
      }),
    );
  } finally {
    await db.end();
    await target.close();
  }
}

interface Target {
  prefix: string;
  regulator: Api;
  orgs: { farm: { org: string; location: string }; plant: { org: string; location: string } };
  catchUp(rootId: string, batches: number, levels: number): Promise<void>;
  close(): Promise<void>;
}

/** The whole app in this process, as `npm start` runs it. */
async function embeddedTarget(): Promise<Target> {
  // The pool size npm start uses (the test default would serialise the recall's chunks).
  const t = await startEmbeddedApp({ OUTBOX_POLL_MS: '200', DB_POOL_SIZE: '10' });
  const farm = await anOrg(t, 'Bench Farm', 'producer', ['farm']);
  const plant = await anOrg(t, 'Bench Plant', 'processor', ['factory']);
  const authority = await anOrg(t, 'Bench Regulator', 'regulator', []);
  return {
    prefix: t.prefix,
    regulator: t.as(authority.id, 'regulator'),
    orgs: { farm: { org: farm.id, location: farm.locations.farm! }, plant: { org: plant.id, location: plant.locations.factory! } },
    catchUp: () => t.app.get(LineageIndex).catchUp(),
    close: () => t.close(),
  };
}

/** One process per service behind the gateway, over Kafka. */
async function distributedTarget(): Promise<Target> {
  const d = await startDistributed(['agri', 'food', 'lineage', 'recall'], 'benchprop', { env: { food: { DB_POOL_SIZE: '10' }, agri: { DB_POOL_SIZE: '10' } } });
  const admin = d.as('platform', 'admin');
  const org = async (name: string, kind: string, locationKind?: string) => {
    const o = await admin.post('/v1/orgs', { name, kind });
    if (o.status !== 201) throw new Error(`org: ${o.status} ${JSON.stringify(o.body)}`);
    if (!locationKind) return { org: o.body.id as string, location: '' };
    const l = await d.as(o.body.id, 'operator').post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind });
    if (l.status !== 201) throw new Error(`location: ${l.status} ${JSON.stringify(l.body)}`);
    return { org: o.body.id as string, location: l.body.id as string };
  };
  const farm = await org('Bench Farm', 'producer', 'farm');
  const plant = await org('Bench Plant', 'processor', 'factory');
  const authority = await org('Bench Regulator', 'regulator');
  const regulator = d.as(authority.org, 'regulator');
  return {
    prefix: d.prefix,
    regulator,
    orgs: { farm, plant },
    // A trace of a root the graph misses but the table has makes lineage catch up first.
    // Until the trace shows the whole tree (its periodic catch-up may have run first).
    catchUp: async (rootId, batches, levels) => {
      for (let attempt = 0; ; attempt++) {
        const r = await regulator.get(`/v1/trace/agri/${rootId}?direction=downstream&depth=${levels}`);
        if (r.status === 200 && r.body.nodes.length === batches) return;
        if (attempt > 300) throw new Error(`lineage did not catch up: ${r.status} ${r.body?.nodes?.length ?? JSON.stringify(r.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    close: () => d.stop(),
  };
}

/**
 * How many batches of the tree read `recalled` in their domain's table. The
 * ids are in a temporary table (bench_tree), not a parameter: ten thousand
 * UUIDs escaped and sent every poll cost this process (the app's own, in
 * embedded mode) more than a second of CPU per run, which the recall then
 * waited for.
 */
async function recalledCount(db: Client, prefix: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM ${prefix}agri.batches b JOIN bench_tree t ON t.id = b.id WHERE b.status = 'recalled')
          + (SELECT count(*) FROM ${prefix}food.batches b JOIN bench_tree t ON t.id = b.id WHERE b.status = 'recalled') AS n`,
  );
  return Number(rows[0].n);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
