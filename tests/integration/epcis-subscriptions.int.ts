import { createHmac } from 'node:crypto';
import { gs1CheckDigit } from '@trace/gs1';
import { Client } from 'pg';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { WebhookReceiver, type ReceivedDelivery } from '../support/webhook-receiver';
import { openWebSocket, type TestWebSocket } from '../support/websocket-client';
import { CAPTURES_MOVED_AT, LOOK_HORIZON, LEASE_DUE_SUBSCRIPTIONS, SubscriptionDeliveryRetention, WebSocketSubscriptions } from '@trace/service-epcis';
import { anOrg } from '../support/world';

/**
 * Stream subscriptions to EPCIS named queries (/queries/{name}/subscriptions): each newly recorded event
 * matching the query, as the subscriber's organisation sees it, is POSTed once to a real receiver on
 * 127.0.0.1 (hence WEBHOOK_ALLOW_PRIVATE=true) as an EPCISQueryDocument signed with GS1-Signature.
 */
const gtin = (body13: string) => `${body13}${gs1CheckDigit(body13)}`;
const G = gtin('0761234500219'); // no product of any domain: partner events
const sgtin = (serial: string) => `https://id.gs1.org/01/${G}/21/${serial}`;
const TOKEN = 'subscriber-chosen-token-1';

const event = (serial: string, bizStep: string) => ({
  type: 'ObjectEvent', action: 'OBSERVE', bizStep, eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00', epcList: [sgtin(serial)],
});

async function capture(api: Api, events: unknown[]) {
  const doc = {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events },
  };
  const r = await api.request('POST', '/v1/epcis/capture', doc);
  expect(r.status).toBe(202);
  const job = await eventually(async () => {
    const j = await api.get(`/v1/epcis/capture/${r.body.captureID}`);
    return j.status === 200 && !j.body.running ? j.body : undefined;
  }, 60_000);
  expect(job).toMatchObject({ success: true, errors: [] });
}

const serials = (d: ReceivedDelivery) => d.body.epcisBody.queryResults.resultsBody.eventList.map((e: { epcList: string[] }) => e.epcList[0]);

