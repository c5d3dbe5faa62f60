import { randomUUID } from 'node:crypto';
import type { EpcisEvent } from '@trace/epcis';
import { EmbeddedTransport, localDeliveryBacklog, MESSAGING_MIGRATIONS, outboxChannel, OutboxRelay } from '@trace/messaging';
import { createLogger, createServiceDataSource, initializeServiceDatabase, schemaFor, type Logger } from '@trace/platform';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { eventsStatement, NativeHashBackfill } from '@trace/trace-service';
import { Client } from 'pg';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/**
 * Issue 15 item 3, for events recorded over REST: such an event has no eventID of its own, so everyone
 * outside names it by its CBV event hash — exports and query answers alike (one identity everywhere) —
 * and `GET /v1/epcis/events/{eventID}` and `EQ_eventID` find it by that hash (stored with the link, in
 * native_event_hashes) and still by the `urn:uuid:` it was named by before. Links written before the
 * hash was stored get theirs after a restart (NativeHashBackfill).
 */
const GTIN = '09506000134352';

describe('EPCIS identity of REST-recorded events: the event hash everywhere, found in either form', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let api: Api;
  let batchId: string;
  let glnLocation: string;
  let start: string;

  const byId = async (eventId: string) => api.get(`/v1/epcis/events/${encodeURIComponent(eventId)}`);
  const exported = async () => {
    const r = await api.get(`/v1/agri/batches/${batchId}/epcis`);
    expect(r.status).toBe(200);
    return r.body.epcisBody.eventList as EpcisEvent[];
  };
  const linkIds = async () =>
    (await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 ORDER BY seq`, [batchId])).map((r) => r.id);

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Identity Farm', 'producer', ['farm']);
    api = farm.api;
    // A location with a GLN: the event names it by its SGLN, so its hash depends on what the directory says.
    const loc = await api.post('/v1/locations', { name: 'Identity Warehouse', kind: 'warehouse', gln: '4012345000016' });
    expect(loc.status).toBe(201);
    glnLocation = loc.body.id;
    await aProduct(api, 'agri', GTIN, 'vegetable');
    start = new Date(Date.now() - 1000).toISOString();
    const b = await api.post('/v1/agri/batches', aBatch('ID-1', farm.locations.farm));
    expect(b.status).toBe(201);
    batchId = b.body.id;
    const e = await api.post(`/v1/agri/batches/${batchId}/events`, { bizStep: 'storing', eventTime: new Date(Date.now() - 60_000).toISOString(), locationId: glnLocation });
    expect(e.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('GET /events/{eventID} finds each exported event by its hash, and by its old urn:uuid, as the same event', async () => {
    const events = await exported();
    expect(events).toHaveLength(2);
    expect(events[1].readPoint?.id).toMatch(/4012345000016|4012345\.00001/);
    const ids = await linkIds();
    for (const [n, e] of events.entries()) {
      expect(e.eventID).toMatch(/^ni:\/\/\/sha-256;/);
      for (const name of [e.eventID!, `urn:uuid:${ids[n]}`, `urn:uuid:${ids[n].toUpperCase()}`]) {
        const r = await byId(name);
        expect([name, r.status]).toEqual([name, 200]);
        const list = r.body.epcisBody.queryResults.resultsBody.eventList as EpcisEvent[];
        expect(list.map((x) => x.eventID)).toEqual([e.eventID]);
        expect({ ...list[0], recordTime: undefined }).toEqual({ ...e, recordTime: undefined });
      }
    }
    const unknown = await byId('ni:///sha-256;0000000000000000000000000000000000000000000000000000000000000000?ver=CBV2.0');
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, expect.stringMatching(/problem\+json/)]);
  });

  it('query answers name REST-recorded events by the hash exports give them; EQ_eventID finds them by it', async () => {
    const events = await exported();
    const answer = await api.get(`/v1/epcis/events?GE_recordTime=${encodeURIComponent(start)}`);
    expect(answer.status).toBe(200);
    const listed = answer.body.epcisBody.queryResults.resultsBody.eventList as EpcisEvent[];
    expect(listed.map((e) => e.eventID)).toEqual(events.map((e) => e.eventID));
    const eq = await api.get(`/v1/epcis/events?EQ_eventID=${encodeURIComponent(events.map((e) => e.eventID).join('|'))}`);
    expect((eq.body.epcisBody.queryResults.resultsBody.eventList as EpcisEvent[]).map((e) => e.eventID)).toEqual(events.map((e) => e.eventID));
  });

  it("a recall's links are hashed after its marking commits, not in it; a look-up by hash drains what is still queued first", async () => {
    const b = await api.post('/v1/agri/batches', aBatch('ID-RECALL', farm.locations.farm));
    expect(b.status).toBe(201);
    const regulator = t.as((await anOrg(t, 'Identity Bureau', 'regulator', [])).id, 'regulator');
    const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: b.body.id }], level: 2, reason: 'identity of recall links' });
    expect(recall.status).toBe(201);
    await eventually(async () => ((await api.get(`/v1/agri/batches/${b.body.id}`)).body.status === 'recalled' ? true : undefined), 15_000);
    const links = await t.query<{ id: string; tx: string }>(`SELECT id, xmin::text AS tx FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 ORDER BY seq`, [b.body.id]);
    expect(links).toHaveLength(2);
    const hashTx = async (id: string) => (await t.query<{ tx: string }>(`SELECT xmin::text AS tx FROM "${t.prefix}agri".native_event_hashes WHERE event_id = $1`, [id]))[0]?.tx;
    // The registration's hash went with its link; the recall's was queued and stored by the drain, in a transaction of its own.
    expect(await hashTx(links[0].id)).toBe(links[0].tx);
    const drainedIn = await eventually(() => hashTx(links[1].id), 15_000);
    expect(drainedIn).not.toBe(links[1].tx);

    const r = await api.get(`/v1/agri/batches/${b.body.id}/epcis`);
    const recalled = (r.body.epcisBody.eventList as EpcisEvent[])[1];
    expect(recalled).toMatchObject({ disposition: expect.stringMatching(/recalled$/) });
    // While still queued (as right after a recall), a look-up by the hash its export gives stores the queued hashes first.
    await t.query(`DELETE FROM "${t.prefix}agri".native_event_hashes WHERE event_id = $1`, [links[1].id]);
    await t.query(`INSERT INTO "${t.prefix}agri".native_hash_pending (event_id) VALUES ($1)`, [links[1].id]);
    // Listed ahead of it, an id with no link (nothing to hash): it leaves the list too, and holds nothing up.
    await t.query(`INSERT INTO "${t.prefix}agri".native_hash_pending (event_id) VALUES ('00000000-0000-4000-8000-000000000000')`);
    const found = await byId(recalled.eventID!);
    expect(found.status).toBe(200);
    expect((found.body.epcisBody.queryResults.resultsBody.eventList as EpcisEvent[]).map((e) => e.eventID)).toEqual([recalled.eventID]);
    expect(await t.query(`SELECT event_id FROM "${t.prefix}agri".native_hash_pending`)).toEqual([]);
  });

  it('a link written before hashes were stored is found by its hash after a restart (the backfill)', async () => {
    const events = await exported();
    const ids = await linkIds();
    await t.stop();
    // What migration TraceChainNativeEventHashes1765500083700 leaves for a link written before it.
    await t.query(`DELETE FROM "${t.prefix}agri".native_event_hashes WHERE event_id = $1`, [ids[1]]);
    await t.query(`INSERT INTO "${t.prefix}agri".native_hash_pending (event_id) VALUES ($1)`, [ids[1]]);
    t = await startEmbeddedApp({}, { prefix: t.prefix });
    farm = { ...farm, api: t.as(farm.id, 'operator') };
    api = farm.api;
    await eventually(async () => ((await byId(events[1].eventID!)).status === 200 ? true : undefined), 30_000);
    expect(await t.query(`SELECT event_id FROM "${t.prefix}agri".native_hash_pending`)).toEqual([]);
    const [stored] = await t.query<{ epcis_hash: string }>(`SELECT epcis_hash FROM "${t.prefix}agri".native_event_hashes WHERE event_id = $1`, [ids[1]]);
    expect(stored.epcis_hash).toBe(events[1].eventID);
    expect((await exported()).map((e) => e.eventID)).toEqual(events.map((e) => e.eventID));
  }, 120_000);

  it('the background hashing gives way while a relay of the process works through a backlog, then stores every hash', async () => {
    const url = testDatabaseUrl();
    // A relay with a backlog: 150 rows in an outbox of its own, claims of 100, and a consumer that holds the
    // second claim's messages until released: from the first full claim on, the process has a backlog.
    const scratch = createServiceDataSource({ service: 'backlog', url, schemaPrefix: t.prefix, entities: [], migrations: MESSAGING_MIGRATIONS });
    await initializeServiceDatabase(scratch);
    const schema = schemaFor('backlog', t.prefix);
    await scratch.query(
      `INSERT INTO outbox (event_id, topic, message_key, event_type, payload) SELECT gen_random_uuid(), 'backlog.test', 'k' || g, 'test', '\\x00'::bytea FROM generate_series(1, 150) g`,
    );
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let delivered = 0;
    const transport = new EmbeddedTransport();
    await transport.subscribe(`backlog-${randomUUID()}`, ['backlog.test'], async () => {
      if (++delivered > 100) await held;
      return 'processed' as const;
    });
    const quiet = createLogger('silent');
    const relay = new OutboxRelay(scratch, transport, { service: 'backlog', schema, databaseUrl: url, notifyChannel: outboxChannel(schema), pollMs: 120_000, idlePollMs: 120_000, batchSize: 100, logger: quiet });
    const agri = createServiceDataSource({ service: 'agri', url, schemaPrefix: t.prefix, entities: [], migrations: [] });
    await agri.initialize();
    try {
      relay.start();
      await eventually(async () => localDeliveryBacklog() || undefined, 15_000, 10);
      // The links of the batch queued for hashing again, as a recall's are.
      const ids = await linkIds();
      await t.query(`DELETE FROM "${t.prefix}agri".native_event_hashes WHERE event_id = ANY($1::uuid[])`, [ids]);
      await t.query(`INSERT INTO "${t.prefix}agri".native_hash_pending (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING`, [ids]);
      // Whether the process had a backlog at each statement that stored hashes.
      const storedDuringBacklog: boolean[] = [];
      const query = agri.query.bind(agri);
      agri.query = (async (sql: string, params?: unknown[]) => {
        if (/INSERT INTO native_event_hashes/.test(sql)) storedDuringBacklog.push(localDeliveryBacklog());
        return query(sql, params);
      }) as typeof agri.query;
      const said: string[] = [];
      const log = { debug: (_o: unknown, msg: string) => said.push(msg), info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
      const backfill = new NativeHashBackfill('agri', agri, log);
      const drained = backfill.drain();
      await eventually(async () => said.some((m) => /wait for the outbox backlog/.test(m)) || undefined, 15_000, 10);
      release();
      expect(await drained).toBe(ids.length);
      expect(storedDuringBacklog).toEqual([false]);
      expect(localDeliveryBacklog()).toBe(false);
      expect(await t.query(`SELECT event_id FROM "${t.prefix}agri".native_hash_pending`)).toEqual([]);
      expect(await t.query(`SELECT count(*)::int AS n FROM "${t.prefix}agri".native_event_hashes WHERE event_id = ANY($1::uuid[])`, [ids])).toEqual([{ n: ids.length }]);
    } finally {
      release();
      await relay.stop();
      await transport.close();
      await scratch.destroy();
      await agri.destroy();
    }
  });

  it('a query by EPC reads each answered event\'s stored hash by its key, however many hashes are stored', async () => {
    // Sixty thousand events, each of a batch and naming an EPC of its own, and as many stored hashes, analysed.
    // PostgreSQL keeps no statistics for values this rare and guesses that an EPC names half a percent of the
    // events: three hundred. For that many it hashed the whole of native_event_hashes to join it.
    const db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    const N = 60_000;
    const marker = randomUUID();
    const [seed] = await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 ORDER BY seq LIMIT 1`, [batchId]);
    try {
      await db.query(`SET search_path = "${t.prefix}agri"`);
      // Copies of one link, marked by a capture id of their own; replica role: the append-only trigger and the
      // foreign keys stay out of the way, also of the clean-up below.
      await db.query('SET session_replication_role = replica');
      await db.query(
        `INSERT INTO trace_events SELECT (jsonb_populate_record(e, jsonb_build_object('id', gen_random_uuid(), 'batch_id', gen_random_uuid(), 'capture_id', $3::uuid,
                                          'epc_keys', jsonb_build_array('urn:plan:' || g), 'epcis_hash', NULL))).*
           FROM trace_events e, generate_series(1, $2::int) g WHERE e.id = $1`,
        [seed.id, N, marker],
      );
      await db.query(`INSERT INTO native_event_hashes (event_id, epcis_hash) SELECT id, md5(id::text) FROM trace_events WHERE capture_id = $1`, [marker]);
      await db.query(
        `INSERT INTO batches SELECT (jsonb_populate_record(b, jsonb_build_object('id', e.batch_id, 'lot', 'PLAN-' || e.id))).*
           FROM batches b, trace_events e WHERE b.id = $1 AND e.capture_id = $2`,
        [batchId, marker],
      );
      await db.query('ANALYZE trace_events; ANALYZE native_event_hashes; ANALYZE batches');
      const regulator = { clientId: 'c', orgId: 'o', role: 'regulator' } as const;
      const { text, params } = eventsStatement({ epcKeys: ['urn:plan:17'], epcPairs: [], limit: 500 } as never, regulator);
      const [{ 'QUERY PLAN': plan }] = (await db.query(`EXPLAIN (FORMAT JSON) ${text}`, params)).rows;
      type Node = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Plan Rows': number; Plans?: Node[] };
      const nodes = (n: Node): Node[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
      const all = nodes(plan[0].Plan);
      // The situation the plan is made in: the guess of a few hundred events.
      expect(all.find((n) => n['Index Name'] === 'trace_events_epc_keys_idx')?.['Plan Rows']).toBeGreaterThan(100);
      expect(all.filter((n) => n['Relation Name'] === 'native_event_hashes').map((n) => [n['Node Type'], n['Index Name']])).toEqual([['Index Scan', 'native_event_hashes_pkey']]);
      // And the answer is still right: a lot's events (by its EPC pair), each with the hash stored for it.
      const lot = eventsStatement({ epcKeys: [], epcPairs: [`${GTIN}|lot|ID-1`], limit: 500 } as never, regulator);
      const rows = (await db.query(lot.text, lot.params)).rows as { id: string; native_hash: string | null }[];
      const stored = (await db.query('SELECT event_id AS id, epcis_hash FROM native_event_hashes WHERE event_id = ANY($1::uuid[])', [rows.map((r) => r.id)])).rows as { id: string; epcis_hash: string }[];
      expect([rows.length, rows.every((r) => r.native_hash !== null)]).toEqual([2, true]);
      expect(rows.map((r) => r.native_hash)).toEqual(rows.map((r) => stored.find((h) => h.id === r.id)?.epcis_hash ?? null));
    } finally {
      await db.query(`DELETE FROM native_event_hashes WHERE event_id IN (SELECT id FROM trace_events WHERE capture_id = $1)`, [marker]);
      await db.query(`DELETE FROM batches WHERE id IN (SELECT batch_id FROM trace_events WHERE capture_id = $1)`, [marker]);
      await db.query(`DELETE FROM trace_events WHERE capture_id = $1`, [marker]);
      await db.end();
    }
  }, 120_000);
});
