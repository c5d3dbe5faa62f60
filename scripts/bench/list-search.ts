/**
 * Lists and search benchmark: a domain's batches list (GET /v1/{domain}/batches)
 * and the cross-domain search (GET /v1/search, from the lineage read model)
 * over BENCH_BATCHES batches (default 1,000,000), generated with set-based SQL
 * in throw-away schemas of a test database that the services' own migrations
 * made. Each page is measured through the service code the controller calls
 * (listBatches; LineageListQuery.search: query building, the query over the
 * service's pool, mapping, cursor and JSON of the answer) and, in the same
 * run, as the bare SQL statement it amounts to over a plain pg client (the
 * baseline).
 *
 *   node scripts/run.js scripts/bench/list-search.ts
 *
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test;
 * the name must contain "test"), BENCH_BATCHES (default 1000000), BENCH_PAGES
 * (measured pages per case, default 500). Results: scripts/bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { MESSAGING_MIGRATIONS } from '@trace/messaging';
import { createServiceDataSource, initializeServiceDatabase, parseListQuery, type Principal } from '@trace/platform';
import { assertTestDatabase, dropSchemas } from '@trace/testing';
import { HOLDINGS_MIGRATIONS } from '../../libs/trace-service/src/holdings/migrations';
import { INSPECTION_MIGRATIONS } from '../../libs/trace-service/src/inspections/migrations';
import { listBatches, BATCH_LIST_FILTERS } from '../../libs/trace-service/src/lists/list-batches';
import { LIST_MIGRATIONS } from '../../libs/trace-service/src/lists/migrations';
import { TRACE_CHAIN_MIGRATIONS } from '../../libs/trace-service/src/migrations';
import { TraceChainTimeOffsets1765000300000 } from '../../libs/trace-service/src/time-offsets.migration';
import { TraceChainEpcisContext1765500061500 } from '../../libs/trace-service/src/epcis-context.migration';
import { LINEAGE_MIGRATIONS } from '../../services/lineage/src/migrations';
import { LineageListQuery } from '../../services/lineage/src/lists/lists.query';

const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_BATCHES ?? 1_000_000);
const PAGES = Number(process.env.BENCH_PAGES ?? 500);
const ORGS = 50;
const GTINS = 1000;

const log = (msg: string) => process.stdout.write(`${msg}\n`);
const since = (t0: number) => performance.now() - t0;
function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}
const fmt = (xs: number[]) => {
  const p = percentiles(xs);
  return `p50 ${p.p50.toFixed(2)}  p95 ${p.p95.toFixed(2)}  p99 ${p.p99.toFixed(2)}  max ${p.max.toFixed(1)} ms`;
};
/** GTIN-14 number g with its GS1 check digit. */
function gtin(g: number): string {
  const body = `0950600${String(g).padStart(6, '0')}`;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(body[12 - i]) * (i % 2 === 0 ? 3 : 1);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

async function migrate(service: string, prefix: string, migrations: unknown[]): Promise<DataSource> {
  const ds = createServiceDataSource({
    service,
    url: URL_,
    schemaPrefix: prefix,
    poolSize: 4,
    entities: [],
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    migrations: [...MESSAGING_MIGRATIONS, ...(migrations as Function[])],
  });
  await initializeServiceDatabase(ds);
  return ds;
}

/** Bulk load with the tables' secondary indexes dropped, then re-created from their own definitions. */
async function withoutIndexes(db: Client, schema: string, tables: string[], load: () => Promise<void>) {
  const indexes = (
    await db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY($2) AND indexname NOT LIKE '%_pkey'`,
      [schema, tables],
    )
  ).rows;
  for (const i of indexes) await db.query(`DROP INDEX "${schema}"."${i.name}"`);
  await load();
  const t0 = performance.now();
  for (const i of indexes) await db.query(i.def);
  log(`  indexes    ${since(t0).toFixed(0)} ms (${indexes.length})`);
}

async function generate(db: Client, prefix: string): Promise<void> {
  const agri = `${prefix}agri`;
  const lineage = `${prefix}lineage`;
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query(`CREATE FUNCTION pg_temp.bench_uuid(i int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT overlay(overlay(md5('list' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$`);
  await db.query(`CREATE FUNCTION pg_temp.bench_gtin(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT b || ((10 - (SELECT sum(substr(b, 13 - k, 1)::int * CASE WHEN k % 2 = 0 THEN 3 ELSE 1 END) FROM generate_series(0, 12) k) % 10) % 10)
      FROM (SELECT '0950600' || lpad(g::text, 6, '0') AS b) x $$`);

  // The domain's tables: batches of GTINS products, owned by ORGS organisations; 30 % also held by a second one.
  await db.query(`SET search_path = "${agri}"`);
  await db.query(`ALTER TABLE batch_holdings DISABLE TRIGGER batch_holdings_mass_balance`);
  await withoutIndexes(db, agri, ['batches', 'batch_custody', 'batch_holdings'], async () => {
    let t0 = performance.now();
    await db.query(
      `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_unit, quantity_initial, owner_org_id, holder_org_id, location_id, status,
                            produced_at, chain_seq, chain_head, created_at)
       SELECT pg_temp.bench_uuid(i), 'agri', g.gtin, 'L' || i, 100, 'kg', 100, 'org-' || (i % $2), 'org-' || (i % $2), 'loc-' || (i % $2),
              CASE WHEN i % 97 = 0 THEN 'recalled' WHEN i % 89 = 0 THEN 'held' ELSE 'active' END,
              timestamptz '2026-01-01' + i * interval '20 seconds', 1, repeat('0', 64), timestamptz '2026-01-01' + i * interval '20 seconds'
         FROM generate_series(0, $1 - 1) i JOIN (SELECT k, pg_temp.bench_gtin(k) AS gtin FROM generate_series(0, $3 - 1) k) g ON g.k = i % $3`,
      [N, ORGS, GTINS],
    );
    log(`  batches    ${since(t0).toFixed(0)} ms`);
    t0 = performance.now();
    await db.query(
      `INSERT INTO batch_custody (batch_id, org_id)
       SELECT id, owner_org_id FROM batches
       UNION ALL SELECT id, 'org-' || ((substr(lot, 2)::int * 17 + 1) % $1) FROM batches WHERE substr(lot, 2)::int % 10 < 3
       ON CONFLICT DO NOTHING`,
      [ORGS],
    );
    // A shop that holds 200 batches of the million (every 5,000th): its list must not walk the other 999,800.
    await db.query(`INSERT INTO batch_custody (batch_id, org_id) SELECT id, 'shop-1' FROM batches WHERE substr(lot, 2)::int % 5000 = 0`);
    await db.query(`INSERT INTO batch_holdings (batch_id, org_id, quantity, received) SELECT batch_id, org_id, 50, 50 FROM batch_custody`);
    log(`  custody    ${since(t0).toFixed(0)} ms`);
  });
  await db.query(`ALTER TABLE batch_holdings ENABLE TRIGGER batch_holdings_mass_balance`);

  // The same batches as lineage knows them (every domain's batches are nodes there; here all agri).
  await db.query(`SET search_path = "${lineage}"`);
  await withoutIndexes(db, lineage, ['lineage_nodes', 'lineage_custody'], async () => {
    const t0 = performance.now();
    // A bulk load: the node change log and the NOTIFY are for replicas catching up, none runs yet.
    await db.query('ALTER TABLE lineage_nodes DISABLE TRIGGER USER');
    await db.query(
      `INSERT INTO lineage_nodes (batch_id, domain, gtin, lot, registered, status, owner_org_id, holder_org_id, registered_at, quantity_value, quantity_unit)
       SELECT id, domain, gtin, lot, true, status, owner_org_id, holder_org_id, created_at, 100, 'kg' FROM "${agri}".batches`,
    );
    await db.query('ALTER TABLE lineage_nodes ENABLE TRIGGER USER');
    await db.query(`INSERT INTO lineage_custody (batch_id, org_id) SELECT batch_id, org_id FROM "${agri}".batch_custody`);
    log(`  lineage    ${since(t0).toFixed(0)} ms`);
  });
  const t0 = performance.now();
  for (const t of [`"${agri}".batches`, `"${agri}".batch_custody`, `"${agri}".batch_holdings`, `"${lineage}".lineage_nodes`, `"${lineage}".lineage_custody`]) {
    await db.query(`VACUUM (ANALYZE) ${t}`);
  }
  await db.query('CHECKPOINT').catch(() => undefined);
  log(`  analyze    ${since(t0).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  assertTestDatabase(URL_);
  const prefix = `bench${randomBytes(3).toString('hex')}_`;
  const db = new Client({ connectionString: URL_ });
  await db.connect();
  log(`lists and search benchmark: ${N} batches, ${GTINS} GTINs, ${ORGS} organisations, schemas ${prefix}agri / ${prefix}lineage`);
  log(`node ${process.version}, PostgreSQL ${(await db.query('SHOW server_version')).rows[0].server_version}`);
  const sources: DataSource[] = [];
  try {
    const agri = await migrate('agri', prefix, [...TRACE_CHAIN_MIGRATIONS, ...HOLDINGS_MIGRATIONS, ...INSPECTION_MIGRATIONS, TraceChainTimeOffsets1765000300000, ...LIST_MIGRATIONS, TraceChainEpcisContext1765500061500]);
    const lineageDs = await migrate('lineage', prefix, LINEAGE_MIGRATIONS);
    sources.push(agri, lineageDs);
    log('generating (SQL, in the database):');
    const t0 = performance.now();
    await generate(db, prefix);
    log(`  total      ${(since(t0) / 1000).toFixed(1)} s`);

    const lineage = new LineageListQuery(lineageDs);
    const cursors = (await db.query<{ id: string }>(`SELECT id::text FROM "${prefix}agri".batches ORDER BY random() LIMIT 1000`)).rows.map((r) => r.id);
    const cursorAt = (i: number) => cursors[i % cursors.length];
    const regulator: Principal = { clientId: 'bench', orgId: 'bureau', role: 'regulator' };
    const operator = (i: number): Principal => ({ clientId: 'bench', orgId: `org-${i % ORGS}`, role: 'operator' });
    const baseline = new Client({ connectionString: URL_ });
    await baseline.connect();
    const on = async (schema: string) => baseline.query(`SET search_path = "${schema}"`);

    type Case = { name: string; service: (i: number) => Promise<unknown>; sql: string; params: (i: number) => unknown[]; schema: string };
    const batchesQuery = (query: Record<string, string>) => parseListQuery(query, BATCH_LIST_FILTERS, { cursor: ['uuid'] });
    // What an operator may see, first 51 in id order: what the service's walk reads in one step when no filter drops any.
    const VISIBLE_IDS = `(SELECT batch_id FROM batch_custody WHERE org_id = $1 ORDER BY batch_id LIMIT 51)
                         UNION (SELECT batch_id FROM batch_holdings WHERE org_id = $1 AND in_transit > 0 ORDER BY batch_id LIMIT 51)`;
    const shop: Principal = { clientId: 'bench', orgId: 'shop-1', role: 'operator' };
    const cases: Case[] = [
      {
        name: 'batches, regulator, first page',
        service: () => listBatches(agri, batchesQuery({}), regulator),
        sql: `SELECT b.* FROM batches b ORDER BY b.id LIMIT 51`,
        params: () => [],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches, regulator, page at a random cursor',
        service: (i) => listBatches(agri, { limit: 50, filters: {}, after: [cursorAt(i)] }, regulator),
        sql: `SELECT b.* FROM batches b WHERE b.id > $1 ORDER BY b.id LIMIT 51`,
        params: (i) => [cursorAt(i)],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches, operator (~3 % of all), first page',
        service: (i) => listBatches(agri, batchesQuery({}), operator(i)),
        sql: `SELECT b.* FROM batches b WHERE b.id IN (${VISIBLE_IDS}) ORDER BY b.id LIMIT 51`,
        params: (i) => [operator(i).orgId],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches, shop (200 of 1M), first page',
        service: () => listBatches(agri, batchesQuery({}), shop),
        sql: `SELECT b.* FROM batches b WHERE b.id IN (${VISIBLE_IDS}) ORDER BY b.id LIMIT 51`,
        params: () => ['shop-1'],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches?gtin=, regulator',
        service: (i) => listBatches(agri, batchesQuery({ gtin: gtin(i % GTINS) }), regulator),
        sql: `SELECT b.* FROM batches b WHERE b.gtin = $1 ORDER BY b.id LIMIT 51`,
        params: (i) => [gtin(i % GTINS)],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches?gtin=, operator (its own product)',
        service: (i) => listBatches(agri, batchesQuery({ gtin: gtin(i % GTINS) }), operator(i)),
        sql: `SELECT b.* FROM batches b WHERE b.gtin = $2 AND b.id IN (SELECT batch_id FROM batch_custody WHERE org_id = $1) ORDER BY b.id LIMIT 51`,
        params: (i) => [operator(i).orgId, gtin(i % GTINS)],
        schema: `${prefix}agri`,
      },
      {
        name: 'batches?status=held, regulator',
        service: () => listBatches(agri, batchesQuery({ status: 'held' }), regulator),
        sql: `SELECT b.* FROM batches b WHERE b.status = 'held' ORDER BY b.id LIMIT 51`,
        params: () => [],
        schema: `${prefix}agri`,
      },
      {
        name: 'search q=GTIN, regulator',
        service: (i) => lineage.search(parseListQuery({ q: gtin(i % GTINS) }, ['q'] as const, { cursor: ['micros', 'uuid'] }), regulator),
        sql: `SELECT * FROM lineage_nodes n WHERE n.registered AND (n.gtin = $1 OR n.lot = $1) ORDER BY n.registered_at DESC, n.batch_id DESC LIMIT 51`,
        params: (i) => [gtin(i % GTINS)],
        schema: `${prefix}lineage`,
      },
      {
        name: 'search q=GTIN, operator',
        service: (i) => lineage.search(parseListQuery({ q: gtin(i % GTINS) }, ['q'] as const, { cursor: ['micros', 'uuid'] }), operator(i)),
        sql: `SELECT * FROM lineage_nodes n WHERE n.registered AND (n.gtin = $1 OR n.lot = $1)
                AND (n.owner_org_id = $2 OR EXISTS (SELECT 1 FROM lineage_custody c WHERE c.batch_id = n.batch_id AND c.org_id = $2))
              ORDER BY n.registered_at DESC, n.batch_id DESC LIMIT 51`,
        params: (i) => [gtin(i % GTINS), operator(i).orgId],
        schema: `${prefix}lineage`,
      },
      {
        name: 'search q=GTIN, shop holding none of it',
        service: (i) => lineage.search(parseListQuery({ q: gtin(1 + (i % (GTINS - 1))) }, ['q'] as const), shop),
        sql: `SELECT * FROM lineage_nodes n WHERE n.registered AND (n.gtin = $1 OR n.lot = $1)
                AND (n.owner_org_id = $2 OR EXISTS (SELECT 1 FROM lineage_custody c WHERE c.batch_id = n.batch_id AND c.org_id = $2))
              ORDER BY n.registered_at DESC, n.batch_id DESC LIMIT 51`,
        params: (i) => [gtin(1 + (i % (GTINS - 1))), 'shop-1'],
        schema: `${prefix}lineage`,
      },
      {
        name: 'search q=lot (Digital Link), operator',
        service: (i) => lineage.search(parseListQuery({ q: `/01/${gtin((i * 7919) % N % GTINS)}/10/L${(i * 7919) % N}` }, ['q'] as const), operator((i * 7919) % N)),
        sql: `SELECT * FROM lineage_nodes n WHERE n.registered AND n.gtin = $1 AND n.lot = $2
                AND (n.owner_org_id = $3 OR EXISTS (SELECT 1 FROM lineage_custody c WHERE c.batch_id = n.batch_id AND c.org_id = $3))
              ORDER BY n.registered_at DESC, n.batch_id DESC LIMIT 51`,
        params: (i) => [gtin((i * 7919) % N % GTINS), `L${(i * 7919) % N}`, operator((i * 7919) % N).orgId],
        schema: `${prefix}lineage`,
      },
    ];

    log(`\n${PAGES} pages per case (limit 50), after ${Math.min(100, PAGES)} warm-up pages; service = the code the controller calls, JSON included:`);
    for (const c of cases) {
      let items = 0;
      for (let i = 0; i < Math.min(100, PAGES); i++) JSON.stringify(await c.service(i));
      const service: number[] = [];
      for (let i = 0; i < PAGES; i++) {
        const t = performance.now();
        const page = (await c.service(i)) as { items: unknown[] };
        JSON.stringify(page);
        service.push(performance.now() - t);
        items += page.items.length;
      }
      await on(c.schema);
      for (let i = 0; i < Math.min(100, PAGES); i++) await baseline.query(c.sql, c.params(i));
      const bare: number[] = [];
      for (let i = 0; i < PAGES; i++) {
        const t = performance.now();
        await baseline.query(c.sql, c.params(i));
        bare.push(performance.now() - t);
      }
      log(`  ${c.name.padEnd(40)} items/page ${(items / PAGES).toFixed(0).padStart(2)}`);
      log(`    service   ${fmt(service)}`);
      log(`    bare SQL  ${fmt(bare)}`);
    }
    await baseline.end();
  } finally {
    for (const ds of sources) await ds.destroy().catch(() => undefined);
    await db.end();
    await dropSchemas(URL_, prefix);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
