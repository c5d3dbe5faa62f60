/**
 * Plans that do not grow with the table (issue 14, item 3): every data
 * statement the app sends, EXPLAINed on its own tables grown to 1k, 10k and
 * 1M rows.
 *
 *   node scripts/run.js scripts/bench/plans.ts [sizes=1000,10000,1000000]
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *
 * 1. The embedded app (`npm start`'s entry) runs on throw-away schemas with
 *    record-statements.js preloaded, and `npm run demo` fills it through the
 *    public API (organisations, products, registrations, certificates,
 *    inspections, shipments, a failed sample, its case and recall across
 *    domains, drug codes, incidents); then reads and an EPCIS capture: lists,
 *    search, trace, scans, EPCIS query, the FSMA export, a stream subscription
 *    and a recall webhook delivered to a receiver here. Every distinct
 *    statement is recorded with the parameters of its first call.
 * 2. The app stops; for each size, every table of the schemas those statements
 *    ran in that their plans read is grown to that many rows by copying its rows with fresh ids
 *    (uuid columns and text `*_id` columns made unique, one column of each
 *    unique index varied, an indexed text array given values of its own),
 *    triggers and foreign keys off for the copy
 *    (session_replication_role = replica), then ANALYZE. Reference data
 *    (organisations, products, clients, locations, subscriptions) grows to at
 *    most 10,000; a table the workload left empty stays empty (listed).
 * 3. Each statement is EXPLAINed with its recorded parameters in its schema.
 *    A statement "grows with the table" when its plan has a Seq Scan that
 *    filters or joins (a selective statement answered by reading everything),
 *    or walks a whole index into a merge join, on a table of 10,000 rows or more. A Seq Scan without filter or join is a
 *    statement that asks for the whole table (start-up loads); those are
 *    listed apart.
 *
 * Domain schemas share their statements (the trace chain lives once): a
 * statement recorded in food, material or goods is explained in agri when agri
 * ran the same text, so only the tables of schemas still needed are grown.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, escapeLiteral } from 'pg';
import { prepareValue } from 'pg/lib/utils';
import { CUSTOM_PLAN } from '@trace/platform';
import { dropSchemas, freePort, ServiceProcess, uniquePrefix } from '@trace/testing';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const URL_ = process.env.DATABASE_URL;
const SIZES = (process.argv[3] ?? '1000,10000,1000000').split(',').map(Number);
const LARGE = 10_000;
/** Reference data: grows with the number of organisations and products, not with traffic; these stop at REFERENCE_CAP rows. */
const REFERENCE = /^(products|organisations|clients|locations|gtin_claims|named_queries|query_subscriptions|webhook_subscriptions|calendar_days)$/;
const REFERENCE_CAP = 10_000;
const TEXT = new Set(['text', 'varchar', 'bpchar']);
const TEXT_ARRAY = new Set(['_text', '_varchar']);
/** Text columns holding one of a few values (checked enumerations): copies keep theirs. */
const ENUMERATION = /^(conclusion|result|outcome|category|channel|kind|item_kind|status|domain|type|role|unit|quantity_unit|biz_step|disposition|severity|level|state|action|method|event_type)$/;
const ROOT = resolve(__dirname, '../..');
const ADMIN_ID = 'plans-admin';
const ADMIN_SECRET = 'plans-admin-secret-0123456789';

const log = (msg: string) => process.stdout.write(`${msg}\n`);

interface Recorded {
  schema: string;
  text: string;
  params: (string | null | { base64: string })[] | null;
  calls: number;
}

interface PlanNode {
  'Node Type': string;
  Schema?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Join Filter'?: string;
  Plans?: PlanNode[];
}

interface Access {
  relation: string;
  how: string;
  /**
   * Reads every row to find some: a Seq Scan that filters or feeds a join, or an index walked whole (no
   * index condition) into a merge join, which reads it to its end when the other side's keys are spread over it.
   */
  selectiveSeqScan: boolean;
}

/**
 * The tables a plan reads and how. A Seq Scan is selective (reads everything to answer a part) when it
 * filters, feeds a join, or feeds a sort or aggregate under a LIMIT (every row read to give one page). An
 * index scan without an index condition under a merge join counts too: `drainNativeHashes` once merged its
 * list of a few hundred random ids with the whole `trace_events` primary key, 0.2-0.7 s a chunk at 60,000 links.
 */
