/**
 * Lineage trace benchmark: a million batches, two million input edges, ten
 * levels, generated in a throw-away schema of a test database; then the real
 * lineage service (LineageModule: migrations, LineageIndex, TraceQuery — the
 * code path behind GET /v1/trace) loads it and answers traces.
 *
 *   node scripts/run.js scripts/bench/lineage-trace.ts
 *
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test;
 * the database name must contain "test"), BENCH_NODES (default 1000000),
 * BENCH_TRACES (default 2000), BENCH_WINDOW (default 40), BENCH_HTTP (requests
 * over HTTP, default 1000; 0 skips), BENCH_SQL_BASELINE (recursive-CTE traces
 * for comparison, default 200; 0 skips). Results: scripts/bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Global, Module } from '@nestjs/common';
import { Client } from 'pg';
import { createHostApp, EmbeddedTransport, MESSAGING_MIGRATIONS } from '@trace/messaging';
import {
  createLogger,
  createServiceDataSource,
  DIRECTORY,
  type Directory,
  initializeServiceDatabase,
  loadConfig,
  Metrics,
  TokenService,
  type Principal,
} from '@trace/platform';
import { LINEAGE_MIGRATIONS, LineageIndex, LineageModule, TraceQuery, type Direction } from '@trace/service-lineage';
import { assertTestDatabase } from '@trace/testing';

/** LineageModule's FSMA export asks DIRECTORY for names (the gateway in production); traces never do, so an empty one. */
@Global()
@Module({ providers: [{ provide: DIRECTORY, useValue: { organisation: async () => undefined, location: async () => undefined, organisationByGln: async () => undefined } satisfies Directory }], exports: [DIRECTORY] })
class NoDirectoryModule {}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_NODES ?? 1_000_000);
const LEVELS = 10;
const WIDTH = Math.floor(N / LEVELS);
const TRACES = Number(process.env.BENCH_TRACES ?? 2000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 40);
const HTTP_REQUESTS = Number(process.env.BENCH_HTTP ?? 1000);
const SQL_BASELINE = Number(process.env.BENCH_SQL_BASELINE ?? 200);
const DEPTH = 10;

