import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  createEnvelope,
  Domain,
  encodeEnvelope,
  EVENT_TYPE_NAMES,
  timestampFromDate,
  TOPIC_OF,
  type EventCase,
  type PayloadInit,
} from '@trace/contracts';
import { InboxDispatcher, PoisonMessageError } from '@trace/messaging';
import { createLogger, HealthRegistry } from '@trace/platform';
import { LineageIndex, type LineageIndexOptions } from '@trace/service-lineage';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const now = () => new Date().toISOString();
const WHEAT = '09506000134352';
const BARLEY = '09501101530003';
const FLOUR = '04012345000016';
const BREAD = '04012345000023';

interface TraceBody {
  root: { domain: string; batchId: string };
  nodes: { domain: string; batchId: string; gtin: string | null; lot: string | null; status: string; holderOrgId: string | null; registered: boolean }[];
  edges: { from: string; to: string; kind: string }[];
}

const lots = (b: TraceBody) => b.nodes.map((n) => n.lot).sort();
/** The input edges (shipment edges, custody of one batch, are tested in trace-names.int.ts). */
const edgeLots = (b: TraceBody) => {
  const lot = new Map(b.nodes.map((n) => [n.batchId, n.lot]));
  return b.edges.filter((e) => e.kind === 'input').map((e) => `${lot.get(e.from)}>${lot.get(e.to)}:${e.kind}`).sort();
};

/** The lineage read model behind GET /v1/trace, fed by the real domain services and by events delivered out of order. */
/** A node update shaped as the projector writes one (its state, version and writing transaction): held by `holder`. */
const updateAsTheProjector = (c: Client, schema: string, batchId: string, holder: string) =>
  c.query(
    `UPDATE ${schema}.lineage_nodes SET status = 'held', status_seq = 2, holder_org_id = $2, version = version + 1, tx = pg_current_xact_id() WHERE batch_id = $1`,
    [batchId, holder],
  );