function accesses(node: PlanNode, parentJoin = false, limitOverSort = false, out: Access[] = [], underLimit = false, parentMerge = false): Access[] {
  const type = node['Node Type'];
  const isJoin = /Join|Nested Loop/.test(type);
  if (node['Relation Name']) {
    const wholeIndex = /^Index (Only )?Scan$/.test(type) && !node['Index Cond'] && parentMerge;
    const how = `${node['Index Name'] ? `${type} (${node['Index Name']})` : type}${wholeIndex ? ' (whole index into a merge join)' : ''}`;
    out.push({ relation: `${node.Schema}.${node['Relation Name']}`, how, selectiveSeqScan: (type === 'Seq Scan' && (!!node.Filter || parentJoin || limitOverSort)) || wholeIndex });
  }
  const limit = underLimit || type === 'Limit';
  const sorted = limitOverSort || (limit && /Sort|Aggregate|Unique|WindowAgg/.test(type));
  const merge = type === 'Merge Join' || (parentMerge && /^(Sort|Materialize)$/.test(type));
  for (const child of node.Plans ?? []) accesses(child, isJoin || (parentJoin && /Hash|Materialize|Sort/.test(type)), sorted, out, limit, merge);
  return out;
}

/** Runs `npm run demo` against the app and returns its JSON summary. */
async function demo(url: string): Promise<{ clients: { organisation: string; kind: string; role: string; clientId: string; clientSecret: string }[]; batches: Record<string, { id: string; domain: string; gtin: string; lot: string; scan?: string }> }> {
  const child = spawn(process.execPath, [resolve(ROOT, 'scripts/run.js'), 'scripts/demo/demo.ts', '--url', url, '--admin-id', ADMIN_ID, '--admin-secret', ADMIN_SECRET, '--json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  if (code !== 0) throw new Error(`demo exited ${code}: ${err.slice(-2000)}`);
  return JSON.parse(out);
}

async function token(url: string, clientId: string, clientSecret: string): Promise<string> {
  const r = await fetch(`${url}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId, clientSecret }) });
  if (r.status !== 200 && r.status !== 201) throw new Error(`token for ${clientId}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

/** Reads a user makes after the demo's writes; each must answer 2xx (a 4xx here means the workload, not a plan, broke). */
async function reads(url: string, world: Awaited<ReturnType<typeof demo>>): Promise<number> {
  const by = (role: string, kind?: string) => world.clients.find((c) => c.role === role && (!kind || c.kind === kind));
  const regulator = by('regulator');
  const farm = world.clients.find((c) => c.role === 'operator');
  if (!regulator || !farm) throw new Error('the demo made no regulator or operator client');
  const reg = await token(url, regulator.clientId, regulator.clientSecret);
  const op = await token(url, farm.clientId, farm.clientSecret);
  const { tomatoes, noodles, wheat } = world.batches;
  const paths: [string, string][] = [
    [reg, '/v1/agri/batches?limit=50'],
    [op, '/v1/agri/batches?limit=50'],
    [reg, `/v1/agri/batches?gtin=${tomatoes.gtin}`],
    [reg, '/v1/agri/batches?status=recalled'],
    [reg, `/v1/search?q=${tomatoes.gtin}`],
    [op, `/v1/search?q=${tomatoes.gtin}`],
    [reg, `/v1/trace/agri/${wheat.id}?direction=downstream`],
    [reg, `/v1/trace/food/${noodles.id}?direction=upstream`],
    [reg, `/v1/agri/batches/${tomatoes.id}`],
    [reg, `/v1/agri/batches/${tomatoes.id}/events`],
    [reg, `/v1/agri/batches/${tomatoes.id}/verify`],
    [reg, `/v1/agri/batches/${tomatoes.id}/epcis`],
    [reg, '/v1/epcis/events?perPage=50'],
    [reg, `/v1/epcis/events?MATCH_anyEPCClass=https://id.gs1.org/01/${tomatoes.gtin}/10/${encodeURIComponent(tomatoes.lot)}`],
    [reg, '/v1/recalls'],
    [reg, `/v1/exports/fsma204?gtin=${wheat.gtin}&lot=${encodeURIComponent(wheat.lot)}`],
  ];
  let n = 0;
  for (const [t, path] of paths) {
    const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${t}` } });
    await r.arrayBuffer();
    if (r.status >= 300) throw new Error(`GET ${path}: ${r.status}`);
    n++;
  }
  for (const b of [tomatoes, noodles]) {
    if (!b.scan) continue;
    const scan = new URL(b.scan);
    for (const accept of ['application/json', 'text/html']) {
      const r = await fetch(`${url}${scan.pathname}`, { headers: { accept } });
      await r.arrayBuffer();
      if (r.status >= 300) throw new Error(`scan ${scan.pathname}: ${r.status}`);
      n++;
    }
  }
  // A stream subscription to a named query that the capture below matches, delivered to a receiver here: the
  // subscription worker's passes and looks (at capture_jobs among others) are statements of the workload too.
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const json = { authorization: `Bearer ${op}`, 'content-type': 'application/json' };
  const named = await fetch(`${url}/v1/epcis/queries`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'plans-inspecting', query: { EQ_bizStep: ['inspecting'] } }) });
  if (named.status !== 201) throw new Error(`named query: ${named.status} ${await named.text()}`);
  const dest = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/epcis`;
  const subscribed = await fetch(`${url}/v1/epcis/queries/plans-inspecting/subscriptions`, { method: 'POST', headers: json, body: JSON.stringify({ dest, stream: true }) });
  if (subscribed.status !== 201) throw new Error(`subscription: ${subscribed.status} ${await subscribed.text()}`);
  // An EPCIS capture of a new event on the tomatoes (the chain's own export, one event made new): the capture path's statements.
  const exported = (await (await fetch(`${url}/v1/agri/batches/${tomatoes.id}/epcis`, { headers: { authorization: `Bearer ${op}` } })).json()) as {
    epcisBody: { eventList: Record<string, unknown>[] };
  };
  const event = { ...exported.epcisBody.eventList[0] };
  for (const k of Object.keys(event)) if (k === 'eventID' || k.startsWith('trace:') || k === 'certificationInfo') delete event[k];
  Object.assign(event, { type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'inspecting', eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00' });
  delete event.ilmd;
  const doc = { ...exported, epcisBody: { eventList: [event] } };
  const c = await fetch(`${url}/v1/epcis/capture`, { method: 'POST', headers: { authorization: `Bearer ${op}`, 'content-type': 'application/ld+json' }, body: JSON.stringify(doc) });
  await c.arrayBuffer();
  if (c.status !== 202) throw new Error(`EPCIS capture: ${c.status}`);
  const job = c.headers.get('location');
  for (let i = 0; job && i < 100; i++) {
    const r = (await (await fetch(`${url}${job}`, { headers: { authorization: `Bearer ${op}` } })).json()) as { running?: boolean };
    if (r.running === false) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  for (let i = 0; received === 0 && i < 300; i++) await new Promise((res) => setTimeout(res, 100));
  if (received === 0) throw new Error('the stream subscription delivered nothing within 30 s');
  // A webhook of the regulator's, then a recall it hears of: the webhook worker's claims and marks.
  const regJson = { authorization: `Bearer ${reg}`, 'content-type': 'application/json' };
  const hook = await fetch(`${url}/v1/webhooks`, { method: 'POST', headers: regJson, body: JSON.stringify({ url: dest.replace('/epcis', '/hook'), events: ['recall.started'] }) });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`);
  const before = received;
  const recall = await fetch(`${url}/v1/recalls`, { method: 'POST', headers: regJson, body: JSON.stringify({ batches: [{ domain: 'agri', batchId: tomatoes.id }], level: 3, reason: 'plans workload' }) });
  if (recall.status !== 201) throw new Error(`recall: ${recall.status} ${await recall.text()}`);
  for (let i = 0; received === before && i < 300; i++) await new Promise((res) => setTimeout(res, 100));
  receiver.close();
  if (received === before) throw new Error('the webhook delivered nothing within 30 s');
  return n + 1;
}

/** The statements of a text at top level (quotes, quoted names and dollar quotes respected). */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      for (i++; i < text.length && !(text[i] === ch && text[i + 1] !== ch); i += text[i] === ch ? 2 : 1);
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i));
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? text.length : end + tag[0].length - 1;
      }
    } else if (ch === ';') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

/** A data statement, after any leading comment (CUSTOM_PLAN). */
const DATA = /^(\/\*.*?\*\/\s*)*(select|insert|update|delete|with)\b/is;

/** A recorded text as its data statements: a simple-protocol text ("START …; WITH …; COMMIT") has several, and no parameters. */
function dataStatements(r: Recorded): Recorded[] {
  const parts = r.params && r.params.length ? [r.text.trim()] : splitStatements(r.text);
  return parts.filter((t) => DATA.test(t)).map((text) => ({ ...r, text }));
}

/** A statement's shape: literals as ?, so texts that inline their values ("id = ANY('{17}')") count as one. */
function literalsOut(text: string): string {
  return text.replace(/'(?:[^']|'')*'/g, '?').replace(/\b\d+\b/g, '0').replace(/\s+/g, ' ');
}

async function record(prefix: string, file: string): Promise<Recorded[]> {
  const port = await freePort();
  const proc = ServiceProcess.spawn(
    'embedded',
    'services/embedded/src/main.ts',
    {
      DATABASE_URL: URL_,
      DB_SCHEMA_PREFIX: prefix,
      BOOTSTRAP_ADMIN_CLIENT_ID: ADMIN_ID,
      BOOTSTRAP_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      JWT_SECRET: 'plans-bench-secret-0123456789abcdef',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      OPENAPI_ENABLED: 'false',
      // The workload's subscription delivers to a receiver on 127.0.0.1.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      NODE_OPTIONS: `--require ${resolve(__dirname, 'record-statements.js')}`,
      BENCH_STATEMENTS_FILE: file,
    },
    port,
  );
  try {
    await proc.ready(120_000);
    // Start-up (migrations, the lineage graph's load) is not what a table's growth slows: record from here.
    const seen = proc.output.length;
    proc.child.kill('SIGWINCH');
    for (let j = 0; j < 100 && !proc.output.slice(seen).join('').includes('STATEMENTS_RESET'); j++) await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const world = await demo(proc.url);
    const n = await reads(proc.url, world);
    log(`workload   demo + ${n} reads and a capture in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Delivery runs on after the answers: record until the set of statements stops growing for 2 s.
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const seen = proc.output.length;
      proc.child.kill('SIGUSR2');
      let count = NaN;
      for (let j = 0; j < 100 && Number.isNaN(count); j++) {
        const m = /STATEMENTS_RECORDED (\d+)/.exec(proc.output.slice(seen).join(''));
        if (m) count = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 20));
      }
      if (count === last) break;
      last = count;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return JSON.parse(readFileSync(file, 'utf8')) as Recorded[];
  } finally {
    await proc.stop();
  }
}

interface Column {
  name: string;
  type: string;
  generated: boolean;
  defaulted: boolean;
}

/** Grows one table to `target` rows by copying its rows with fresh identities; false when it cannot be copied (it is then left as it is). */
async function grow(db: Client, schema: string, table: string, target: number): Promise<string | null> {
  const q = `"${schema}"."${table}"`;
  const have = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${q}`)).rows[0].n);
  if (have === 0 || have >= target) return null;
  const cols = (
    await db.query<Column>(
      `SELECT column_name AS name, udt_name AS type, (is_generated = 'ALWAYS' OR identity_generation = 'ALWAYS') AS generated,
              (column_default LIKE 'nextval(%' OR is_identity = 'YES') AS defaulted
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    )
  ).rows.filter((c) => !c.generated);
  const unique = (
    await db.query<{ cols: string[] }>(
      `SELECT array_agg(a.attname::text) AS cols FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisunique GROUP BY i.indexrelid`,
      [q],
    )
  ).rows.map((r) => r.cols);
  const indexed = new Set(
    (
      await db.query<{ name: string }>(
        // A column an expression index reads (`lower(btrim(name))`) counts: its key is not in indkey, so the
        // column is found by name in the index's definition.
        `SELECT DISTINCT a.attname::text AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE i.indrelid = $1::regclass AND (a.attnum = ANY(i.indkey) OR (i.indexprs IS NOT NULL AND pg_get_indexdef(i.indexrelid) ~ ('\\m' || a.attname || '\\M')))`,
        [q],
      )
    ).rows.map((r) => r.name),
  );
  // Identifiers take as many values as there are rows, as they do in use (copies that kept the demo's eight GTINs
  // would make "gtin = $1" match an eighth of the table, and the planner rightly scan it): uuid and text `*_id`
  // columns, and indexed text that is not an enumeration (kind, status, … keep their few values, as in use).
  const varied = new Set<string>();
  for (const c of cols) {
    if (c.type === 'uuid' || (TEXT.has(c.type) && /(^id|_id)$/.test(c.name))) varied.add(c.name);
    else if (TEXT.has(c.type) && indexed.has(c.name) && !ENUMERATION.test(c.name)) varied.add(c.name);
    // An indexed array (an event's EPC keys, a subscription's event types): copies that kept the demo's values
    // would make one lot's EPC name a share of every event, and reading them all the right plan. In use the rows
    // naming one value stay as many whatever the table holds: each copy gets values of its own, as identifiers do.
    else if (TEXT_ARRAY.has(c.type) && indexed.has(c.name)) varied.add(c.name);
  }
  for (const idx of unique) {
    if (idx.some((n) => varied.has(n) || cols.find((c) => c.name === n)?.defaulted)) continue;
    // A free-text member of the index (a lot, a number) rather than a kind or a status, which checks constrain.
    const texts = cols.filter((c) => idx.includes(c.name) && TEXT.has(c.type));
    const pick =
      texts.find((c) => !ENUMERATION.test(c.name)) ??
      texts[0] ??
      cols.find((c) => idx.includes(c.name) && /^(int|numeric|date|timestamp)/.test(c.type));
    if (!pick) return `no column of unique index (${idx.join(', ')}) can be varied`;
    varied.add(pick.name);
  }
  const keep = cols.filter((c) => !c.defaulted);
  // Digits stay digits (a GTIN column checks its form): 14 random ones; a clash is skipped (ON CONFLICT DO NOTHING).
  const digits = new Set<string>();
  for (const c of keep) {
    if (!varied.has(c.name) || !TEXT.has(c.type)) continue;
    const r = await db.query<{ d: boolean }>(`SELECT bool_and("${c.name}" ~ '^[0-9]+$') AS d FROM ${q}`);
    if (r.rows[0].d) digits.add(c.name);
  }
  const expr = (c: Column) => {
    if (!varied.has(c.name)) return `s."${c.name}"`;
    if (c.type === 'uuid') return 'gen_random_uuid()';
    if (TEXT_ARRAY.has(c.type)) return `ARRAY(SELECT x || '~' || g || '~' || s.ctid::text FROM unnest(s."${c.name}") x)`;
    if (digits.has(c.name)) return `lpad((('x' || substr(md5(random()::text), 1, 12))::bit(48)::bigint % 100000000000000)::text, 14, '0')`;
    if (TEXT.has(c.type)) return `s."${c.name}" || '~' || g || '~' || s.ctid::text`;
    if (c.type === 'date') return `s."${c.name}" + g`;
    if (c.type.startsWith('timestamp')) return `s."${c.name}" + g * interval '1 millisecond'`;
    return `s."${c.name}" + g * 1000003`;
  };
  const perRow = Math.ceil((target - have) / have);
  // Large growths load without the secondary (non-unique) indexes and build them after: far faster than
  // maintaining a GIN index row by row. Unique ones stay, so ON CONFLICT still skips a clash.
  const secondary =
    target - have > 50_000
      ? (
          await db.query<{ name: string; def: string }>(
            `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = $1::regclass AND NOT i.indisunique AND NOT i.indisprimary`,
            [q],
          )
        ).rows
      : [];
  try {
    await db.query('BEGIN');
    await db.query('SET LOCAL session_replication_role = replica');
    for (const i of secondary) await db.query(`DROP INDEX "${schema}"."${i.name}"`);
    await db.query(
      `INSERT INTO ${q} (${keep.map((c) => `"${c.name}"`).join(', ')})
       SELECT ${keep.map(expr).join(', ')} FROM ${q} s, generate_series(1, ${perRow}) g LIMIT ${target - have}
       ON CONFLICT DO NOTHING`,
    );
    for (const i of secondary) await db.query(i.def);
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    return (err as Error).message;
  }
  return null;
}

/**
 * The plan PostgreSQL may settle on for a prepared statement: the pools prepare every parameterised
 * statement by name (StatementCachingClient), and after five runs PostgreSQL may plan it once for any
 * parameters (a generic plan) if that looks no dearer than planning each run. A generic plan knows no values
 * (a partial index whose predicate needs one, a value's selectivity), so it is checked at the largest size too.
 * PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN): the statement is PREPAREd and EXPLAINed through EXECUTE with
 * plan_cache_mode forced, each parameter cast to the type PREPARE inferred for it.
 */
async function genericPlan(db: Client, text: string, params: unknown[]): Promise<Access[] | string> {
  try {
    await db.query('DEALLOCATE ALL');
    await db.query(`PREPARE plans_generic AS ${text}`);
    const [{ types }] = (await db.query<{ types: string[] }>(`SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'plans_generic'`)).rows;
    await db.query('SET plan_cache_mode = force_generic_plan');
    // EXECUTE inside EXPLAIN takes no protocol parameters: the values go in as literals, in pg's text form.
    const args = types.map((t, i) => {
      const v = prepareValue(params[i]) as string | Buffer | null;
      return `${v === null ? 'NULL' : escapeLiteral(Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : String(v))}::${t}`;
    });
    const r = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE plans_generic(${args.join(', ')})`);
    return accesses(r.rows[0]['QUERY PLAN'][0].Plan);
  } catch (err) {
    return `not explained: ${(err as Error).message}`;
  } finally {
    await db.query('RESET plan_cache_mode; DEALLOCATE ALL');
  }
}

/**
 * Work queues: tables whose waiting rows are few or none whenever statistics happen to be taken (autovacuum
 * analyzes a table after its rows changed, and a queue's rows change by being done), and many when it matters
 * (a recall's 10,000 events, a relay that was down). A plan made on such statistics expects one waiting row;
 * the relay's claim, planned so, picked its 200 ids again for each of 10,000 waiting rows (0.2-0.5 s a claim:
 * Recall propagation, fourth pass). `fill` makes up to $1 rows of a grown table wait, without ANALYZE.
 */
const QUEUES: { table: string; fill: string }[] = [
  { table: 'outbox', fill: 'UPDATE outbox SET sent_at = NULL WHERE id = ANY(ARRAY(SELECT id FROM outbox ORDER BY id DESC LIMIT $1))' },
  { table: 'native_hash_pending', fill: 'INSERT INTO native_hash_pending (event_id) SELECT id FROM trace_events ORDER BY id DESC LIMIT $1 ON CONFLICT DO NOTHING' },
  {
    table: 'webhook_deliveries',
    fill: `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() - interval '1 minute' WHERE id = ANY(ARRAY(SELECT id FROM webhook_deliveries ORDER BY id LIMIT $1))`,
  },
  {
    table: 'query_subscription_deliveries',
    fill: `UPDATE query_subscription_deliveries SET status = 'pending', next_attempt_at = now() - interval '1 minute' WHERE id = ANY(ARRAY(SELECT id FROM query_subscription_deliveries ORDER BY id LIMIT $1))`,
  },
  { table: 'capture_jobs', fill: 'UPDATE capture_jobs SET running = true WHERE id = ANY(ARRAY(SELECT id FROM capture_jobs ORDER BY id LIMIT $1))' },
];
/** Rows made to wait in each queue for the stale-statistics pass. */
const WAITING = 10_000;

interface AnalyzedNode extends PlanNode {
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: AnalyzedNode[];
}

/** The most rows one node of an executed plan handled (produced or removed), over all its loops, and which node. */
function mostRowsTouched(node: AnalyzedNode): { rows: number; node: string } {
  const loops = node['Actual Loops'] ?? 1;
  const own =
    ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Join Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  let best = { rows: own, node: `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` (${node['Index Name']})` : ''}` };
  for (const child of node.Plans ?? []) {
    const c = mostRowsTouched(child);
    if (c.rows > best.rows) best = c;
  }
  return best;
}

async function main(): Promise<void> {
  const prefix = uniquePrefix('benchplans');
  const file = join(mkdtempSync(join(tmpdir(), 'plans-')), 'statements.json');
  log(`plans: sizes ${SIZES.join(', ')}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const db = new Client({ connectionString: URL_ });
  await db.connect();
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '256MB'`);
  try {
    const recorded = await record(prefix, file);
    // One text, one representative schema: agri stands for the domains that share the trace chain.
    const domains = ['agri', 'food', 'material', 'goods'].map((d) => `${prefix}${d}`);
    const byText = new Map<string, Recorded>();
    for (const r of recorded.flatMap(dataStatements)) {
      const shape = literalsOut(r.text);
      const key = domains.includes(r.schema) ? `domain\u0000${shape}` : `${r.schema}\u0000${shape}`;
      const had = byText.get(key);
      if (!had) byText.set(key, { ...r });
      else {
        had.calls += r.calls;
        if (r.schema === `${prefix}agri` && had.schema !== r.schema) Object.assign(had, { schema: r.schema, params: r.params });
      }
    }
    // The driver's and TypeORM's own look-ups (version, current schema, the catalog) are not the app's statements.
    const statements = [...byText.values()].filter((s) => s.schema.startsWith(prefix) && !/information_schema|pg_catalog|\bversion\(\)|current_schema\(\)|"migrations"/.test(s.text));
    const schemas = [...new Set(statements.map((s) => s.schema))].sort();
    log(`recorded   ${recorded.length} statement texts, ${statements.length} after sharing domain texts, in ${schemas.length} schemas`);

    const tables = (
      await db.query<{ schema: string; table: string; rows: string }>(
        `SELECT n.nspname AS schema, c.relname AS table, 0 AS rows FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) AND c.relname <> 'migrations' ORDER BY 1, 2`,
        [schemas],
      )
    ).rows;

    const results = new Map<Recorded, { size: number; access: Access[] | string }[]>();
    /** The generic plan of each parameterised statement (at the largest size): see genericPlan. */
    const generic = new Map<Recorded, Access[] | string>();
    const notGrown = new Map<string, string>();
    const explainAll = async (size: number) => {
      for (const s of statements) {
        let access: Access[] | string;
        if (!s.params) access = 'parameters not recorded';
        else {
          try {
            await db.query(`SET search_path = "${s.schema}"`);
            const params = s.params.map((p) => (p && typeof p === 'object' ? Buffer.from(p.base64, 'base64') : p));
            const r = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON, VERBOSE) ${s.text}`, params);
            access = accesses(r.rows[0]['QUERY PLAN'][0].Plan);
            // Statements marked CUSTOM_PLAN are never prepared: PostgreSQL plans them with their values every time.
            if (size === SIZES[SIZES.length - 1] && params.length > 0 && !s.text.includes(CUSTOM_PLAN)) generic.set(s, await genericPlan(db, s.text, params));
          } catch (err) {
            access = `not explained: ${(err as Error).message}`;
          }
        }
        const list = results.get(s) ?? [];
        list.push({ size, access });
        results.set(s, list);
      }
    };
    // The tables as the workload left them tell which ones the statements read: only those are grown.
    await explainAll(0);
    const read = new Set<string>();
    for (const list of results.values()) for (const { access } of list) if (typeof access !== 'string') for (const a of access) read.add(a.relation);
    for (const size of SIZES) {
      const t0 = performance.now();
      for (const t of tables) {
        const key = `${t.schema}.${t.table}`;
        if (!read.has(key)) continue;
        const target = REFERENCE.test(t.table) ? Math.min(size, REFERENCE_CAP) : size;
        const why = await grow(db, t.schema, t.table, target);
        if (why) notGrown.set(key, why);
        await db.query(`ANALYZE "${t.schema}"."${t.table}"`);
      }
      log(`grown      to ${size} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${read.size} tables the statements read)`);
      await explainAll(size);
    }
    await db.query('RESET search_path');
    const rows = new Map<string, number>();
    for (const t of tables) {
      if (read.has(`${t.schema}.${t.table}`)) rows.set(`${t.schema}.${t.table}`, Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.schema}"."${t.table}"`)).rows[0].n));
    }
    log(`tables     ${[...rows].map(([t, n]) => `${t.slice(prefix.length)} ${n}`).join(', ')}`);
    const grows = (a: Access) => a.selectiveSeqScan && (rows.get(a.relation) ?? 0) >= LARGE;
    const largest = SIZES[SIZES.length - 1];
    let explained = 0;
    let indexDriven = 0;
    const growing: string[] = [];
    const whole: string[] = [];
    const unexplained: string[] = [];
    const short = (s: Recorded) => `${s.schema.slice(prefix.length)}: ${s.text.replace(/\s+/g, ' ').trim().slice(0, 140)}`;
    const shortRelation = (r: string) => (r.startsWith(prefix) ? r.slice(prefix.length) : r);
    // A growing plan is shown whole, with the values it was planned for, before the stale pass fills the queues:
    // what one needs to see why, without keeping the schemas.
    const shown: string[] = [];
    for (const [st, list] of results) {
      const last = list.find((l) => l.size === largest)?.access;
      if (typeof last === 'string' || !last?.some(grows) || !st.params) continue;
      const params = st.params.map((p) => (p && typeof p === 'object' ? Buffer.from(p.base64, 'base64') : p));
      await db.query(`SET search_path = "${st.schema}"`);
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${st.text}`, params);
      shown.push(`  ${short(st)}`, `    values: ${JSON.stringify(params.map((v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v))).slice(0, 600)}`);
      for (const r of plan.rows) shown.push(`    ${r['QUERY PLAN']}`);
    }
    await db.query('RESET search_path');
    // Stale statistics: each queue of each schema made to wait WAITING rows after its last ANALYZE (autovacuum
    // held off), then every statement that read it EXECUTED under EXPLAIN ANALYZE in a transaction rolled back.
    // A statement grows when one plan node handles more than twice the waiting rows plus 1,000: reading the whole
    // table, or the waiting rows once per waiting row, where an index should have given it what it asked for.
    const stale: { statement: string; waiting: number; touched: number; node: string; ms: number }[] = [];
    const staleSkipped: string[] = [];
    let staleExecuted = 0;
    /** Inserts of a key the workload already wrote (their recorded parameters): they read no queue, nothing to judge. */
    let staleDuplicates = 0;
    for (const queue of QUEUES) {
      for (const schema of schemas) {
        const relation = `${schema}.${queue.table}`;
        if (!tables.some((t) => `${t.schema}.${t.table}` === relation)) continue;
        const readers = statements.filter((st) => {
          const last = results.get(st)?.find((l) => l.size === SIZES[SIZES.length - 1])?.access;
          return st.params && typeof last !== 'string' && last?.some((a) => a.relation === relation);
        });
        if (readers.length === 0) continue;
        await db.query(`SET search_path = "${schema}"`);
        await db.query(`ALTER TABLE "${queue.table}" SET (autovacuum_enabled = off)`);
        try {
          await db.query(`ANALYZE "${queue.table}"`);
          const filled = await db.query(queue.fill, [WAITING]);
          const waiting = filled.rowCount ?? 0;
          for (const st of readers) {
            const params = (st.params ?? []).map((p) => (p && typeof p === 'object' ? Buffer.from(p.base64, 'base64') : p));
            try {
              await db.query('BEGIN');
              await db.query(`SET LOCAL statement_timeout = '120s'`);
              const t0 = performance.now();
              const r = await db.query<{ 'QUERY PLAN': { Plan: AnalyzedNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${st.text}`, params);
              const ms = performance.now() - t0;
              const most = mostRowsTouched(r.rows[0]['QUERY PLAN'][0].Plan);
              staleExecuted++;
              if (most.rows > 2 * waiting + 1000) stale.push({ statement: short(st), waiting, touched: most.rows, node: most.node, ms });
            } catch (err) {
              if ((err as { code?: string }).code === '23505') staleDuplicates++;
              else staleSkipped.push(`${short(st)} — ${(err as Error).message}`);
            } finally {
              await db.query('ROLLBACK');
            }
          }
          log(`stale      ${shortRelation(relation)}: ${waiting} rows waiting against statistics taken before, ${readers.length} statements read it`);
        } finally {
          await db.query(`ALTER TABLE "${queue.table}" RESET (autovacuum_enabled)`);
        }
      }
    }
    await db.query('RESET search_path');

    log('');
    log(
      '| statement (schema: text) | calls | as the workload left them | ' +
        SIZES.map((n) => `${n.toLocaleString('en')} rows`).join(' | ') +
        ` | generic plan, ${largest.toLocaleString('en')} rows |`,
    );
    log('|---|---|---|' + SIZES.map(() => '---').join('|') + '|---|');
    const cell = (access: Access[] | string | undefined) =>
      access === undefined
        ? '—'
        : typeof access === 'string'
          ? access.slice(0, 60)
          : [...new Set(access.map((a) => `${shortRelation(a.relation)}: ${a.how}${a.selectiveSeqScan ? ' (filter)' : ''}`))].join('; ') || 'no table';
    const genericGrowing: string[] = [];
    const genericUnexplained: string[] = [];
    for (const [s, list] of results) {
      const cells = [...list.map(({ access }) => cell(access)), cell(generic.get(s))];
      log(`| \`${short(s).replace(/\|/g, '\\|')}\` | ${s.calls} | ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
      const g = generic.get(s);
      if (typeof g === 'string') genericUnexplained.push(`${short(s)} — ${g}`);
      else if (g?.some(grows)) genericGrowing.push(short(s));
      const last = list.find((l) => l.size === largest)?.access;
      if (typeof last === 'string') {
        unexplained.push(`${short(s)} — ${last}`);
        continue;
      }
      if (!last) continue;
      if (!last.some((a) => a.relation.startsWith(prefix))) continue; // no table of the app (advisory locks, pg_notify, now())
      explained++;
      if (last.some(grows)) growing.push(short(s));
      else indexDriven++;
      if (last.some((a) => a.how === 'Seq Scan' && !a.selectiveSeqScan && (rows.get(a.relation) ?? 0) >= LARGE)) whole.push(short(s));
    }
    log('');
    log(`At ${largest.toLocaleString('en')} rows: ${explained} statements explained, ${indexDriven} with no filtering Seq Scan (or whole index into a merge join) on a table of ≥ ${LARGE.toLocaleString('en')} rows, ${growing.length} with one:`);
    for (const g of growing) log(`  GROWS  ${g}`);
    if (shown.length) log('Their plans at that size:');
    for (const line of shown) log(line);
    log(`Reading a whole table by design (a Seq Scan without filter or join; start-up loads and the like): ${whole.length}`);
    for (const w of whole) log(`  WHOLE  ${w}`);
    log(`Generic plans (what a prepared statement may settle on): ${generic.size - genericUnexplained.length} explained, ${genericGrowing.length} with a filtering Seq Scan (or whole index into a merge join) on a table of ≥ ${LARGE.toLocaleString('en')} rows:`);
    for (const g of genericGrowing) log(`  GROWS (generic)  ${g}`);
    for (const u of genericUnexplained) log(`  SKIP (generic)   ${u}`);
    log(
      `Stale statistics (queues made to wait ${WAITING.toLocaleString('en')} rows after their last ANALYZE): ${staleExecuted} statements executed` +
        ` (${staleDuplicates} inserts of a recorded key not), ${stale.length} with a plan node handling more than twice the waiting rows:`,
    );
    for (const g of stale) log(`  GROWS (stale)  ${g.statement} — ${g.touched.toLocaleString('en')} rows in ${g.node}, ${g.waiting} waiting, ${Math.round(g.ms)} ms`);
    for (const u of staleSkipped) log(`  SKIP (stale)   ${u}`);
    if (unexplained.length) log(`Not explained (${unexplained.length}):`);
    for (const u of unexplained) log(`  SKIP   ${u}`);
    if (notGrown.size) log(`Tables not grown (${notGrown.size}):`);
    for (const [t, why] of notGrown) log(`  TABLE  ${t.slice(prefix.length)}: ${why.slice(0, 160)}`);
    process.stdout.write(
      `BENCH_RESULT ${JSON.stringify({ benchmark: `plans at ${largest.toLocaleString('en')} rows: statements without a growing scan`, value: indexDriven, unit: 'statements', baseline: explained, better: 'higher' })}\n`,
    );
    process.stdout.write(
      `BENCH_RESULT ${JSON.stringify({ benchmark: `plans on queues with stale statistics: statements bounded by the waiting rows`, value: staleExecuted - stale.length, unit: 'statements', baseline: staleExecuted, better: 'higher' })}\n`,
    );
  } finally {
    await db.end();
    await dropSchemas(URL_, prefix);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
