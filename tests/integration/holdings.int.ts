import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { holdingsScenario } from '../support/holdings-scenario';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const now = () => new Date().toISOString();
const byOrg = (a: { orgId: string; batchId?: string }, b: { orgId: string; batchId?: string }) =>
  `${a.batchId ?? ''}${a.orgId}`.localeCompare(`${b.batchId ?? ''}${b.orgId}`);

/**
 * Quantities and custody (API.md "Quantities and custody", "Recalls"), in the
 * embedded app: a batch held in parts by several organisations, partial
 * shipments, a transformation consuming one holder's part, a recall whose
 * scope lists every holding, acknowledgements checked against them, a return
 * under the recall, exact effectiveness; mass balance under concurrency.
 */
describe('holdings: custody per organisation and quantity, recalls over holdings', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg, P1: TestOrg, P2: TestOrg;
  let regulator: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Grain Farm', 'producer', ['farm']);
    P1 = await anOrg(t, 'Noodle Works', 'processor', ['factory']);
    P2 = await anOrg(t, 'Bread Bakery', 'processor', ['factory']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const locationOf = (o: TestOrg) => (o.locations.farm ?? o.locations.factory ?? o.locations.store) as string;
  const event = (o: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
    o.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: locationOf(o), ...body });
  const kg = (value: number) => ({ value, unit: 'kg' });
  const statusAndType = (r: { status: number; body: any }) => [r.status, r.body?.type];
  const holdingsOf = async (api: Api, domain: string, id: string) => [...ok<{ holdings: any[] }>(await api.get(`/v1/${domain}/batches/${id}`), 200).holdings].sort(byOrg);
  it('follows a farm lot and the boxes made from it through partial shipments, a recall, a return and acknowledgements', async () => {
    // The scenario of tests/support/holdings-scenario.ts (tests/e2e/holdings.e2e.ts runs it over Kafka).
    await holdingsScenario({ as: (orgId, role) => t.as(orgId, role), query: (sql, params) => t.query(sql, params), prefix: t.prefix, eventuallyMs: 10_000 }, 'H1');
  });

  it('lets exactly ten of twenty parallel 100 kg shipments leave a 1,000 kg holding', async () => {
    const lot = ok(await F.api.post('/v1/agri/batches', { ...aBatch('WHEAT-H2', F.locations.farm), quantity: kg(1000) }));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P1.id, quantity: kg(100) })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map(statusAndType)).toEqual(Array.from({ length: 10 }, () => [409, problem('insufficient-quantity')]));
    expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual([{ orgId: P1.id, quantity: 0, inTransit: 1000 }]);
    expect(ok(await F.api.get(`/v1/agri/batches/${lot.id}`), 200).chainLength).toBe(11);
    // Receiving less than was sent records the shortage; mass balance holds in the database.
    const received = ok(await event(P1, 'agri', lot.id, { bizStep: 'receiving', quantity: kg(950) }));
    const chain = ok<any[]>(await P1.api.get(`/v1/agri/batches/${lot.id}/events`), 200);
    expect(chain.at(-1)).toMatchObject({ id: received.id, quantity: kg(950), shortage: kg(50) });
    expect(ok(await F.api.get(`/v1/agri/batches/${lot.id}`), 200)).toMatchObject({ remaining: kg(950), holdings: [{ orgId: P1.id, quantity: 950, inTransit: 0 }] });
    const [balance] = await t.query<{ accounted: string }>(
      `SELECT sum(quantity + in_transit + taken + lost)::text AS accounted FROM "${t.prefix}agri".batch_holdings WHERE batch_id = $1`,
      [lot.id],
    );
    expect(Number(balance.accounted)).toBe(1000);
  });

  it('voids a shipment: what was in transit goes back to the sender, and nothing is left to receive', async () => {
    const lot = ok(await F.api.post('/v1/agri/batches', { ...aBatch('WHEAT-H5', F.locations.farm), quantity: kg(1000) }));
    ok(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P2.id, quantity: kg(300) }));
    expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual([{ orgId: F.id, quantity: 700, inTransit: 0 }, { orgId: P2.id, quantity: 0, inTransit: 300 }].sort(byOrg));
    // Only the sender voids its own shipment.
    expect(statusAndType(await event(P1, 'agri', lot.id, { bizStep: 'void_shipping', toOrgId: P2.id }))).toEqual([404, problem('batch')]);
    ok(await event(F, 'agri', lot.id, { bizStep: 'void_shipping', toOrgId: P2.id }));
    expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual([{ orgId: F.id, quantity: 1000, inTransit: 0 }]);
    expect(statusAndType(await event(P2, 'agri', lot.id, { bizStep: 'receiving' }))).toEqual([409, problem('not-in-transit')]);
    expect(statusAndType(await event(F, 'agri', lot.id, { bizStep: 'void_shipping', toOrgId: P2.id }))).toEqual([409, problem('not-in-transit')]);
  });

  it('refuses more than what was produced at the database, whatever writes it (mass balance constraint)', async () => {
    const lot = ok(await F.api.post('/v1/agri/batches', { ...aBatch('WHEAT-H3', F.locations.farm), quantity: kg(100) }));
    await expect(t.query(`UPDATE "${t.prefix}agri".batch_holdings SET quantity = 101 WHERE batch_id = $1`, [lot.id])).rejects.toThrow(/mass balance/);
    expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual([{ orgId: F.id, quantity: 100, inTransit: 0 }]);
  });

  it('documents holdings in the OpenAPI answer of GET batch', async () => {
    const doc = ok<any>(await t.anonymous.get('/docs-json'), 200);
    const answer = doc.paths['/v1/food/batches/{id}'].get.responses['200'].content['application/json'].schema;
    expect(answer).toEqual({ $ref: '#/components/schemas/BatchDoc' });
    expect(doc.components.schemas.BatchDoc.properties.holdings).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/HoldingDoc' } });
    expect(Object.keys(doc.components.schemas.HoldingDoc.properties).sort()).toEqual(['inTransit', 'orgId', 'quantity']);
  });

  it('creates exactly one recall when twenty name the same batch at once', async () => {
    const lot = ok(await F.api.post('/v1/agri/batches', aBatch('WHEAT-H4', F.locations.farm)));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: lot.id }], level: 3, reason: 'twenty at once' })),
    );
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map(statusAndType)).toEqual(Array.from({ length: 19 }, () => [409, problem('already-recalled')]));
    expect(new Set(refused.map((r) => r.body.recallId))).toEqual(new Set([created[0].body.id]));
  });
});