describe('lineage trace (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg; // farm
  let P: TestOrg; // processor
  let R: TestOrg; // retailer
  let S: TestOrg; // a stranger
  let inspector: Api;
  let regulator: Api;
  let inbox: InboxDispatcher;
  let index: LineageIndex;
  const b: Record<string, { id: string; domain: string }> = {};

  const register = async (org: TestOrg, domain: string, gtin: string, lot: string, inputs: { domain: string; batchId: string; qty: number; unit: string }[] = []) => {
    const locationId = org.locations.farm ?? org.locations.factory!;
    const r = await org.api.post(`/v1/${domain}/batches`, {
      ...aBatch(lot, locationId),
      gtin,
      quantity: { value: 1000, unit: domain === 'agri' ? 'kg' : 'jar' },
      ...(inputs.length ? { inputs: inputs.map((i) => ({ domain: i.domain, batchId: i.batchId, quantity: { value: i.qty, unit: i.unit } })) } : {}),
    });
    if (r.status !== 201) throw new Error(`${domain} batch ${lot}: ${r.status} ${JSON.stringify(r.body)}`);
    b[lot] = { id: r.body.id, domain };
    return b[lot];
  };
  const event = async (org: TestOrg, lot: string, body: Record<string, unknown>) => {
    const { id, domain } = b[lot];
    const locationId = org.locations.farm ?? org.locations.factory ?? org.locations.store!;
    const r = await org.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId, ...body });
    if (r.status !== 201) throw new Error(`${lot} ${body.bizStep}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const ship = async (from: TestOrg, to: TestOrg, lot: string) => {
    await event(from, lot, { bizStep: 'shipping', toOrgId: to.id });
    await event(to, lot, { bizStep: 'receiving' });
  };
  const trace = (api: Api, lot: string, query = '') => api.get(`/v1/trace/${b[lot].domain}/${b[lot].id}${query}`);

  /** Delivers an event to the lineage consumer exactly as a relay would: through its real inbox. */
  const message = <C extends EventCase>(eventCase: C, subject: string, payload: PayloadInit<C>, id = randomUUID()) => ({
      topic: TOPIC_OF[eventCase],
      key: subject,
      headers: {},
      value: Buffer.from(
        encodeEnvelope(
          createEnvelope({
            id,
            type: EVENT_TYPE_NAMES[eventCase],
            version: 1,
            source: 'test',
            orgId: 'org-test',
            subject,
            occurredAt: timestampFromDate(new Date()),
            recordedAt: timestampFromDate(new Date()),
            payload: { case: eventCase, value: payload } as never,
          }),
        ),
      ),
    });
  const deliver = <C extends EventCase>(eventCase: C, subject: string, payload: PayloadInit<C>, id = randomUUID()) =>
    inbox.dispatch(message(eventCase, subject, payload, id));

  beforeAll(async () => {
    t = await startEmbeddedApp();
    inbox = t.app.get(InboxDispatcher, { each: true }).find((i) => i.consumer === 'lineage')!;
    index = t.app.get(LineageIndex);
    F = await anOrg(t, 'Green Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Sauce Works', 'processor', ['factory']);
    R = await anOrg(t, 'Corner Shop', 'retailer', ['store']);
    S = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    inspector = t.as('agency-1', 'inspector');
    regulator = t.as('gov', 'regulator');
    await aProduct(F.api, 'agri', WHEAT, 'grain');
    await aProduct(F.api, 'agri', BARLEY, 'grain');
    await aProduct(P.api, 'food', FLOUR, 'flour');
    await aProduct(P.api, 'food', BREAD, 'bread');

    //  WHEAT-1 (agri) ──┐
    //                   ├─> FLOUR-1 (food) ──> BREAD-1 (food, shipped to R)
    //  BARLEY-1 (agri) ─┘
    //  WHEAT-2 (agri, never used)
    await register(F, 'agri', WHEAT, 'WHEAT-1');
    await register(F, 'agri', BARLEY, 'BARLEY-1');
    await register(F, 'agri', WHEAT, 'WHEAT-2');
    await ship(F, P, 'WHEAT-1');
    await ship(F, P, 'BARLEY-1');
    await register(P, 'food', FLOUR, 'FLOUR-1', [
      { domain: 'agri', batchId: b['WHEAT-1'].id, qty: 300, unit: 'kg' },
      { domain: 'agri', batchId: b['BARLEY-1'].id, qty: 50, unit: 'kg' },
    ]);
    await register(P, 'food', BREAD, 'BREAD-1', [{ domain: 'food', batchId: b['FLOUR-1'].id, qty: 100, unit: 'jar' }]);
    await event(P, 'BREAD-1', { bizStep: 'shipping', toOrgId: R.id });
    await event(R, 'BREAD-1', { bizStep: 'receiving', locationId: R.locations.store });
    // Every event has reached the lineage service (each relay delivers on its own schedule).
    await eventually(async () => {
      const up = (await trace(inspector, 'BREAD-1', '?direction=upstream')).body as TraceBody;
      const holders = Object.fromEntries((up.nodes ?? []).filter((n) => n.registered).map((n) => [n.lot, n.holderOrgId]));
      const wheat2 = (await trace(inspector, 'WHEAT-2')).status === 200;
      return wheat2 && holders['BREAD-1'] === R.id && holders['FLOUR-1'] === P.id && holders['WHEAT-1'] === P.id && holders['BARLEY-1'] === P.id;
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('traces downstream, upstream and both, across domains, with node fields and input edges', async () => {
    const down = await trace(inspector, 'WHEAT-1', '?direction=downstream&depth=10');
    expect(down.status).toBe(200);
    expect(down.body.root).toEqual({ domain: 'agri', batchId: b['WHEAT-1'].id });
    expect(lots(down.body)).toEqual(['BREAD-1', 'FLOUR-1', 'WHEAT-1']);
    expect(edgeLots(down.body)).toEqual(['FLOUR-1>BREAD-1:input', 'WHEAT-1>FLOUR-1:input']);
    expect(down.body.nodes[0]).toMatchObject({ domain: 'agri', batchId: b['WHEAT-1'].id, gtin: WHEAT, lot: 'WHEAT-1', status: 'active', holderOrgId: P.id });
    expect(down.body.nodes.find((n: { lot: string }) => n.lot === 'BREAD-1')).toMatchObject({ domain: 'food', gtin: BREAD, holderOrgId: R.id, ownerOrgId: P.id });

    const up = await trace(inspector, 'BREAD-1', '?direction=upstream');
    expect(lots(up.body)).toEqual(['BARLEY-1', 'BREAD-1', 'FLOUR-1', 'WHEAT-1']);
    expect(edgeLots(up.body)).toEqual(['BARLEY-1>FLOUR-1:input', 'FLOUR-1>BREAD-1:input', 'WHEAT-1>FLOUR-1:input']);

    const both = await trace(regulator, 'FLOUR-1', '?direction=both');
    expect(lots(both.body)).toEqual(['BARLEY-1', 'BREAD-1', 'FLOUR-1', 'WHEAT-1']);
    // both = upstream walk + downstream walk: WHEAT-1 is not reached through its sibling BARLEY-1
    const bothFromBarley = await trace(regulator, 'BARLEY-1');
    expect(lots(bothFromBarley.body)).toEqual(['BARLEY-1', 'BREAD-1', 'FLOUR-1']);

    const alone = await trace(inspector, 'WHEAT-2');
    expect(alone.body).toEqual({ root: { domain: 'agri', batchId: b['WHEAT-2'].id }, nodes: [expect.objectContaining({ lot: 'WHEAT-2' })], edges: [] });
  });

  it('stops at the depth limit', async () => {
    expect(lots((await trace(inspector, 'WHEAT-1', '?direction=downstream&depth=1')).body)).toEqual(['FLOUR-1', 'WHEAT-1']);
    expect(lots((await trace(inspector, 'WHEAT-1', '?direction=downstream&depth=2')).body)).toEqual(['BREAD-1', 'FLOUR-1', 'WHEAT-1']);
    const d1 = (await trace(inspector, 'BREAD-1', '?direction=upstream&depth=1')).body;
    expect(edgeLots(d1)).toEqual(['FLOUR-1>BREAD-1:input']);
  });

  it('lets an operator trace only what its organisation owns, holds or held; inspectors and regulators see all', async () => {
    expect((await trace(F.api, 'WHEAT-1')).status).toBe(200); // owns (and held)
    expect((await trace(F.api, 'FLOUR-1')).status).toBe(404); // never held the flour
    expect((await trace(P.api, 'WHEAT-1')).status).toBe(200); // holds it now
    expect((await trace(P.api, 'BREAD-1')).status).toBe(200); // owns it, though R holds it
    expect((await trace(R.api, 'BREAD-1')).status).toBe(200); // holds it
    expect((await trace(R.api, 'FLOUR-1')).status).toBe(404);
    // Another organisation's batch answers exactly like a batch that does not exist.
    const unknownType = (await S.api.get(`/v1/trace/agri/${randomUUID()}`)).body.type;
    expect(unknownType).toEqual(expect.stringMatching(/^https:\/\/problems\.trace\.dev\//));
    for (const lot of ['WHEAT-1', 'FLOUR-1', 'BREAD-1', 'WHEAT-2']) {
      const r = await trace(S.api, lot);
      expect([lot, r.status, r.body.type]).toEqual([lot, 404, unknownType]);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    for (const lot of ['WHEAT-1', 'FLOUR-1', 'BREAD-1']) {
      expect((await trace(inspector, lot)).status).toBe(200);
      expect((await trace(regulator, lot)).status).toBe(200);
    }
    // The operator sees the whole trace of a batch it may trace, like everyone who may.
    expect(lots((await trace(R.api, 'BREAD-1', '?direction=upstream')).body)).toEqual(['BARLEY-1', 'BREAD-1', 'FLOUR-1', 'WHEAT-1']);
    expect((await t.as(F.id, 'admin').get(`/v1/trace/agri/${b['WHEAT-1'].id}`)).status).toBe(403);
    expect((await t.anonymous.get(`/v1/trace/agri/${b['WHEAT-1'].id}`)).status).toBe(401);
  });

  it('answers bad parameters with 400 and unknown batches with 404, as problem+json', async () => {
    const id = b['WHEAT-1'].id;
    const cases: [string, number][] = [
      [`/v1/trace/agri/not-a-uuid`, 400],
      [`/v1/trace/fish/${id}`, 400],
      [`/v1/trace/agri/${id}?depth=0`, 400],
      [`/v1/trace/agri/${id}?depth=51`, 400],
      [`/v1/trace/agri/${id}?depth=two`, 400],
      [`/v1/trace/agri/${id}?direction=sideways`, 400],
      [`/v1/trace/agri/${randomUUID()}`, 404],
      [`/v1/trace/food/${id}`, 404], // exists, but in another domain
    ];
    for (const [path, status] of cases) {
      const r = await inspector.get(path);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await inspector.get(`/v1/trace/agri/${id}?depth=50&direction=upstream`)).status).toBe(200);
  });

  it('applies events in any order across topics, idempotently, without losing any', async () => {
    const out = randomUUID(); // a food batch
    const input = randomUUID(); // an agri batch
    const food = { domain: Domain.FOOD, batchId: out };
    const agri = { domain: Domain.AGRI, batchId: input };
    const seen = async (id: string, domain = 'food') => (await inspector.get(`/v1/trace/${domain}/${id}`)).body as TraceBody;

    // The chain events of the output arrive first, newest first.
    expect(await deliver('traceEventRecorded', out, { batch: food, seq: 3n, bizStep: 'receiving', disposition: 'in_progress', holderOrgId: 'org-r' })).toBe('processed');
    expect(await deliver('traceEventRecorded', out, { batch: food, seq: 2n, bizStep: 'shipping', disposition: 'in_transit', holderOrgId: 'org-p', toOrgId: 'org-r' })).toBe('processed');
    // Applied to this replica's graph when the inbox transaction committed, before any catch-up.
    expect((await index.current()).node(out)).toMatchObject({ holderOrgId: 'org-r', registered: false });
    let x = (await seen(out)).nodes[0];
    expect(x).toMatchObject({ batchId: out, domain: 'food', registered: false, gtin: null, lot: null, holderOrgId: 'org-r', inTransitToOrgId: null });

    // Then the transformation, then the registrations (output first, input last).
    expect(await deliver('transformationRecorded', out, { output: food, inputs: [{ batch: agri, quantity: { value: '5', unit: 'kg' } }] })).toBe('processed');
    expect((await seen(input, 'agri')).nodes[0]).toMatchObject({ registered: false, domain: 'agri' });
    const registration = randomUUID();
    expect(
      await deliver(
        'batchRegistered',
        out,
        { batch: food, gtin: FLOUR, lot: 'OOO-1', ownerOrgId: 'org-p', locationId: 'factory-1', inputs: [{ batch: agri, quantity: { value: '5', unit: 'kg' } }] },
        registration,
      ),
    ).toBe('processed');
    expect(await deliver('batchRegistered', input, { batch: agri, gtin: WHEAT, lot: 'OOO-IN', ownerOrgId: 'org-f', locationId: 'farm-1' })).toBe('processed');
    // A re-delivery changes nothing.
    expect(await deliver('batchRegistered', out, { batch: food, gtin: FLOUR, lot: 'OOO-1', ownerOrgId: 'org-p', locationId: 'factory-1' }, registration)).toBe('duplicate');

    const both = await seen(out);
    x = both.nodes[0];
    // Registration completed the node but did not undo the receiving that came before it.
    expect(x).toMatchObject({ registered: true, gtin: FLOUR, lot: 'OOO-1', ownerOrgId: 'org-p', holderOrgId: 'org-r', inTransitToOrgId: null, status: 'active' });
    expect(both.edges).toEqual([{ from: input, to: out, kind: 'input' }]); // once, from two events
    expect(both.nodes[1]).toMatchObject({ batchId: input, registered: true, lot: 'OOO-IN', holderOrgId: 'org-f' });

    // Status follows the chain, not the arrival: destroyed at seq 5 wins over recalled at seq 4 that arrives later.
    await deliver('traceEventRecorded', out, { batch: food, seq: 5n, bizStep: 'destroying', disposition: 'destroyed', holderOrgId: 'org-r' });
    await deliver('traceEventRecorded', out, { batch: food, seq: 4n, bizStep: 'holding', disposition: 'recalled', holderOrgId: 'org-r' });
    expect((await seen(out)).nodes[0].status).toBe('destroyed');

    // Custody is a set: owner and every holder, whatever the order.
    const custody = await t.query(`SELECT org_id FROM ${t.prefix}lineage.lineage_custody WHERE batch_id = $1 ORDER BY org_id`, [out]);
    expect(custody.map((r) => r.org_id)).toEqual(['org-p', 'org-r']);
    expect((await t.as('org-p', 'operator').get(`/v1/trace/food/${out}`)).status).toBe(200);
    expect((await t.as('org-r', 'operator').get(`/v1/trace/food/${out}`)).status).toBe(200);
    expect((await t.as('org-f', 'operator').get(`/v1/trace/food/${out}`)).status).toBe(404);

    // A transaction that rolls back leaves nothing behind, in the tables or in the graph.
    const doomed = randomUUID();
    inbox.on('traceEventRecorded', async (_e, { envelope }) => {
      if (envelope.subject === doomed) throw new PoisonMessageError('a later handler refuses it');
    });
    const doomedEvent = { batch: { domain: Domain.FOOD, batchId: doomed }, seq: 1n, bizStep: 'storing', holderOrgId: 'org-r' };
    expect(await deliver('traceEventRecorded', doomed, doomedEvent)).toBe('dead-lettered');
    expect((await index.current()).node(doomed)).toBeUndefined();
    expect(await t.query(`SELECT 1 FROM ${t.prefix}lineage.lineage_nodes WHERE batch_id = $1`, [doomed])).toEqual([]);

    // A message that can never apply is dead-lettered; the stream moves on.
    expect(await deliver('batchRegistered', 'x', { batch: { domain: Domain.FOOD, batchId: 'not-a-uuid' }, gtin: FLOUR, lot: 'BAD', ownerOrgId: 'o' })).toBe('dead-lettered');
    expect(await deliver('traceEventRecorded', out, { batch: { domain: Domain.UNSPECIFIED, batchId: out }, seq: 9n, bizStep: 'storing', holderOrgId: 'o' })).toBe('dead-lettered');
    expect(await deliver('transformationRecorded', out, { output: food, inputs: [{ batch: food }] })).toBe('dead-lettered');
  });

  it('applies a run of chain events in one go to the same nodes as one by one, whatever their order', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const food = (batchId: string) => ({ domain: Domain.FOOD, batchId });
    // a: shipped (2), received (3), destroyed (5) and recalled (4), shuffled.
    const journey = (batchId: string) => [
      { batch: food(batchId), seq: 3n, bizStep: 'receiving', disposition: 'in_progress', holderOrgId: 'org-r', batchQuantity: { value: '40', unit: 'box' }, batchLocationId: 'store-1' },
      { batch: food(batchId), seq: 5n, bizStep: 'destroying', disposition: 'destroyed', holderOrgId: 'org-r', statusAfter: 'destroyed' },
      { batch: food(batchId), seq: 2n, bizStep: 'shipping', disposition: 'in_transit', holderOrgId: 'org-p', toOrgId: 'org-r', batchQuantity: { value: '50', unit: 'box' } },
      { batch: food(batchId), seq: 4n, bizStep: 'holding', disposition: 'recalled', holderOrgId: 'org-r', statusAfter: 'recalled' },
    ];
    const events = [
      ...journey(a).map((e) => message('traceEventRecorded', a, e)),
      // b: shipped, not received yet.
      message('traceEventRecorded', b, { batch: food(b), seq: 2n, bizStep: 'shipping', disposition: 'in_transit', holderOrgId: 'org-p', toOrgId: 'org-q' }),
    ];
    // One of them twice in the run.
    const outcomes = await inbox.dispatchBatch([...events, events[1]]);
    expect(outcomes).toEqual(['processed', 'processed', 'processed', 'processed', 'processed', 'duplicate']);
    const [na, nb] = [(await index.current()).node(a), (await index.current()).node(b)];
    expect(na).toMatchObject({ status: 'destroyed', holderOrgId: 'org-r', inTransitToOrgId: null });
    expect(nb).toMatchObject({ holderOrgId: null, inTransitToOrgId: 'org-q' });
    const rows = await t.query(
      `SELECT batch_id, status, status_seq::int, custody_seq::int, state_seq::int, holder_org_id, in_transit_to_org_id,
              quantity_value::float8 AS q, quantity_unit, location_id
         FROM ${t.prefix}lineage.lineage_nodes WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id = $2 DESC`,
      [[a, b], a],
    );
    expect(rows).toEqual([
      { batch_id: a, status: 'destroyed', status_seq: 5, custody_seq: 3, state_seq: 3, holder_org_id: 'org-r', in_transit_to_org_id: null, q: 40, quantity_unit: 'box', location_id: 'store-1' },
      { batch_id: b, status: 'active', status_seq: 0, custody_seq: 2, state_seq: 0, holder_org_id: null, in_transit_to_org_id: 'org-q', q: null, quantity_unit: null, location_id: null },
    ]);
    // Custody is every holder seen, once.
    const custody = await t.query(`SELECT org_id FROM ${t.prefix}lineage.lineage_custody WHERE batch_id = $1 ORDER BY org_id`, [a]);
    expect(custody.map((r) => r.org_id)).toEqual(['org-p', 'org-r']);
    // The same facts one by one (another node) end in the same row.
    const c = randomUUID();
    for (const e of journey(c)) expect(await deliver('traceEventRecorded', c, e)).toBe('processed');
    const [one] = await t.query(
      `SELECT status, status_seq::int, custody_seq::int, state_seq::int, holder_org_id, in_transit_to_org_id,
              quantity_value::float8 AS q, quantity_unit, location_id
         FROM ${t.prefix}lineage.lineage_nodes WHERE batch_id = $1`,
      [c],
    );
    const { batch_id: _id, ...batched } = rows[0];
    expect(one).toEqual(batched);
  });

  it('keeps the holdings of the latest chain event, whatever order events and the registration arrive in', async () => {
    const id = randomUUID();
    const agri = { domain: Domain.AGRI, batchId: id };
    const h = (orgId: string, quantity: number, inTransit: number, received: number) => ({ orgId, quantity: String(quantity), inTransit: String(inTransit), received: String(received) });
    const shipped = { batch: agri, seq: 2n, bizStep: 'shipping', toOrgId: 'org-p', batchQuantity: { value: '1200', unit: 'kg' }, holdings: { items: [h('org-f', 700, 0, 1200), h('org-p', 0, 500, 500)] } };
    const received = { batch: agri, seq: 3n, bizStep: 'receiving', holderOrgId: 'org-p', batchQuantity: { value: '1200', unit: 'kg' }, holdings: { items: [h('org-f', 700, 0, 1200), h('org-p', 500, 0, 500)] } };
    const stored = async () =>
      (await t.query(`SELECT seq::int, unit, holdings FROM ${t.prefix}lineage.lineage_holdings WHERE batch_id = $1`, [id]))[0];
    // The later event first, then the earlier one, then the registration: the later one stays.
    expect(await deliver('traceEventRecorded', id, received)).toBe('processed');
    expect(await deliver('traceEventRecorded', id, shipped)).toBe('processed');
    expect(
      await deliver('batchRegistered', id, { batch: agri, gtin: WHEAT, lot: 'WHEAT-HOLD', ownerOrgId: 'org-f', locationId: 'farm-1', quantity: { value: '1200', unit: 'kg' } }),
    ).toBe('processed');
    expect(await stored()).toEqual({
      seq: 3,
      unit: 'kg',
      holdings: [
        { orgId: 'org-f', quantity: 700, inTransit: 0, received: 1200 },
        { orgId: 'org-p', quantity: 500, inTransit: 0, received: 500 },
      ],
    });
    // A registration alone gives the producer all of it.
    const fresh = randomUUID();
    await deliver('batchRegistered', fresh, { batch: { domain: Domain.AGRI, batchId: fresh }, gtin: WHEAT, lot: 'WHEAT-FRESH', ownerOrgId: 'org-f', locationId: 'farm-1', quantity: { value: '80', unit: 'kg' } });
    expect((await t.query(`SELECT holdings FROM ${t.prefix}lineage.lineage_holdings WHERE batch_id = $1`, [fresh]))[0].holdings).toEqual([
      { orgId: 'org-f', quantity: 80, inTransit: 0, received: 80 },
    ]);
    // A holding that is not a number never becomes valid: dead-lettered, the stored holdings untouched.
    expect(await deliver('traceEventRecorded', id, { ...received, seq: 4n, holdings: { items: [h('org-p', 1, 0, 1), { ...h('org-q', 0, 0, 0), quantity: 'lots' }] } })).toBe('dead-lettered');
    expect((await stored()).seq).toBe(3);
  });

  it('catches up on rows other replicas commit, including a transaction that commits after a later one', async () => {
    const schema = `${t.prefix}lineage`;
    const early = randomUUID();
    const late = randomUUID();
    const c1 = new Client({ connectionString: testDatabaseUrl() });
    const c2 = new Client({ connectionString: testDatabaseUrl() });
    await c1.connect();
    await c2.connect();
    try {
      // T1 takes its transaction id first but commits last: "id > last seen" would skip it.
      await c1.query('BEGIN');
      await c1.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, 'EARLY', true)`, [early, BREAD]);
      await c2.query('BEGIN');
      await c2.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, 'LATE', true)`, [late, BREAD]);
      await c2.query(`INSERT INTO ${schema}.lineage_edges (from_batch, to_batch, kind) VALUES ($1, $2, 'input')`, [early, late]);
      await c2.query('COMMIT');
      await index.catchUp();
      const g = await index.current();
      expect(g.node(late)).toMatchObject({ lot: 'LATE', registered: true });
      expect(g.node(early)).toMatchObject({ registered: false }); // known from the edge only: T1 has not committed
      await c1.query('COMMIT');
      await index.catchUp();
      expect(g.node(early)).toMatchObject({ lot: 'EARLY', registered: true, domain: 'goods' });
    } finally {
      await c1.end();
      await c2.end();
    }
    const r = await inspector.get(`/v1/trace/goods/${late}?direction=upstream`);
    expect(r.body.nodes.map((n: { lot: string }) => n.lot)).toEqual(['LATE', 'EARLY']);

    // A batch the graph has not caught up on yet is fetched on demand, not 404.
    const fresh = randomUUID();
    await t.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'drug', $2, 'FRESH', true)`, [fresh, BREAD]);
    expect((await inspector.get(`/v1/trace/drug/${fresh}`)).body.nodes[0].lot).toBe('FRESH');
  });

  it('updates a node without touching any index (HOT), the change logged for the other replicas instead', async () => {
    const schema = `${t.prefix}lineage`;
    const id = randomUUID();
    await t.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, 'HOT-1', true)`, [id, BREAD]);
    const c = new Client({ connectionString: testDatabaseUrl() });
    await c.connect();
    try {
      await c.query('BEGIN');
      await updateAsTheProjector(c, schema, id, 'org-x');
      const [{ hot, logged }] = (
        await c.query(
          `SELECT pg_stat_get_xact_tuples_hot_updated('${schema}.lineage_nodes'::regclass)::int AS hot,
                  (SELECT count(*)::int FROM ${schema}.lineage_node_changes WHERE batch_id = $1 AND tx = pg_current_xact_id()) AS logged`,
          [id],
        )
      ).rows;
      expect({ hot, logged }).toEqual({ hot: 1, logged: 1 });
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
    }
  });

  it('keeps the node change log until every live replica has seen it; a replica out of touch reloads', async () => {
    const schema = `${t.prefix}lineage`;
    const ds = (index as unknown as { ds: ConstructorParameters<typeof LineageIndex>[0] }).ds;
    const replica = (opts: Partial<LineageIndexOptions>) =>
      new LineageIndex(ds, createLogger('silent'), new HealthRegistry(), undefined, { catchUpMs: 1e9, safetyNetMs: 1e9, pruneEveryMs: 1e9, ...opts });
    const other = replica({});
    const logged = async (id: string) => (await t.query(`SELECT count(*)::int AS n FROM ${schema}.lineage_node_changes WHERE batch_id = $1`, [id]))[0].n;
    const node = (lot: string) => {
      const id = randomUUID();
      return t.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, $3, true)`, [id, BREAD, lot]).then(() => id);
    };
    try {
      await other.rebuild();
      const first = await node('LOG-1');
      expect(await logged(first)).toBe(1);
      await index.catchUp();
      await index.prune();
      // This replica has it; the other has not caught up: kept.
      expect((await index.current()).node(first)).toMatchObject({ lot: 'LOG-1' });
      expect(await logged(first)).toBe(1);
      await other.catchUp();
      expect((await other.current()).node(first)).toMatchObject({ lot: 'LOG-1' });
      // Both have seen it: pruned (once no other transaction of the cluster holds the horizon back).
      await eventually(async () => {
        await index.catchUp();
        await other.catchUp();
        await index.prune();
        return (await logged(first)) === 0;
      });

      // A replica that stops catching up holds the log back until it times out.
      const second = await node('LOG-2');
      await index.catchUp();
      await index.prune();
      expect(await logged(second)).toBe(1);
      await t.query(`UPDATE ${schema}.lineage_index_replicas SET seen_at = now() - interval '1 hour' WHERE replica = $1`, [other.replica]);
      await eventually(async () => {
        await index.catchUp();
        await index.prune();
        return (await logged(second)) === 0;
      });
      // Its own snapshot is then too old to catch up from: it reloads, and has the pruned change.
      const stale = replica({ replicaTimeoutMs: 0 });
      try {
        await stale.rebuild();
        expect([stale.loads, stale.catchUps]).toEqual([1, 0]);
        const third = await node('LOG-3');
        await stale.catchUp();
        expect([stale.loads, stale.catchUps]).toEqual([2, 0]);
        expect((await stale.current()).node(third)).toMatchObject({ lot: 'LOG-3' });
      } finally {
        await stale.beforeApplicationShutdown();
      }
    } finally {
      await other.beforeApplicationShutdown();
    }
    // Gone replicas hold nothing back; one killed without its shutdown is forgotten after a day.
    expect(await t.query(`SELECT replica FROM ${schema}.lineage_index_replicas`)).toEqual([{ replica: index.replica }]);
    await t.query(`INSERT INTO ${schema}.lineage_index_replicas (replica, snapshot_xmin, seen_at) VALUES ('killed', '1', now() - interval '25 hours')`);
    await index.prune();
    expect(await t.query(`SELECT replica FROM ${schema}.lineage_index_replicas`)).toEqual([{ replica: index.replica }]);
  });

  it('a replica that is loading holds the change log back from its snapshot on: a change committing during its load is not pruned before it catches up', async () => {
    const schema = `${t.prefix}lineage`;
    const ds = (index as unknown as { ds: ConstructorParameters<typeof LineageIndex>[0] }).ds;
    // The loading replica's connection, paused when its load has taken its snapshot and is about to read
    // the nodes: the window in which another replica can catch up past a concurrent commit and prune.
    let pausedAtScan!: () => void;
    const paused = new Promise<void>((r) => (pausedAtScan = r));
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    let held = false;
    const pausing = new Proxy(ds, {
      get(target, prop) {
        if (prop !== 'createQueryRunner') {
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        }
        return () => {
          const qr = target.createQueryRunner();
          const connect = qr.connect.bind(qr);
          qr.connect = async () => {
            const client = (await connect()) as { query: (sql: unknown, ...rest: unknown[]) => Promise<unknown> };
            return new Proxy(client, {
              get(c, p) {
                if (p === 'query')
                  return async (sql: unknown, ...rest: unknown[]) => {
                    if (!held && typeof sql === 'string' && sql.startsWith('DECLARE lineage_scan')) {
                      held = true;
                      pausedAtScan();
                      await resumed;
                    }
                    return c.query(sql, ...rest);
                  };
                const v = Reflect.get(c, p) as unknown;
                return typeof v === 'function' ? v.bind(c) : v;
              },
            });
          };
          return qr;
        };
      },
    });
    const loading = new LineageIndex(pausing, createLogger('silent'), new HealthRegistry(), undefined, { catchUpMs: 1e9, safetyNetMs: 1e9, pruneEveryMs: 1e9 });
    const id = randomUUID();
    await t.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, 'RACE-1', true)`, [id, BREAD]);
    const writer = new Client({ connectionString: testDatabaseUrl() });
    await writer.connect();
    try {
      // A projector's node update, in progress when the load's snapshot is taken: the load will not see it.
      await writer.query('BEGIN');
      await updateAsTheProjector(writer, schema, id, 'org-race');
      const load = loading.rebuild();
      await paused;
      await writer.query('COMMIT');
      // Another replica sees the commit and prunes: the entry must stay for the replica still loading.
      await index.catchUp();
      expect((await index.current()).node(id)).toMatchObject({ status: 'held', holderOrgId: 'org-race' });
      await index.prune();
      expect((await t.query(`SELECT count(*)::int AS n FROM ${schema}.lineage_node_changes WHERE batch_id = $1`, [id]))[0].n).toBe(1);
      resume();
      await load;
      // Its snapshot lacked the update; its first catch-up reads it from the log.
      expect((await loading.current()).node(id)).toMatchObject({ status: 'active' });
      await loading.catchUp();
      expect((await loading.current()).node(id)).toMatchObject({ status: 'held', holderOrgId: 'org-race' });
    } finally {
      resume();
      await writer.query('ROLLBACK').catch(() => undefined);
      await writer.end();
      await loading.beforeApplicationShutdown();
    }
  });

  it("wakes on another replica's commit (the tables' NOTIFY), not on a poll", async () => {
    const schema = `${t.prefix}lineage`;
    // The channel the tables' trigger notifies on commit: another replica's writes announce themselves.
    const listener = new Client({ connectionString: testDatabaseUrl() });
    await listener.connect();
    try {
      const heard = new Promise<string>((resolve) => listener.once('notification', (n) => resolve(n.channel)));
      await listener.query(`LISTEN "lineage_${schema}"`);
      await eventually(async () => index.listening);
      const before = index.catchUps;
      const other = randomUUID();
      await t.query(`INSERT INTO ${schema}.lineage_nodes (batch_id, domain, gtin, lot, registered) VALUES ($1, 'goods', $2, 'OTHER-REPLICA', true)`, [other, BREAD]);
      expect(await heard).toBe(`lineage_${schema}`);
      // Nobody asked for a catch-up: the notification brought one (well before the minute of the safety net).
      await eventually(async () => (await index.current()).node(other)?.lot === 'OTHER-REPLICA', 5_000);
      expect(index.catchUps).toBeGreaterThan(before);
    } finally {
      await listener.end();
    }
  });

  it('rebuilds from the tables to the same answers', async () => {
    const before = (await trace(inspector, 'FLOUR-1')).body;
    const stats = await index.rebuild();
    expect(stats.nodes).toBeGreaterThanOrEqual(5);
    const after = (await trace(inspector, 'FLOUR-1')).body;
    expect(lots(after)).toEqual(lots(before));
    expect(edgeLots(after)).toEqual(edgeLots(before));
    const ready = await t.anonymous.get('/health/ready');
    expect(ready.body.checks['lineage-index']).toMatchObject({ ok: true });
  });
});