const log = (msg: string) => process.stdout.write(`${msg}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const since = (t0: number) => performance.now() - t0;

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}
const fmt = (xs: number[]) => {
  const p = percentiles(xs);
  return `p50 ${p.p50.toFixed(3)}  p95 ${p.p95.toFixed(3)}  p99 ${p.p99.toFixed(3)}  max ${p.max.toFixed(3)} ms`;
};

/** Generates the graph with set-based SQL: no row leaves the database. */
async function generate(db: Client, schema: string): Promise<void> {
  await db.query(`SET search_path = "${schema}"`);
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query(`SET work_mem = '256MB'`);
  await db.query(`SELECT setseed(0.42)`);
  // A random-looking v4 UUID per integer, so edges can name their ends by number.
  await db.query(`
    CREATE FUNCTION bench_uuid(i int) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT overlay(overlay(md5('bench' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$`);

  // Bulk loading into bare tables and indexing once is several times faster
  // than maintaining the indexes row by row; the definitions are the
  // migration's own, read back from the catalog and re-applied unchanged.
  const constraints = (
    await db.query<{ tbl: string; name: string; def: string }>(
      `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = $1::regnamespace AND contype = 'p'`,
      [schema],
    )
  ).rows.filter((c) => /lineage_/.test(c.tbl));
  const indexes = (
    await db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
        WHERE schemaname = $1 AND tablename LIKE 'lineage%' AND indexname NOT LIKE '%_pkey'`,
      [schema],
    )
  ).rows;
  for (const i of indexes) await db.query(`DROP INDEX "${schema}"."${i.name}"`);
  for (const c of constraints) await db.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT "${c.name}"`);

  // A bulk load: the tables' triggers (the NOTIFY, the node change log) are for replicas catching up, and the
  // graph is loaded from the tables after this.
  await db.query('ALTER TABLE lineage_nodes DISABLE TRIGGER USER');
  let t0 = performance.now();
  // Ten layers; layer 0 is raw produce. Domains follow the layer, mixed, so most edges cross domains.
  await db.query(
    `INSERT INTO lineage_nodes (batch_id, domain, gtin, lot, registered, status, status_seq, owner_org_id, holder_org_id,
                                custody_seq, registered_at)
     SELECT bench_uuid(i),
            (ARRAY['agri','food','drug','material','goods'])[1 + ((i / $2) + (i % 3)) % 5],
            '0950600' || lpad((i % 5000)::text, 7, '0'),
            'L' || i,
            true,
            CASE WHEN i % 97 = 0 THEN 'recalled' WHEN i % 89 = 0 THEN 'destroyed' ELSE 'active' END,
            CASE WHEN i % 97 = 0 OR i % 89 = 0 THEN 4 ELSE 0 END,
            'org-' || ((i * 31) % 20000),
            CASE WHEN i % 10 < 3 THEN 'org-' || ((i * 17) % 20000) ELSE 'org-' || ((i * 31) % 20000) END,
            CASE WHEN i % 10 < 3 THEN 3 ELSE 0 END,
            now()
       FROM generate_series(0, $1 - 1) i`,
    [WIDTH * LEVELS, WIDTH],
  );
  log(`  nodes      ${since(t0).toFixed(0)} ms`);
  await db.query('ALTER TABLE lineage_nodes ENABLE TRIGGER USER');

  // Each batch of layer L > 0 is made of 2 or 3 batches of layer L-1 near its
  // own position (a window of ±WINDOW): supply chains are regional, so a
  // typical batch reaches a few hundred others within ten levels, not the world.
  t0 = performance.now();
  await db.query(
    `INSERT INTO lineage_edges (from_batch, to_batch, kind)
     SELECT bench_uuid(src), bench_uuid(dst), 'input'
       FROM (SELECT DISTINCT (n.layer - 1) * $2 + (((n.pos + o.off) % $2) + $2) % $2 AS src, n.i AS dst
               FROM (SELECT i, i / $2 AS layer, i % $2 AS pos, CASE WHEN random() < 0.235 THEN 3 ELSE 2 END AS k
                       FROM generate_series($2, $1 - 1) i) n,
                    LATERAL (SELECT floor(random() * (2 * $3 + 1))::int - $3 AS off FROM generate_series(1, n.k)) o) e`,
    [WIDTH * LEVELS, WIDTH, WINDOW],
  );
  log(`  edges      ${since(t0).toFixed(0)} ms`);

  t0 = performance.now();
  await db.query(
    `INSERT INTO lineage_custody (batch_id, org_id)
     SELECT batch_id, owner_org_id FROM lineage_nodes
     UNION ALL
     SELECT batch_id, holder_org_id FROM lineage_nodes WHERE holder_org_id <> owner_org_id`,
  );
  log(`  custody    ${since(t0).toFixed(0)} ms`);

  // Holdings (issue 18): every batch's holders with a quantity each, as a recall scope reads them; the
  // owner holds the rest, another organisation 30 % of the batches' quantity where custody moved.
  t0 = performance.now();
  if ((await db.query(`SELECT to_regclass('lineage_holdings') AS t`)).rows[0].t) {
    await db.query(
      `INSERT INTO lineage_holdings (batch_id, seq, unit, holdings)
       SELECT batch_id, custody_seq, 'kg',
              CASE WHEN holder_org_id = owner_org_id
                   THEN jsonb_build_array(jsonb_build_object('orgId', owner_org_id, 'quantity', 1000, 'inTransit', 0, 'received', 1000))
                   ELSE jsonb_build_array(jsonb_build_object('orgId', owner_org_id, 'quantity', 700, 'inTransit', 0, 'received', 1000),
                                          jsonb_build_object('orgId', holder_org_id, 'quantity', 300, 'inTransit', 0, 'received', 300)) END
         FROM lineage_nodes`,
    );
    log(`  holdings   ${since(t0).toFixed(0)} ms`);
  }

  t0 = performance.now();
  for (const c of constraints) await db.query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`);
  for (const i of indexes) await db.query(i.def);
  log(`  indexes    ${since(t0).toFixed(0)} ms`);
  t0 = performance.now();
  await db.query('VACUUM (ANALYZE) lineage_nodes');
  await db.query('VACUUM (ANALYZE) lineage_edges');
  await db.query('VACUUM (ANALYZE) lineage_custody');
  if ((await db.query(`SELECT to_regclass('lineage_holdings') AS t`)).rows[0].t) await db.query('VACUUM (ANALYZE) lineage_holdings');
  // Write the bulk load out now rather than in a checkpoint during the measurements (needs superuser or pg_checkpoint).
  await db.query('CHECKPOINT').catch(() => undefined);
  log(`  analyze    ${since(t0).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  assertTestDatabase(URL_);
  const prefix = `bench${randomBytes(3).toString('hex')}_`;
  const schema = `${prefix}lineage`;
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig(
    { DATABASE_URL: URL_, DB_SCHEMA_PREFIX: prefix, DB_POOL_SIZE: '4', JWT_SECRET: secret, NODE_ENV: 'test' },
    { RUN_MODE: 'embedded' },
  );
  const db = new Client({ connectionString: URL_ });
  await db.connect();
  log(`lineage trace benchmark: ${WIDTH * LEVELS} batches in ${LEVELS} levels, window ±${WINDOW}, schema ${schema}`);
  log(`node ${process.version}, ${(await db.query('SHOW server_version')).rows[0].server_version} PostgreSQL`);

  let app: Awaited<ReturnType<typeof createHostApp>> | undefined;
  try {
    // The service's own schema and migrations, as its start-up makes them; the
    // graph is generated into it before the service starts, so the index load
    // measured below is the real start-up path.
    const migrate = createServiceDataSource({
      service: 'lineage',
      url: URL_,
      schemaPrefix: prefix,
      poolSize: 2, // one holds the migration lock, one migrates
      entities: [],
      migrations: [...MESSAGING_MIGRATIONS, ...LINEAGE_MIGRATIONS],
    });
    await initializeServiceDatabase(migrate);
    await migrate.destroy();

    log('generating (SQL, in the database):');
    let t0 = performance.now();
    await generate(db, schema);
    const counts = (
      await db.query(`SELECT (SELECT count(*) FROM lineage_nodes)::int AS nodes, (SELECT count(*) FROM lineage_edges)::int AS edges,
                             (SELECT count(*) FROM lineage_custody)::int AS custody`)
    ).rows[0];
    log(`  total      ${(since(t0) / 1000).toFixed(1)} s: ${counts.nodes} nodes, ${counts.edges} edges, ${counts.custody} custody rows`);

    gc();
    const before = process.memoryUsage();
    t0 = performance.now();
    app = await createHostApp({
      name: 'bench',
      config,
      logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
      modules: [NoDirectoryModule, LineageModule],
      transport: new EmbeddedTransport(),
      metrics: new Metrics(false),
      shutdownHooks: false,
    });
    const index = app.get(LineageIndex);
    const query = app.get(TraceQuery);
    await index.current(600_000); // loaded at start-up, in the background of a ready app
    const ready = since(t0);
    gc();
    const after = process.memoryUsage();
    const load = index.lastLoad;
    if (!load) throw new Error('the index did not report its load');
    log(`index load   ${(load.ms / 1000).toFixed(2)} s (${load.nodes} nodes in ${(load.nodesMs / 1000).toFixed(2)} s, ${load.edges} edges in ${(load.edgesMs / 1000).toFixed(2)} s); app start to loaded graph ${(ready / 1000).toFixed(2)} s`);
    log(
      `memory       graph ${mb(load.graphBytes)} (typed arrays + interned strings); process heap+arrayBuffers +${mb(
        after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers,
      )} with the Nest app; rss ${mb(after.rss)}`,
    );

    const roots = (
      await db.query<{ batch_id: string; domain: string; owner_org_id: string }>(
        `SELECT batch_id, domain, owner_org_id FROM lineage_nodes ORDER BY random() LIMIT $1`,
        [TRACES],
      )
    ).rows;
    const inspector: Principal = { clientId: 'bench', orgId: 'agency', role: 'inspector' };
    const run = async (as: (r: (typeof roots)[number]) => Principal, direction: Direction = 'both') => {
      const ms: number[] = [];
      const withJson: number[] = [];
      const nodes: number[] = [];
      const edges: number[] = [];
      for (const r of roots) {
        const t = performance.now();
        const answer = await query.trace({ domain: r.domain, batchId: r.batch_id, direction, depth: DEPTH }, as(r));
        const traced = performance.now();
        JSON.stringify(answer);
        withJson.push(performance.now() - t);
        ms.push(traced - t);
        nodes.push(answer.nodes.length);
        edges.push(answer.edges.length);
      }
      return { ms, withJson, nodes, edges };
    };
    // Warm-up: JIT and caches.
    for (const r of roots.slice(0, 300)) await query.trace({ domain: r.domain, batchId: r.batch_id, direction: 'both', depth: DEPTH }, inspector);

    const insp = await run(() => inspector);
    const nodeStats = percentiles(insp.nodes);
    log(`\n${TRACES} traces, depth ${DEPTH}, direction both, random roots (TraceQuery.trace, in the service):`);
    log(`  nodes/trace  median ${nodeStats.p50}  p95 ${nodeStats.p95}  max ${nodeStats.max};  edges/trace median ${percentiles(insp.edges).p50}`);
    log(`  inspector    ${fmt(insp.ms)}`);
    log(`  + JSON       ${fmt(insp.withJson)}`);
    const op = await run((r) => ({ clientId: 'bench', orgId: r.owner_org_id, role: 'operator' }));
    log(`  operator     ${fmt(op.ms)}   (adds the lineage_custody probe)`);
    const down = await run(() => inspector, 'downstream');
    log(`  downstream   ${fmt(down.ms)}   (nodes median ${percentiles(down.nodes).p50}, max ${percentiles(down.nodes).max})`);

    if (HTTP_REQUESTS > 0) {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const { token } = await new TokenService(secret).sign({ clientId: 'bench', orgId: 'agency', role: 'inspector' });
      const http: number[] = [];
      const sample = roots.slice(0, HTTP_REQUESTS);
      const warm = sample.slice(0, 100);
      for (const [n, r] of [...warm, ...sample].entries()) {
        const t = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/v1/trace/${r.domain}/${r.batch_id}?direction=both&depth=${DEPTH}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        if (n >= warm.length) http.push(performance.now() - t); // the first ones warm up
      }
      log(`  HTTP         ${fmt(http)}   (${http.length} GETs over loopback, same process: Nest, auth, JSON, client)`);
    }

    // Catching up on what other replicas commit.
    t0 = performance.now();
    await index.catchUp();
    log(`\ncatch-up     idle ${since(t0).toFixed(1)} ms`);
    await db.query(
      `INSERT INTO lineage_nodes (batch_id, domain, gtin, lot, registered, owner_org_id, holder_org_id)
       SELECT bench_uuid(i), 'food', '09506000000000', 'NEW' || i, true, 'org-1', 'org-1' FROM generate_series($1, $1 + 9999) i`,
      [WIDTH * LEVELS],
    );
    await db.query(
      `INSERT INTO lineage_edges (from_batch, to_batch, kind)
       SELECT bench_uuid(i - $1 + $2), bench_uuid(i), 'input' FROM generate_series($1, $1 + 9999) i
       UNION ALL SELECT bench_uuid(i - $1 + $2 + 1), bench_uuid(i), 'input' FROM generate_series($1, $1 + 9999) i`,
      [WIDTH * LEVELS, WIDTH * (LEVELS - 1)],
    );
    t0 = performance.now();
    await index.catchUp();
    const g = await index.current();
    log(`catch-up     10,000 nodes + 20,000 edges from "another replica": ${since(t0).toFixed(0)} ms (graph now ${g.nodes} nodes, ${g.edges} edges)`);

    if (SQL_BASELINE > 0) {
      // For comparison only: the recursive CTE the controller used before (both walks, then the nodes).
      const cte: number[] = [];
      const walk = (near: string, far: string) =>
        `WITH RECURSIVE walk(from_batch, to_batch, kind, depth) AS (
           SELECT from_batch, to_batch, kind, 1 FROM lineage_edges WHERE ${near} = $1
           UNION
           SELECT e.from_batch, e.to_batch, e.kind, w.depth + 1 FROM lineage_edges e JOIN walk w ON e.${near} = w.${far} WHERE w.depth < $2)
         SELECT DISTINCT from_batch, to_batch, kind FROM walk`;
      for (const r of roots.slice(0, SQL_BASELINE)) {
        const t = performance.now();
        const down = await db.query(walk('from_batch', 'to_batch'), [r.batch_id, DEPTH]);
        const up = await db.query(walk('to_batch', 'from_batch'), [r.batch_id, DEPTH]);
        const ids = [...new Set([r.batch_id, ...[...down.rows, ...up.rows].flatMap((e) => [e.from_batch, e.to_batch])])];
        await db.query('SELECT * FROM lineage_nodes WHERE batch_id = ANY($1::uuid[])', [ids]);
        cte.push(performance.now() - t);
      }
      log(`SQL baseline ${fmt(cte)}   (recursive CTE + covering indexes, ${SQL_BASELINE} of the same roots)`);
    }
  } finally {
    await app?.close();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    log(`dropped schema ${schema}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