describe('EPCIS query subscriptions (stream)', () => {
  let t: EmbeddedTestApp;
  let api: Api;
  let orgId: string;
  let factory: string;
  let other: Api;
  const receiver = new WebhookReceiver();
  const before = process.env.WEBHOOK_ALLOW_PRIVATE;

  beforeAll(async () => {
    await receiver.start();
    process.env.WEBHOOK_ALLOW_PRIVATE = 'true';
    try {
      t = await startEmbeddedApp({}, {});
    } finally {
      if (before === undefined) delete process.env.WEBHOOK_ALLOW_PRIVATE;
      else process.env.WEBHOOK_ALLOW_PRIVATE = before;
    }
    const mine = await anOrg(t, 'EPCIS Subscriptions', 'processor', ['factory']);
    api = mine.api;
    orgId = mine.id;
    factory = mine.locations.factory as string;
    other = (await anOrg(t, 'EPCIS Subscriptions Other', 'processor', ['factory'])).api;
    for (const a of [api, other]) expect((await a.request('POST', '/v1/epcis/queries', { name: 'shipped', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('S-1'), sgtin('S-2'), sgtin('S-3')] } })).status).toBe(201);
    for (const a of [api, other]) expect((await a.request('POST', '/v1/epcis/queries', { name: 'ws', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('W-1'), sgtin('W-2')] } })).status).toBe(201);
    expect((await api.request('POST', '/v1/epcis/queries', { name: 'scheduled', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('T-1'), sgtin('T-2'), sgtin('T-3')] } })).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  let id: string;

  it('subscribes (201, Location, no token answered); refuses no stream nor schedule (400) and a link-local dest (400)', async () => {
    const r = await api.request('POST', '/v1/epcis/queries/shipped/subscriptions', { dest: receiver.url('/epcis'), signatureToken: TOKEN, stream: true });
    expect(r.status).toBe(201);
    id = r.body.subscriptionID;
    expect(r.headers.get('location')).toBe(`/v1/epcis/queries/shipped/subscriptions/${id}`);
    expect(r.body).toEqual({ subscriptionID: id, dest: receiver.url('/epcis'), stream: true, initialRecordTime: expect.any(String), minRecordTime: r.body.initialRecordTime, createdAt: expect.any(String) });
    const noStream = await api.request('POST', '/v1/epcis/queries/shipped/subscriptions', { dest: receiver.url('/epcis') });
    expect([noStream.status, noStream.body.errors]).toEqual([400, [{ field: '/stream', message: expect.any(String) }]]);
    for (const dest of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/hook']) {
      const refused = await api.request('POST', '/v1/epcis/queries/shipped/subscriptions', { dest, stream: true });
      expect({ dest, status: refused.status, type: refused.body.type }).toEqual({ dest, status: 400, type: expect.stringMatching(/webhook-url-refused$/) });
    }
    const unknown = await api.request('POST', '/v1/epcis/queries/nope/subscriptions', { dest: receiver.url('/epcis'), stream: true });
    expect(unknown.status).toBe(404);
  }, 30_000);

  it('sends each newly recorded matching event once, signed; not the non-matching one nor another organisation\'s', async () => {
    await capture(api, [event('S-1', 'shipping'), event('S-1', 'receiving'), event('X-9', 'shipping')]);
    const [first] = await receiver.until(() => receiver.at('/epcis').length >= 1 && receiver.at('/epcis'), 30_000);
    expect(first.body).toMatchObject({ type: 'EPCISQueryDocument', epcisBody: { queryResults: { queryName: 'shipped', subscriptionID: id } } });
    expect(serials(first)).toEqual([sgtin('S-1')]);
    expect(first.body.epcisBody.queryResults.resultsBody.eventList[0].bizStep).toBe('shipping');
    expect(first.headers['gs1-signature']).toBe(`sha256=${createHmac('sha256', TOKEN).update(first.raw).digest('hex')}`);
    // Another organisation's matching event, then ours: the next delivery holds ours only, and the first is not sent again.
    await capture(other, [event('S-2', 'shipping')]);
    await capture(api, [event('S-3', 'shipping')]);
    const all = await receiver.until(() => receiver.at('/epcis').length >= 2 && receiver.at('/epcis'), 30_000);
    expect(all.map(serials)).toEqual([[sgtin('S-1')], [sgtin('S-3')]]);
    const seen = await api.request('GET', `/v1/epcis/queries/shipped/subscriptions/${id}`);
    expect(seen.body).toMatchObject({ subscriptionID: id, lastNotifiedAt: expect.any(String) });
    // GS1-Query-Min-Record-Time: moved from initialRecordTime to the last event read (S-3's record time), in the body and on OPTIONS.
    const s3 = all[1].body.epcisBody.queryResults.resultsBody.eventList[0];
    expect(new Date(seen.body.minRecordTime).getTime()).toBe(new Date(s3.recordTime).getTime());
    expect(new Date(seen.body.minRecordTime).getTime()).toBeGreaterThan(new Date(seen.body.initialRecordTime).getTime());
    const options = await api.request('OPTIONS', `/v1/epcis/queries/shipped/subscriptions/${id}`);
    expect([options.status, options.headers.get('gs1-query-min-record-time'), options.headers.get('allow')]).toEqual([204, seen.body.minRecordTime, 'OPTIONS, GET, DELETE']);
    expect((await other.request('OPTIONS', `/v1/epcis/queries/shipped/subscriptions/${id}`)).status).toBe(404);
  }, 120_000);

  it('another organisation neither sees nor deletes the subscription; its owner lists and deletes it', async () => {
    expect((await other.request('GET', `/v1/epcis/queries/shipped/subscriptions/${id}`)).status).toBe(404);
    expect((await other.request('GET', '/v1/epcis/queries/shipped/subscriptions')).body).toEqual([]);
    const del = await other.request('DELETE', `/v1/epcis/queries/shipped/subscriptions/${id}`);
    expect([del.status, del.body.type]).toEqual([404, expect.stringMatching(/epcis-subscription-id$/)]);
    const mine = await api.request('GET', '/v1/epcis/queries/shipped/subscriptions');
    expect(mine.body.map((s: { subscriptionID: string }) => s.subscriptionID)).toEqual([id]);
    expect(JSON.stringify(mine.body)).not.toContain(TOKEN);
    expect((await api.request('DELETE', `/v1/epcis/queries/shipped/subscriptions/${id}`)).status).toBe(204);
    expect((await api.request('GET', `/v1/epcis/queries/shipped/subscriptions/${id}`)).status).toBe(404);
  }, 30_000);

  it('deleting a subscription while a delivery to it is being recorded waits for it (204), never a deadlock (500)', async () => {
    // The delivery worker records a sent delivery and the subscription's lastNotifiedAt in one transaction;
    // the DELETE locks the subscription, then (cascading) its deliveries. Both must lock in that order.
    expect((await api.request('POST', '/v1/epcis/queries', { name: 'locked', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('L-1')] } })).status).toBe(201);
    const sub = await api.request('POST', '/v1/epcis/queries/locked/subscriptions', { dest: receiver.url('/locked'), stream: true });
    expect(sub.status).toBe(201);
    const held = receiver.holdNext('/locked');
    await capture(api, [event('L-1', 'shipping')]);
    await held.arrived;
    // The worker now waits for the answer. A transaction of the test's own holds the delivery row, so the
    // worker's recording of the answer waits at the delivery, and the DELETE can come in between.
    const blocker = new Client({ connectionString: testDatabaseUrl() });
    await blocker.connect();
    try {
      const [{ pid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;
      await blocker.query('BEGIN');
      const locked = await blocker.query(`SELECT id FROM ${t.prefix}epcis.query_subscription_deliveries WHERE subscription_id = $1 FOR UPDATE`, [sub.body.subscriptionID]);
      expect(locked.rowCount).toBe(1);
      held.answer(200);
      const waitingOn = (holders: number[], statement: string) =>
        eventually(async () => {
          const rows = await t.query(`SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND pg_blocking_pids(pid) && $2::int[]`, [`${statement}%`, holders]);
          return rows[0]?.pid as number | undefined;
        }, 30_000);
      const worker = await waitingOn([pid], `UPDATE query_subscription_deliveries SET status = 'delivered'`);
      const deleted = api.request('DELETE', `/v1/epcis/queries/locked/subscriptions/${sub.body.subscriptionID}`);
      await waitingOn([pid, worker], 'DELETE FROM query_subscriptions');
      await blocker.query('COMMIT');
      expect((await deleted).status).toBe(204);
    } finally {
      await blocker.end();
    }
    expect((await api.request('GET', `/v1/epcis/queries/locked/subscriptions/${sub.body.subscriptionID}`)).status).toBe(404);
    expect(receiver.at('/locked')).toHaveLength(1);
  }, 60_000);

  it('a look overtaken after its lease ran out (another worker moved the cursor meanwhile) writes no delivery: nothing is sent twice', async () => {
    expect((await api.request('POST', '/v1/epcis/queries', { name: 'overtaken', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('V-1')] } })).status).toBe(201);
    const since = new Date(Date.now() - 1_000).toISOString();
    await capture(api, [event('V-1', 'shipping')]);
    const blocker = new Client({ connectionString: testDatabaseUrl() });
    await blocker.connect();
    let subscriptionId: string;
    try {
      const [{ pid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;
      // The look reads partner events (unbound_events) after taking its lease: held there, it outlives the lease.
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${t.prefix}epcis.unbound_events IN ACCESS EXCLUSIVE MODE`);
      const sub = await api.request('POST', '/v1/epcis/queries/overtaken/subscriptions', { dest: receiver.url('/overtaken'), stream: true, initialRecordTime: since });
      expect(sub.status).toBe(201);
      subscriptionId = sub.body.subscriptionID;
      await eventually(async () => {
        const [{ leased }] = await t.query(`SELECT lease_until IS NOT NULL AS leased FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [subscriptionId]);
        const waiting = await t.query(`SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && $1::int[]`, [[pid]]);
        return (leased && waiting.length > 0) || undefined;
      }, 30_000);
      // Meanwhile another worker, the lease having run out, looked and moved the cursor past everything there is.
      await blocker.query(`UPDATE ${t.prefix}epcis.query_subscriptions SET cursor_record_time = '9999-01-01T00:00:00.000000Z', cursor_key = '', lease_until = NULL WHERE id = $1`, [subscriptionId]);
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    // A look that completes sets looked_at: the overtaken one does not, the next one (from the moved cursor) does.
    await eventually(async () => {
      const [row] = await t.query(`SELECT looked_at FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [subscriptionId]);
      return row.looked_at !== null || undefined;
    }, 30_000);
    const [{ n }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}epcis.query_subscription_deliveries WHERE subscription_id = $1`, [subscriptionId]);
    const [{ cursor }] = await t.query(`SELECT cursor_record_time AS cursor FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [subscriptionId]);
    expect({ deliveries: n, cursor }).toEqual({ deliveries: 0, cursor: '9999-01-01T00:00:00.000000Z' });
    expect((await api.request('DELETE', `/v1/epcis/queries/overtaken/subscriptions/${subscriptionId}`)).status).toBe(204);
  }, 90_000);

  it("a capture's events are recorded at its job's start by the database's clock, never before it, whatever this process's clock says", async () => {
    // A look reads no event recorded at or after the start of a capture still running: recorded before that
    // start (this process's clock behind the database's), a capture's events could land behind a cursor a look
    // moved meanwhile and never be sent. Here the app's clock runs two seconds behind PostgreSQL's.
    jest.useFakeTimers({
      now: Date.now() - 2_000,
      advanceTimers: true,
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    });
    let captureId: string;
    try {
      const doc = {
        '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
        type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: [event('K-1', 'shipping')] },
      };
      const r = await api.request('POST', '/v1/epcis/capture', doc);
      expect(r.status).toBe(202);
      captureId = r.body.captureID;
      await eventually(async () => {
        const j = await api.get(`/v1/epcis/capture/${captureId}`);
        return (j.status === 200 && !j.body.running && j.body.success) || undefined;
      }, 60_000);
    } finally {
      jest.useRealTimers();
    }
    const rows = await t.query(
      `SELECT e.record_time >= j.created_at AS after_start, e.record_time - j.created_at < interval '1 millisecond' AS at_start
         FROM ${t.prefix}epcis.unbound_events e JOIN ${t.prefix}epcis.capture_jobs j ON j.id = e.capture_id WHERE e.capture_id = $1`,
      [captureId],
    );
    expect(rows).toEqual([{ after_start: true, at_start: true }]);
  }, 90_000);

  /** Two lots of a food product, a named query for their storing events and a stream subscription to it (receiver path /<name>). */
  const twoLotsSubscribed = async (name: string, lots: [string, string]) => {
    const Q = gtin('0761234500409');
    await aProduct(api, 'food', Q, 'flour');
    const lot = (l: string) => `https://id.gs1.org/01/${Q}/10/${l}`;
    const ids: string[] = [];
    for (const l of lots) {
      const b = await api.post('/v1/food/batches', { ...aBatch(l, factory), gtin: Q });
      expect(b.status).toBe(201);
      ids.push(b.body.id);
    }
    expect((await api.request('POST', '/v1/epcis/queries', { name, query: { EQ_bizStep: ['storing'], MATCH_epcClass: lots.map(lot) } })).status).toBe(201);
    const sub = await api.request('POST', `/v1/epcis/queries/${name}/subscriptions`, { dest: receiver.url(`/${name}`), stream: true });
    expect(sub.status).toBe(201);
    /** The lots of the events sent so far, in the order they came. */
    const sent = () =>
      receiver.at(`/${name}`).flatMap((d) => d.body.epcisBody.queryResults.resultsBody.eventList.map((e: { quantityList?: { epcClass: string }[] }) => e.quantityList?.[0]?.epcClass));
    return { lot, ids, sub, sent };
  };

  it('an event written after a later-started one commits is sent too: a link is recorded when it is written, not when its transaction started', async () => {
    // Held on its batch's row lock, the event on LATE-1 starts first and commits last; the one on LATE-2
    // commits in between and is sent. Recorded at its transaction's start (now()), LATE-1's fell behind the
    // cursor that sending LATE-2's had moved, and was never sent.
    const { lot, ids, sub, sent } = await twoLotsSubscribed('inflight', ['LATE-1', 'LATE-2']);
    const storing = (id: string) => api.post(`/v1/food/batches/${id}/events`, { bizStep: 'storing', eventTime: new Date().toISOString(), locationId: factory });
    const blocker = new Client({ connectionString: testDatabaseUrl() });
    await blocker.connect();
    let first: Promise<{ status: number }> | undefined;
    try {
      const [{ pid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${t.prefix}food.batches WHERE id = $1 FOR UPDATE`, [ids[0]]);
      first = storing(ids[0]);
      await eventually(async () => (await t.query(`SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && $1::int[]`, [[pid]])).length > 0 || undefined, 30_000);
      expect((await storing(ids[1])).status).toBe(201);
      // A look after LATE-2's commit (the write wakes the worker).
      const [{ after }] = await t.query(`SELECT now() AS after`);
      await eventually(async () => {
        const [row] = await t.query(`SELECT looked_at > $2 AS looked FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [sub.body.subscriptionID, after]);
        return row.looked || undefined;
      }, 30_000);
      await blocker.query('COMMIT');
      expect((await first).status).toBe(201);
    } finally {
      await blocker.end();
      await first?.catch(() => undefined);
    }
    await receiver.until(() => sent().length >= 2, 15_000);
    expect(sent().sort()).toEqual([lot('LATE-1'), lot('LATE-2')]);
  }, 120_000);

  it('a link written but not committed holds the looks back: a later one committed meanwhile is sent after it, neither lost', async () => {
    const { lot, ids, sub, sent } = await twoLotsSubscribed('uncommitted', ['LATE-3', 'LATE-4']);
    // A writer whose link on LATE-3 is written and not yet committed (a copy of its first link, as storing).
    const writer = new Client({ connectionString: testDatabaseUrl() });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      const [{ started }] = (await writer.query('SELECT now() AS started')).rows;
      await writer.query(
        `INSERT INTO ${t.prefix}food.trace_events
         SELECT (jsonb_populate_record(e, jsonb_build_object('id', gen_random_uuid(), 'seq', e.seq + 1000, 'biz_step', 'storing', 'record_time', clock_timestamp()))).*
           FROM ${t.prefix}food.trace_events e WHERE e.batch_id = $1 AND e.seq = 1`,
        [ids[0]],
      );
      expect((await api.post(`/v1/food/batches/${ids[1]}/events`, { bizStep: 'storing', eventTime: new Date().toISOString(), locationId: factory })).status).toBe(201);
      // A look after LATE-4's commit (the write wakes the worker): it has looked up to the open writer's start.
      await eventually(async () => {
        const [row] = await t.query(`SELECT looked_at >= $2 AS looked FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [sub.body.subscriptionID, started]);
        return row.looked || undefined;
      }, 30_000);
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    await receiver.until(() => sent().length >= 2, 15_000);
    expect(sent().sort()).toEqual([lot('LATE-3'), lot('LATE-4')]);
  }, 120_000);

  describe('WebSocket (GET /queries/{name}/events with Upgrade: websocket)', () => {
    const wsAt = (path: string) => `${t.url}/v1/epcis/queries/${path}`;
    const open = async (path: string, headers: Record<string, string> = {}) => {
      const r = await openWebSocket(wsAt(path), headers);
      if (r.status !== 101) throw new Error(`no upgrade: ${r.status} ${JSON.stringify((r as { body?: unknown }).body)}`);
      return (r as { ws: TestWebSocket }).ws;
    };
    const wsSerials = (ws: TestWebSocket) => ws.documents.flatMap((d) => d.epcisBody.queryResults.resultsBody.eventList.map((e: { epcList: string[] }) => e.epcList[0]));

    it('refuses before upgrading: no or bad token 401, another organisation\'s query 404, bad controls 400 SubscriptionControlsException', async () => {
      const token = (await api.headers()).authorization;
      const cases: [string, Record<string, string>, number, string | undefined][] = [
        ['ws/events?stream=true', {}, 401, undefined],
        ['ws/events?stream=true&access_token=not.a.token', {}, 401, undefined],
        ['nope/events?stream=true', { authorization: token }, 404, undefined],
        ['ws/events', { authorization: token }, 400, 'stream'],
        ['ws/events?stream=true&minute=5', { authorization: token }, 400, 'stream'],
        ['ws/events?minute=61', { authorization: token }, 400, 'minute'],
        ['ws/events?stream=true&perPage=3', { authorization: token }, 400, 'perPage'],
      ];
      for (const [path, headers, status, field] of cases) {
        const r = await openWebSocket(wsAt(path), headers);
        const body = (r as { body: any }).body;
        expect({ path, status: r.status, contentType: r.headers['content-type'], field: body.errors?.[0]?.field, epcisException: body.epcisException }).toEqual({
          path, status, contentType: 'application/problem+json', field,
          epcisException: status === 400 ? 'epcisException:SubscriptionControlsException' : undefined,
        });
      }
    }, 30_000);

    it('stream: each new matching event the organisation may see, as an EPCISQueryDocument message; a bearer header or access_token', async () => {
      const mine = await open('ws/events?stream=true', await api.headers());
      const theirs = await open(`ws/events?stream=true&access_token=${encodeURIComponent((await other.headers()).authorization.slice('Bearer '.length))}`);
      await capture(other, [event('W-2', 'shipping')]);
      await capture(api, [event('W-1', 'shipping'), event('W-1', 'receiving')]);
      await mine.until(() => wsSerials(mine).includes(sgtin('W-1')), 30_000);
      // Recorded before ours, so a look that could see it would have sent it first: it was not the subscriber's to see.
      expect(wsSerials(mine)).toEqual([sgtin('W-1')]);
      expect(mine.documents[0]).toMatchObject({ type: 'EPCISQueryDocument', epcisBody: { queryResults: { queryName: 'ws', subscriptionID: expect.any(String) } } });
      await theirs.until(() => wsSerials(theirs).includes(sgtin('W-2')), 30_000);
      expect(wsSerials(theirs)).toEqual([sgtin('W-2')]);
      mine.close();
      theirs.close();
      const subscriptions = t.app.get(WebSocketSubscriptions);
      await eventually(async () => subscriptions.openCount === 0 || undefined, 10_000);
    }, 120_000);

    it('a socket opened while the worker is in a pass: every socket gets each event once, however the passes overlap', async () => {
      expect((await api.request('POST', '/v1/epcis/queries', { name: 'overlap', query: { EQ_bizStep: ['shipping'], MATCH_epc: [sgtin('O-1'), sgtin('O-2')] } })).status).toBe(201);
      const since = new Date(Date.now() - 1_000).toISOString();
      await capture(api, [event('O-1', 'shipping')]);
      const path = `overlap/events?stream=true&initialRecordTime=${encodeURIComponent(since)}`;
      // The worker's pass starts by reading capture_jobs: held there, it is still running when the second socket opens.
      const blocker = new Client({ connectionString: testDatabaseUrl() });
      await blocker.connect();
      let sockets: TestWebSocket[] = [];
      try {
        const [{ pid }] = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows;
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${t.prefix}epcis.capture_jobs IN ACCESS EXCLUSIVE MODE`);
        const first = await open(path, await api.headers());
        await eventually(async () => {
          const rows = await t.query(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT GREATEST(max(COALESCE(finished_at%' AND pg_blocking_pids(pid) && $1::int[]`, [[pid]]);
          return rows.length > 0 || undefined;
        }, 30_000);
        sockets = [first, await open(path, await api.headers())];
        await blocker.query('COMMIT');
      } finally {
        await blocker.end();
      }
      for (const ws of sockets) await ws.until(() => wsSerials(ws).includes(sgtin('O-1')), 30_000);
      await capture(api, [event('O-2', 'shipping')]);
      for (const ws of sockets) await ws.until(() => wsSerials(ws).includes(sgtin('O-2')), 30_000);
      expect(sockets.map(wsSerials)).toEqual([[sgtin('O-1'), sgtin('O-2')], [sgtin('O-1'), sgtin('O-2')]]);
      for (const ws of sockets) ws.close();
      await eventually(async () => t.app.get(WebSocketSubscriptions).openCount === 0 || undefined, 10_000);
    }, 120_000);

    it('stream, webhook and WebSocket: a registration and an event recorded through the domain REST API arrive with no capture happening', async () => {
      const R = gtin('0761234500318');
      const lot = `https://id.gs1.org/01/${R}/10/REST-1`;
      await aProduct(api, 'food', R, 'flour');
      expect((await api.request('POST', '/v1/epcis/queries', { name: 'rest', query: { MATCH_epcClass: [lot] } })).status).toBe(201);
      const hook = await api.request('POST', '/v1/epcis/queries/rest/subscriptions', { dest: receiver.url('/rest'), stream: true });
      expect(hook.status).toBe(201);
      const since = new Date(Date.now() - 1_000).toISOString();
      const opened = await openWebSocket(wsAt(`rest/events?stream=true&initialRecordTime=${since}`), await api.headers());
      // The binding's GS1-Query-Min-Record-Time on the 101: where this subscription starts.
      expect([opened.status, opened.headers['gs1-query-min-record-time']]).toEqual([101, since]);
      const ws = (opened as { ws: TestWebSocket }).ws;
      const [{ n: capturesBefore }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}epcis.capture_jobs`);
      const batch = await api.post('/v1/food/batches', { ...aBatch('REST-1', factory), gtin: R });
      expect(batch.status).toBe(201);
      expect((await api.post(`/v1/food/batches/${batch.body.id}/events`, { bizStep: 'storing', eventTime: new Date().toISOString(), locationId: factory })).status).toBe(201);
      const steps = (documents: any[]) => documents.flatMap((d) => d.epcisBody.queryResults.resultsBody.eventList.map((e: { bizStep: string }) => e.bizStep));
      await receiver.until(() => steps(receiver.at('/rest').map((d) => d.body)).length >= 2, 15_000);
      await ws.until(() => steps(ws.documents).length >= 2, 15_000);
      expect(steps(receiver.at('/rest').map((d) => d.body))).toEqual(['commissioning', 'storing']);
      expect(steps(ws.documents)).toEqual(['commissioning', 'storing']);
      // Not a capture's doing: none was made meanwhile.
      const [{ n: capturesAfter }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}epcis.capture_jobs`);
      expect(capturesAfter).toBe(capturesBefore);
      ws.close();
      expect((await api.request('DELETE', `/v1/epcis/queries/rest/subscriptions/${hook.body.subscriptionID}`)).status).toBe(204);
    }, 60_000);

    it('scheduled: every run a document (empty ones with reportIfEmpty); deleting the query closes the socket', async () => {
      expect((await api.request('POST', '/v1/epcis/queries', { name: 'ws-temp', query: { EQ_bizStep: ['shipping'] } })).status).toBe(201);
      const ws = await open('ws-temp/events?second=[0-59]&reportIfEmpty=true', await api.headers());
      await ws.until(() => ws.documents.length >= 2, 30_000);
      expect(ws.documents.slice(0, 2).map((d) => d.epcisBody.queryResults.resultsBody.eventList)).toEqual([[], []]);
      expect((await api.request('DELETE', '/v1/epcis/queries/ws-temp')).status).toBe(204);
      await ws.until(() => ws.closedWith !== undefined, 30_000);
      expect(ws.closedWith).toBe(1000);
    }, 60_000);
  });

  describe('scheduled (schedule, reportIfEmpty)', () => {
    const subscribe = (body: Record<string, unknown>) => api.request('POST', '/v1/epcis/queries/scheduled/subscriptions', body);

    it('refuses a malformed schedule with the binding\'s SubscriptionControlsException, naming each member', async () => {
      const cases: [Record<string, unknown>, string[]][] = [
        [{ schedule: { minute: '60' } }, ['/schedule/minute']],
        [{ schedule: { hour: '1-5', weekday: '1' } }, ['/schedule/weekday', '/schedule/hour']],
        [{ schedule: {} }, ['/schedule']],
        [{ schedule: '0 5 1 * * *' }, ['/schedule']],
        [{ schedule: { hour: '1' }, stream: true }, ['/stream']],
        [{ stream: true, reportIfEmpty: true }, ['/reportIfEmpty']],
        [{ schedule: { hour: '1' }, reportIfEmpty: 'yes' }, ['/reportIfEmpty']],
      ];
      for (const [body, fields] of cases) {
        const r = await subscribe({ dest: receiver.url('/never'), ...body });
        expect({ body, status: r.status, contentType: r.headers.get('content-type'), epcisException: r.body.epcisException, fields: r.body.errors?.map((e: { field: string }) => e.field) }).toEqual({
          body, status: 400, contentType: expect.stringContaining('application/problem+json'), epcisException: 'epcisException:SubscriptionControlsException', fields,
        });
      }
      const daily = await subscribe({ dest: receiver.url('/never'), schedule: { hour: '1', minute: '5' } });
      expect(daily.status).toBe(201);
      const tomorrowAt = new Date(Date.now() + (new Date().getUTCHours() * 60 + new Date().getUTCMinutes() >= 65 ? 86_400_000 : 0));
      expect(daily.body).toEqual({
        subscriptionID: expect.any(String), dest: receiver.url('/never'), schedule: { hour: '1', minute: '5' }, reportIfEmpty: false,
        nextRunAt: `${tomorrowAt.toISOString().slice(0, 10)}T01:05:00.000Z`, initialRecordTime: expect.any(String), minRecordTime: daily.body.initialRecordTime, createdAt: expect.any(String),
      });
      expect((await api.request('DELETE', `/v1/epcis/queries/scheduled/subscriptions/${daily.body.subscriptionID}`)).status).toBe(204);
    }, 30_000);

    it('each run sends the events recorded since the previous one; an empty document only with reportIfEmpty', async () => {
      const everySecond = { second: '[0-59]' };
      const quiet = await subscribe({ dest: receiver.url('/sched'), signatureToken: TOKEN, schedule: everySecond });
      const chatty = await subscribe({ dest: receiver.url('/sched-empty'), schedule: everySecond, reportIfEmpty: true });
      expect([quiet.status, chatty.status]).toEqual([201, 201]);
      // Runs with nothing new: the chatty one reports them.
      const [empty] = await receiver.until(() => receiver.at('/sched-empty').length >= 1 && receiver.at('/sched-empty'), 30_000);
      expect(empty.body).toMatchObject({ type: 'EPCISQueryDocument', epcisBody: { queryResults: { queryName: 'scheduled', subscriptionID: chatty.body.subscriptionID, resultsBody: { eventList: [] } } } });
      await capture(api, [event('T-1', 'shipping'), event('T-1', 'receiving')]);
      await receiver.until(() => receiver.at('/sched').length >= 1, 30_000);
      await capture(api, [event('T-2', 'shipping')]);
      const quietRuns = await receiver.until(() => receiver.at('/sched').length >= 2 && receiver.at('/sched'), 30_000);
      expect(quietRuns.map(serials)).toEqual([[sgtin('T-1')], [sgtin('T-2')]]);
      expect(quietRuns[0].headers['gs1-signature']).toBe(`sha256=${createHmac('sha256', TOKEN).update(quietRuns[0].raw).digest('hex')}`);
      await receiver.until(() => receiver.at('/sched-empty').some((d) => serials(d).includes(sgtin('T-2'))), 30_000);
      expect(receiver.at('/sched-empty').flatMap(serials)).toEqual([sgtin('T-1'), sgtin('T-2')]);
      // The quiet one keeps running (its next run moves on) without sending a document of nothing.
      const lastSent = new Date();
      await eventually(async () => {
        const [row] = await t.query(`SELECT next_run_at FROM ${t.prefix}epcis.query_subscriptions WHERE id = $1`, [quiet.body.subscriptionID]);
        return row.next_run_at.getTime() > lastSent.getTime() + 2_000 || undefined;
      }, 30_000);
      expect(receiver.at('/sched').map(serials)).toEqual([[sgtin('T-1')], [sgtin('T-2')]]);
      for (const s of [quiet, chatty]) expect((await api.request('DELETE', `/v1/epcis/queries/scheduled/subscriptions/${s.body.subscriptionID}`)).status).toBe(204);
    }, 120_000);

    it('keeps its next run across a restart: a run missed while stopped is done once on start', async () => {
      const yearly = await subscribe({ dest: receiver.url('/yearly'), schedule: { month: '1', dayOfMonth: '1' }, reportIfEmpty: true });
      expect(yearly.status).toBe(201);
      const firstRun = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`;
      expect(yearly.body.nextRunAt).toBe(firstRun);
      await capture(api, [event('T-3', 'shipping')]);
      await t.stop();
      // While it was stopped, New Year went by (twice): one run is owed, not two.
      await t.query(`UPDATE ${t.prefix}epcis.query_subscriptions SET next_run_at = now() - interval '400 days' WHERE id = $1`, [yearly.body.subscriptionID]);
      process.env.WEBHOOK_ALLOW_PRIVATE = 'true';
      try {
        t = await startEmbeddedApp({}, { prefix: t.prefix });
      } finally {
        if (before === undefined) delete process.env.WEBHOOK_ALLOW_PRIVATE;
        else process.env.WEBHOOK_ALLOW_PRIVATE = before;
      }
      const [run] = await receiver.until(() => receiver.at('/yearly').length >= 1 && receiver.at('/yearly'), 30_000);
      expect(serials(run)).toEqual([sgtin('T-3')]);
      const again = t.as(orgId, 'operator');
      const seen = await eventually(async () => {
        const r = await again.request('GET', `/v1/epcis/queries/scheduled/subscriptions/${yearly.body.subscriptionID}`);
        return r.body.lastNotifiedAt ? r.body : undefined;
      }, 30_000);
      expect(seen.nextRunAt).toBe(firstRun);
      expect(receiver.at('/yearly')).toHaveLength(1);
    }, 120_000);
  });

  it("the worker's looks at capture jobs and subscriptions stay index look-ups however many there have been", async () => {
    // Many finished jobs and one running, analysed: read whole, each worker pass would cost what the table weighs.
    const db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    try {
      await db.query(`SET search_path = "${t.prefix}epcis"`);
      await db.query(
        `INSERT INTO capture_jobs (id, org_id, error_behaviour, running, total, created_at, heartbeat_at, finished_at)
         SELECT gen_random_uuid(), 'plan-org-' || (g % 50), 'rollback', false, 10, now() - g * interval '1 minute', now() - g * interval '1 minute', now() - g * interval '1 minute'
           FROM generate_series(1, 20000) g`,
      );
      await db.query(`INSERT INTO capture_jobs (id, org_id, error_behaviour, total) VALUES (gen_random_uuid(), 'plan-org-1', 'rollback', 10)`);
      await db.query('ANALYZE capture_jobs');
      for (const [statement, index] of [
        [CAPTURES_MOVED_AT, 'capture_jobs_moved_idx'],
        [LOOK_HORIZON, 'capture_jobs_running_idx'],
      ]) {
        const [{ 'QUERY PLAN': plan }] = (await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement}`)).rows;
        type Node = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows': number; Plans?: Node[] };
        const nodes = (n: Node): Node[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
        const jobs = nodes(plan[0].Plan).filter((n) => n['Relation Name'] === 'capture_jobs');
        expect([statement, jobs.some((n) => n['Index Name'] === index), jobs.some((n) => n['Node Type'] === 'Seq Scan')]).toEqual([statement, true, false]);
        // At most the one running job and the newest finished one are read, not the twenty thousand.
        expect([statement, Math.max(...jobs.map((n) => n['Actual Rows']))]).toEqual([statement, 1]);
      }
      await db.query(`DELETE FROM capture_jobs WHERE org_id LIKE 'plan-org-%'`);
      // Five thousand stream subscriptions that looked after the last movement (not due): each pass finds the due
      // ones through the index of the streams' looks, not by reading them all.
      await db.query(
        `INSERT INTO query_subscriptions (id, org_id, query_name, role, created_by, dest, initial_record_time, cursor_record_time, looked_at)
         SELECT gen_random_uuid(), $1, 'shipped', 'operator', 'plans', 'http://127.0.0.1:9/none', now(), '', now() + interval '1 hour' FROM generate_series(1, 5000)`,
        [orgId],
      );
      await db.query('ANALYZE query_subscriptions');
      const [{ 'QUERY PLAN': leasePlan }] = (await db.query(`EXPLAIN (FORMAT JSON) ${LEASE_DUE_SUBSCRIPTIONS}`, [null])).rows;
      type Node = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: Node[] };
      const nodes = (n: Node): Node[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
      const all = nodes(leasePlan[0].Plan);
      expect(all.some((n) => n['Index Name'] === 'query_subscriptions_stream_looked_idx')).toBe(true);
      expect(all.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'query_subscriptions')).toEqual([]);
      await db.query(`DELETE FROM query_subscriptions WHERE created_by = 'plans'`);
    } finally {
      await db.end();
    }
  });

  it('deletes sent and abandoned deliveries past their retention (720 hours), never one still pending, through its index', async () => {
    const db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    try {
      await db.query(`SET search_path = "${t.prefix}epcis"`);
      // A subscription of its own that is never due (it looked an hour from now), for the deliveries to belong to.
      const [{ id: sub }] = (
        await db.query(
          `INSERT INTO query_subscriptions (id, org_id, query_name, role, created_by, dest, initial_record_time, cursor_record_time, looked_at)
           VALUES (gen_random_uuid(), $1, 'shipped', 'operator', 'retention', 'http://127.0.0.1:9/none', now(), '', now() + interval '1 hour') RETURNING id`,
          [orgId],
        )
      ).rows;
      const delivery = async (label: string, status: string, ageHours: number) =>
        (
          await db.query(
            // next_attempt_at a day ahead: the worker leaves the pending one alone during the test.
            `INSERT INTO query_subscription_deliveries (id, subscription_id, body, status, created_at, next_attempt_at)
             VALUES (gen_random_uuid(), $1, $2, $3, now() - $4 * interval '1 hour', now() + interval '1 day') RETURNING id`,
            [sub, label, status, ageHours],
          )
        ).rows[0].id as string;
      await delivery('old sent', 'delivered', 721);
      await delivery('old abandoned', 'failed', 800);
      const oldPending = await delivery('old pending', 'pending', 900);
      const recentSent = await delivery('recent sent', 'delivered', 719);
      const retention = t.app.get(SubscriptionDeliveryRetention, { strict: false });
      expect(await retention.tick()).toBe(2);
      const left = (await db.query(`SELECT id FROM query_subscription_deliveries WHERE subscription_id = $1 ORDER BY body`, [sub])).rows.map((r) => r.id);
      expect(left.sort()).toEqual([oldPending, recentSent].sort());
      expect(await retention.tick()).toBe(0);
      // Found through the BRIN index on created_at once the table is large enough to prefer it (here: forced).
      await db.query('SET enable_seqscan = off');
      const [{ 'QUERY PLAN': plan }] = (
        await db.query(`EXPLAIN (FORMAT JSON) SELECT id FROM query_subscription_deliveries WHERE created_at < now() - interval '720 hours' AND status <> 'pending'`)
      ).rows;
      expect(JSON.stringify(plan)).toContain('query_subscription_deliveries_created_brin');
      await db.query('RESET enable_seqscan');
      await db.query(`DELETE FROM query_subscriptions WHERE id = $1`, [sub]);
    } finally {
      await db.end();
    }
  });
});
