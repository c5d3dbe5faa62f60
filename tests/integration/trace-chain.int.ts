import { randomUUID } from 'node:crypto';
import { decodeEnvelope } from '@trace/contracts';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const now = () => new Date().toISOString();

/** The shared trace-chain core as the five domains use it: chain, custody, transformations, verification. */
describe('trace chain core (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let farm: Api;
  let processor: Api;
  let stranger: Api;
  let F: TestOrg;
  let P: TestOrg;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Green Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Sauce Works', 'processor', ['factory']);
    const S = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    farm = F.api;
    processor = P.api;
    stranger = S.api;
    await aProduct(farm, 'agri', '09506000134352', 'vegetable');
    await aProduct(processor, 'food', '04012345000016', 'sauce');
  });
  afterAll(async () => {
    await t?.close();
  });

  const batch = async (api: Api, lot: string, domain = 'agri', extra: Record<string, unknown> = {}) => {
    const gtin = domain === 'agri' ? '09506000134352' : '04012345000016';
    const locationId = api === farm ? F.locations.farm : P.locations.factory;
    const r = await api.post(`/v1/${domain}/batches`, { ...aBatch(lot, locationId), gtin, ...extra });
    if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const event = (api: Api, id: string, body: Record<string, unknown>, domain = 'agri') =>
    api.post(`/v1/${domain}/batches/${id}/events`, {
      eventTime: now(),
      locationId: api === processor ? P.locations.factory : F.locations.farm,
      ...body,
    });

  /** Vegetables carry their commitment-to-compliance certificate before they ship (agri rule). */
  const certify = async (id: string) => {
    const r = await farm.post(`/v1/agri/batches/${id}/certificate`, {
      commitments: ['no_banned_substances'], basis: 'self_test', contact: '13800138000', origin: 'Green Farm',
    });
    if (r.status !== 201) throw new Error(`certificate: ${r.status} ${JSON.stringify(r.body)}`);
  };

  it('refuses a product with a bad check digit, a duplicate GTIN, and a batch of an unknown product', async () => {
    expect((await farm.post('/v1/agri/products', { gtin: '09506000134353', name: 'x', category: 'vegetable' })).status).toBe(400);
    const dup = await stranger.post('/v1/agri/products', { gtin: '9506000134352', name: 'x', category: 'vegetable' });
    // Another organisation's GTIN, in this domain or any other (API.md "Identity").
    expect([dup.status, dup.body.type]).toEqual([409, 'https://problems.trace.dev/gtin-taken']);
    const unknown = await farm.post('/v1/agri/batches', { ...aBatch('U1', F.locations.farm), gtin: '00012345600012' });
    expect([unknown.status, unknown.body.type]).toEqual([422, 'https://problems.trace.dev/unknown-product']);
    const foreign = await stranger.post('/v1/agri/batches', aBatch('U2', F.locations.farm));
    expect([foreign.status, foreign.body.type]).toEqual([422, 'https://problems.trace.dev/product-owner']);
  });

  it('keeps custody: shipping names the receiver, only it receives, only the holder writes next', async () => {
    const b = await batch(farm, 'CUST-1');
    await certify(b.id);
    expect(b).toMatchObject({ status: 'active', holderOrgId: F.id, chainLength: 1 });

    const noReceiver = await event(farm, b.id, { bizStep: 'shipping' });
    expect([noReceiver.status, noReceiver.body.type]).toEqual([422, 'https://problems.trace.dev/shipping-receiver']);
    const notHolder = await event(stranger, b.id, { bizStep: 'storing' });
    expect(notHolder.status).toBe(404); // another organisation's batch does not exist for it

    const shipped = await event(farm, b.id, { bizStep: 'shipping', toOrgId: P.id, documents: [{ type: 'po', id: 'PO-1' }] });
    expect(shipped.status).toBe(201);
    expect(shipped.body).toMatchObject({ seq: 2, prevHash: b.chainHead });

    // Shipping without a quantity sent the whole holding: the farm holds none of it while it travels.
    const whileInTransit = await event(farm, b.id, { bizStep: 'storing' });
    expect([whileInTransit.status, whileInTransit.body.type]).toEqual([403, 'https://problems.trace.dev/not-the-holder']);
    // The receiver sees the incoming batch (its own part only); a third party does not.
    const incoming = (await processor.get(`/v1/agri/batches/${b.id}`)).body;
    expect(incoming).toMatchObject({ inTransitTo: P.id, quantity: { value: 1200, unit: 'kg' }, holdings: [{ orgId: P.id, quantity: 0, inTransit: 1200 }] });
    expect((await stranger.get(`/v1/agri/batches/${b.id}`)).status).toBe(404);

    const received = await event(processor, b.id, { bizStep: 'receiving', locationId: P.locations.factory });
    expect(received.status).toBe(201);
    const after = (await processor.get(`/v1/agri/batches/${b.id}`)).body;
    expect(after).toMatchObject({ holderOrgId: P.id, inTransitTo: null, locationId: P.locations.factory, chainLength: 3, holdings: [{ orgId: P.id, quantity: 1200, inTransit: 0 }] });

    const formerHolder = await event(farm, b.id, { bizStep: 'storing' });
    expect([formerHolder.status, formerHolder.body.type]).toEqual([403, 'https://problems.trace.dev/not-the-holder']);
    expect((await farm.get(`/v1/agri/batches/${b.id}`)).status).toBe(200); // held once: still readable

    const again = await event(processor, b.id, { bizStep: 'receiving' });
    expect([again.status, again.body.type]).toEqual([409, 'https://problems.trace.dev/not-in-transit']);

    const chain = (await farm.get(`/v1/agri/batches/${b.id}/events`)).body;
    expect(chain.map((e: { seq: number; bizStep: string }) => [e.seq, e.bizStep])).toEqual([
      [1, 'commissioning'],
      [2, 'shipping'],
      [3, 'receiving'],
    ]);
    expect(chain[1]).toMatchObject({ toOrgId: P.id, disposition: 'in_transit', documents: [{ type: 'po', id: 'PO-1' }], prevHash: chain[0].hash });
  });

  it('refuses bad vocabulary, future times and events on a destroyed batch', async () => {
    const b = await batch(farm, 'VOCAB-1');
    const badStep = await event(farm, b.id, { bizStep: 'teleporting' });
    expect([badStep.status, badStep.body.type]).toEqual([400, 'https://problems.trace.dev/biz-step']);
    const badDisp = await event(farm, b.id, { bizStep: 'storing', disposition: 'happy' });
    expect([badDisp.status, badDisp.body.type]).toEqual([400, 'https://problems.trace.dev/disposition']);
    const future = await event(farm, b.id, { bizStep: 'storing', eventTime: new Date(Date.now() + 86_400_000).toISOString() });
    expect(future.status).toBe(400);
    expect((await event(farm, b.id, { bizStep: 'destroying' })).status).toBe(201);
    expect((await farm.get(`/v1/agri/batches/${b.id}`)).body.status).toBe('destroyed');
    const closed = await event(farm, b.id, { bizStep: 'storing' });
    expect([closed.status, closed.body.type]).toEqual([409, 'https://problems.trace.dev/batch-destroyed']);
  });

  it('verifies the hash chain and names the first broken link when history is altered', async () => {
    const b = await batch(farm, 'HASH-1');
    await event(farm, b.id, { bizStep: 'storing', sensors: [{ type: 'temperature', value: 4.5, unit: 'Cel', time: now() }] });
    await event(farm, b.id, { bizStep: 'inspecting', disposition: 'conformant' });
    const ok = (await farm.get(`/v1/agri/batches/${b.id}/verify`)).body;
    expect(ok).toMatchObject({ valid: true, length: 3 });
    expect(ok.head).toBe((await farm.get(`/v1/agri/batches/${b.id}`)).body.chainHead);

    const table = `${t.prefix}agri.trace_events`;
    // The database itself refuses to rewrite an event…
    await expect(t.query(`UPDATE ${table} SET disposition = 'x' WHERE batch_id = $1`, [b.id])).rejects.toThrow(/append-only/);
    // …so an attacker with superuser rights has to switch that off first; verification still catches it.
    await t.query(`ALTER TABLE ${table} DISABLE TRIGGER trace_events_no_rewrite`);
    await t.query(`UPDATE ${table} SET content = jsonb_set(content, '{sensors,0,value}', '12') WHERE batch_id = $1 AND seq = 2`, [b.id]);
    await t.query(`ALTER TABLE ${table} ENABLE TRIGGER trace_events_no_rewrite`);
    const broken = (await farm.get(`/v1/agri/batches/${b.id}/verify`)).body;
    expect(broken).toEqual({ valid: false, length: 3, head: expect.any(String), brokenAt: { seq: 2, reason: 'hash_mismatch' } });
  });

  it('makes a food batch from agri inputs, consuming their quantity, across domains', async () => {
    const lot = await batch(farm, 'TOM-1');
    await certify(lot.id);
    await event(farm, lot.id, { bizStep: 'shipping', toOrgId: P.id });
    await event(processor, lot.id, { bizStep: 'receiving', locationId: P.locations.factory });

    const sauce = await processor.post('/v1/food/batches', {
      ...aBatch('SAUCE-1', P.locations.factory),
      gtin: '04012345000016',
      locationId: P.locations.factory,
      producedAt: '2026-11-25T14:30:00+08:00',
      quantity: { value: 500, unit: 'jar' },
      inputs: [{ domain: 'agri', batchId: lot.id, quantity: { value: 300, unit: 'kg' } }],
    });
    expect(sauce.status).toBe(201);
    const input = (await processor.get(`/v1/agri/batches/${lot.id}`)).body;
    // quantity is as produced; what is left is the processor's holding.
    expect(input).toMatchObject({ quantity: { value: 1200, unit: 'kg' }, remaining: { value: 900, unit: 'kg' }, holdings: [{ orgId: P.id, quantity: 900, inTransit: 0 }] });
    const inputChain = (await processor.get(`/v1/agri/batches/${lot.id}/events`)).body;
    expect(inputChain.at(-1)).toMatchObject({ bizStep: 'transforming', quantity: { value: 300, unit: 'kg' }, output: { domain: 'food', batchId: sauce.body.id } });
    const outputChain = (await processor.get(`/v1/food/batches/${sauce.body.id}/events`)).body;
    expect(outputChain[0]).toMatchObject({ bizStep: 'transforming', inputs: [{ domain: 'agri', batchId: lot.id, lot: 'TOM-1', quantity: { value: 300, unit: 'kg' } }] });
    // Both chains tell one time for the processing: the transformation's, as written (not when it was recorded).
    expect(outputChain[0].eventTime).toBe('2026-11-25T14:30:00+08:00');
    expect(inputChain.at(-1).eventTime).toBe('2026-11-25T14:30:00+08:00');

    // More than the input holds: refused, and nothing is taken.
    const tooMuch = await processor.post('/v1/food/batches', {
      ...aBatch('SAUCE-2', P.locations.factory),
      gtin: '04012345000016',
      inputs: [{ domain: 'agri', batchId: lot.id, quantity: { value: 901, unit: 'kg' } }],
    });
    expect([tooMuch.status, tooMuch.body.type]).toEqual([409, 'https://problems.trace.dev/insufficient-quantity']);
    expect((await processor.get(`/v1/agri/batches/${lot.id}`)).body.remaining.value).toBe(900);
    // Nor is the output made: no food batch under that lot.
    expect((await processor.get('/v1/food/batches?lot=SAUCE-2')).body.items).toEqual([]);

    // Unknown input, wrong unit, and an input held by someone else.
    const unknown = await processor.post('/v1/food/batches', { ...aBatch('SAUCE-3', P.locations.factory), gtin: '04012345000016', inputs: [{ domain: 'agri', batchId: randomUUID(), quantity: { value: 1, unit: 'kg' } }] });
    expect([unknown.status, unknown.body.type]).toEqual([422, 'https://problems.trace.dev/unknown-input']);
    const unit = await processor.post('/v1/food/batches', { ...aBatch('SAUCE-4', P.locations.factory), gtin: '04012345000016', inputs: [{ domain: 'agri', batchId: lot.id, quantity: { value: 1, unit: 't' } }] });
    expect([unit.status, unit.body.type]).toEqual([422, 'https://problems.trace.dev/unit-mismatch']);
    const farmOnly = await batch(farm, 'TOM-2');
    const notHeld = await processor.post('/v1/food/batches', { ...aBatch('SAUCE-5', P.locations.factory), gtin: '04012345000016', inputs: [{ domain: 'agri', batchId: farmOnly.id, quantity: { value: 1, unit: 'kg' } }] });
    expect([notHeld.status, notHeld.body.type]).toEqual([403, 'https://problems.trace.dev/not-the-holder']);

    // A failure after the first input was taken gives it back with a compensating event.
    const partial = await processor.post('/v1/food/batches', {
      ...aBatch('SAUCE-6', P.locations.factory),
      gtin: '04012345000016',
      inputs: [
        { domain: 'agri', batchId: lot.id, quantity: { value: 100, unit: 'kg' } },
        { domain: 'agri', batchId: farmOnly.id, quantity: { value: 1, unit: 'kg' } },
      ],
    });
    expect(partial.status).toBe(403);
    const restored = (await processor.get(`/v1/agri/batches/${lot.id}`)).body;
    expect(restored.remaining.value).toBe(900);
    expect(restored.holdings).toEqual([{ orgId: P.id, quantity: 900, inTransit: 0 }]);
    const tail = (await processor.get(`/v1/agri/batches/${lot.id}/events`)).body.slice(-2);
    expect(tail[0]).toMatchObject({ bizStep: 'transforming', quantity: { value: 100 } });
    expect(tail[1]).toMatchObject({ correctionOf: tail[0].id, restored: { value: 100, unit: 'kg' } });
    expect((await processor.get(`/v1/agri/batches/${lot.id}/verify`)).body.valid).toBe(true);

    // The events went out through the outboxes.
    const types = async (schema: string) =>
      (await t.query(`SELECT payload FROM ${t.prefix}${schema}.outbox ORDER BY id`)).map((r) => decodeEnvelope(r.payload).payload.case);
    expect(await types('food')).toEqual(['batchRegistered', 'transformationRecorded']);
    expect(await types('agri')).toEqual(expect.arrayContaining(['batchRegistered', 'traceEventRecorded']));
  });

  it('lets each role do exactly its part on the chain', async () => {
    const b = await batch(farm, 'ROLES-1');
    const inspector = t.as('agency', 'inspector');
    const regulator = t.as('authority', 'regulator');
    const admin = t.as('platform', 'admin');
    const write = { bizStep: 'storing', eventTime: now(), locationId: F.locations.farm };
    for (const [who, api] of [['inspector', inspector], ['regulator', regulator], ['admin', admin]] as const) {
      expect({ who, register: (await api.post('/v1/agri/batches', aBatch('ROLES-X', F.locations.farm))).status }).toEqual({ who, register: 403 });
      expect({ who, event: (await api.post(`/v1/agri/batches/${b.id}/events`, write)).status }).toEqual({ who, event: 403 });
      expect({ who, product: (await api.post('/v1/agri/products', { gtin: '00012345600012', name: 'x', category: 'x' })).status }).toEqual({ who, product: 403 });
    }
    for (const api of [inspector, regulator]) {
      expect((await api.get(`/v1/agri/batches/${b.id}`)).status).toBe(200);
      expect((await api.get(`/v1/agri/batches/${b.id}/events`)).status).toBe(200);
      expect((await api.get(`/v1/agri/batches/${b.id}/verify`)).body.valid).toBe(true);
    }
    expect((await stranger.get(`/v1/agri/batches/${b.id}/events`)).status).toBe(404);
    expect((await stranger.get(`/v1/agri/batches/${b.id}/verify`)).status).toBe(404);
    expect((await farm.post(`/v1/agri/batches/${b.id}/events`, write)).status).toBe(201);
    expect((await t.anonymous.get(`/v1/agri/batches/${b.id}`)).status).toBe(401);
  });
});
