import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
const HOUR = 3_600_000;
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
  let F: TestOrg, P1: TestOrg, P2: TestOrg, R1: TestOrg, R2: TestOrg, R3: TestOrg, X: TestOrg;
  let regulator: Api;
  let inspector: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Grain Farm', 'producer', ['farm']);
    P1 = await anOrg(t, 'Noodle Works', 'processor', ['factory']);
    P2 = await anOrg(t, 'Bread Bakery', 'processor', ['factory']);
    R1 = await anOrg(t, 'Shop One', 'retailer', ['store']);
    R2 = await anOrg(t, 'Shop Two', 'retailer', ['store']);
    R3 = await anOrg(t, 'Shop Three', 'retailer', ['store']);
    X = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'Provincial Inspection Centre', 'inspection_agency', [])).id, 'inspector');
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P1.api, 'food', FOOD_GTIN, 'noodles');
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
  const boxes = (value: number) => ({ value, unit: 'box' });
  const statusAndType = (r: { status: number; body: any }) => [r.status, r.body?.type];
  const holdingsOf = async (api: Api, domain: string, id: string) => [...ok<{ holdings: any[] }>(await api.get(`/v1/${domain}/batches/${id}`), 200).holdings].sort(byOrg);
  /** What lineage (the recall's source of holdings) holds for a batch, as { org: [quantity, inTransit] }. */
  const lineageHoldings = async (batchId: string) => {
    const [row] = await t.query<{ holdings: { orgId: string; quantity: number; inTransit: number }[] }>(
      `SELECT holdings FROM "${t.prefix}lineage".lineage_holdings WHERE batch_id = $1`,
      [batchId],
    );
    return Object.fromEntries((row?.holdings ?? []).filter((h) => h.quantity > 0 || h.inTransit > 0).map((h) => [h.orgId, [h.quantity, h.inTransit]]));
  };

  it('follows a farm lot and the boxes made from it through partial shipments, a recall, a return and acknowledgements', async () => {
    // Farm lot of 1,200 kg: 500 kg to processor P1, 700 kg to processor P2.
    const lot = ok(await F.api.post('/v1/agri/batches', aBatch('WHEAT-H1', F.locations.farm)));
    ok(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P1.id, quantity: kg(500) }));
    ok(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P2.id, quantity: kg(700) }));
    expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual(
      [{ orgId: P1.id, quantity: 0, inTransit: 500 }, { orgId: P2.id, quantity: 0, inTransit: 700 }].sort(byOrg),
    );
    // Nothing left at the farm: shipping more is refused, and so is any other event by an organisation holding none.
    expect(statusAndType(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: X.id, quantity: kg(1) }))).toEqual([409, problem('insufficient-quantity')]);
    expect(statusAndType(await event(F, 'agri', lot.id, { bizStep: 'storing' }))).toEqual([403, problem('not-the-holder')]);
    ok(await event(P1, 'agri', lot.id, { bizStep: 'receiving' }));
    ok(await event(P2, 'agri', lot.id, { bizStep: 'receiving' }));
    // Another operator sees its own part only; the owner and regulators see all.
    expect(await holdingsOf(P2.api, 'agri', lot.id)).toEqual([{ orgId: P2.id, quantity: 700, inTransit: 0 }]);
    expect(await holdingsOf(regulator, 'agri', lot.id)).toEqual(
      [{ orgId: P1.id, quantity: 500, inTransit: 0 }, { orgId: P2.id, quantity: 700, inTransit: 0 }].sort(byOrg),
    );
    // Several holders each write their own events; none takes more than it holds.
    ok(await event(P2, 'agri', lot.id, { bizStep: 'storing' }));
    expect(statusAndType(await event(P2, 'agri', lot.id, { bizStep: 'shipping', toOrgId: X.id, quantity: kg(701) }))).toEqual([409, problem('insufficient-quantity')]);

    // P1 makes 4,000 boxes from its 500 kg and ships 500 / 1,500 / 2,000 to three retailers; the third is still on its way.
    const tooMuch = await P1.api.post('/v1/food/batches', {
      ...aBatch('NOODLE-H0', P1.locations.factory),
      gtin: FOOD_GTIN,
      quantity: boxes(4000),
      inputs: [{ domain: 'agri', batchId: lot.id, quantity: kg(501) }],
    });
    expect(statusAndType(tooMuch)).toEqual([409, problem('insufficient-quantity')]);
    const box = ok(
      await P1.api.post('/v1/food/batches', {
        ...aBatch('NOODLE-H1', P1.locations.factory),
        gtin: FOOD_GTIN,
        quantity: boxes(4000),
        inputs: [{ domain: 'agri', batchId: lot.id, quantity: kg(500) }],
      }),
    );
    expect(ok(await regulator.get(`/v1/agri/batches/${lot.id}`), 200)).toMatchObject({
      quantity: kg(1200),
      remaining: kg(700),
      holdings: [{ orgId: P2.id, quantity: 700, inTransit: 0 }],
    });
    ok(await event(P1, 'food', box.id, { bizStep: 'shipping', toOrgId: R1.id, quantity: boxes(500) }));
    ok(await event(P1, 'food', box.id, { bizStep: 'shipping', toOrgId: R2.id, quantity: boxes(1500) }));
    ok(await event(P1, 'food', box.id, { bizStep: 'shipping', toOrgId: R3.id, quantity: boxes(2000) }));
    // Every receiver sees what is on its way to it (its own part), its chain and EPCIS export; nobody else does.
    for (const r of [R1, R2, R3]) {
      expect(await holdingsOf(r.api, 'food', box.id)).toEqual([{ orgId: r.id, quantity: 0, inTransit: { [R1.id]: 500, [R2.id]: 1500, [R3.id]: 2000 }[r.id] }]);
      expect((await r.api.get(`/v1/food/batches/${box.id}/epcis`)).status).toBe(200);
    }
    expect((await X.api.get(`/v1/food/batches/${box.id}`)).status).toBe(404);
    ok(await event(R1, 'food', box.id, { bizStep: 'receiving' }));
    ok(await event(R2, 'food', box.id, { bizStep: 'receiving' }));
    expect(await holdingsOf(P1.api, 'food', box.id)).toEqual(
      [
        { orgId: R1.id, quantity: 500, inTransit: 0 },
        { orgId: R2.id, quantity: 1500, inTransit: 0 },
        { orgId: R3.id, quantity: 0, inTransit: 2000 },
      ].sort(byOrg),
    );

    // A failed sample of the farm lot holds it and opens a case.
    const failed = ok(
      await inspector.post(`/v1/agri/batches/${lot.id}/inspections`, {
        reportNo: 'SJ-H1',
        sampledAt: new Date(Date.now() - HOUR).toISOString(),
        agency: 'Provincial Agricultural Product Quality Inspection Centre',
        items: [{ name: 'deoxynivalenol', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' }],
        conclusion: 'fail',
      }),
    );
    const theCase = await eventually(async () => {
      const r = await regulator.get('/v1/cases?status=open');
      const items = Array.isArray(r.body) ? r.body : (r.body?.items ?? []);
      return items.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined;
    }, 10_000);
    // The recall takes its holdings from lineage, which follows the events: wait until it has seen them all.
    await eventually(async () => {
      const [l, b] = [await lineageHoldings(lot.id), await lineageHoldings(box.id)];
      return JSON.stringify(l) === JSON.stringify({ [P2.id]: [700, 0] }) && Object.keys(b).length === 3 && b[R3.id]?.[1] === 2000 && b[R2.id]?.[0] === 1500;
    }, 10_000);

    // The recall of the farm lot lists every holding, in transit included.
    const recall = ok(await regulator.post(`/v1/cases/${theCase!.id}/recall`, { level: 1, reason: 'Deoxynivalenol 1.8 mg/kg (limit 1)' }));
    expect([...recall.scope.holdings].sort(byOrg)).toEqual(
      [
        { domain: 'agri', batchId: lot.id, orgId: P2.id, quantity: 700, inTransit: 0, unit: 'kg' },
        { domain: 'food', batchId: box.id, orgId: R1.id, quantity: 500, inTransit: 0, unit: 'box' },
        { domain: 'food', batchId: box.id, orgId: R2.id, quantity: 1500, inTransit: 0, unit: 'box' },
        { domain: 'food', batchId: box.id, orgId: R3.id, quantity: 0, inTransit: 2000, unit: 'box' },
      ].sort(byOrg),
    );
    expect([...recall.scope.organisations].sort()).toEqual([P2.id, R1.id, R2.id, R3.id].sort());

    // A second recall naming a batch under this one is refused with its id.
    for (const batch of [{ domain: 'agri', batchId: lot.id }, { domain: 'food', batchId: box.id }]) {
      const again = await regulator.post('/v1/recalls', { batches: [batch], level: 2, reason: 'again' });
      expect(statusAndType(again)).toEqual([409, problem('already-recalled')]);
      expect(again.body.recallId).toBe(recall.id);
    }

    await eventually(async () => (await regulator.get(`/v1/food/batches/${box.id}`)).body.status === 'recalled', 10_000);
    // Under the recall nothing moves on — not to someone else, not as a "return" to who it did not come from, not sold.
    expect(statusAndType(await event(R1, 'food', box.id, { bizStep: 'shipping', toOrgId: X.id, quantity: boxes(10) }))).toEqual([409, problem('batch-recalled')]);
    expect(statusAndType(await event(R1, 'food', box.id, { bizStep: 'shipping', toOrgId: X.id, quantity: boxes(10), disposition: 'returned' }))).toEqual([
      409,
      problem('batch-recalled'),
    ]);
    expect(statusAndType(await event(R2, 'food', box.id, { bizStep: 'retail_selling', quantity: boxes(1) }))).toEqual([409, problem('batch-recalled')]);
    expect(statusAndType(await event(P2, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P1.id, disposition: 'returned' }))).toEqual([409, problem('batch-recalled')]);
    // …but goes back up the chain, is received there, and is destroyed.
    ok(await event(R1, 'food', box.id, { bizStep: 'shipping', toOrgId: P1.id, quantity: boxes(200), disposition: 'returned' }));
    ok(await event(P1, 'food', box.id, { bizStep: 'receiving' }));
    ok(await event(R3, 'food', box.id, { bizStep: 'receiving' }));
    ok(await event(R2, 'food', box.id, { bizStep: 'destroying', quantity: boxes(1500) }));
    expect(await holdingsOf(P1.api, 'food', box.id)).toEqual(
      [
        { orgId: P1.id, quantity: 200, inTransit: 0 },
        { orgId: R1.id, quantity: 300, inTransit: 0 },
        { orgId: R3.id, quantity: 2000, inTransit: 0 },
      ].sort(byOrg),
    );
    expect((await regulator.get(`/v1/food/batches/${box.id}`)).body).toMatchObject({ status: 'recalled', remaining: boxes(2500) });

    // Each holder acknowledges within what it held (in transit included) or was given since; above it is refused.
    const ack = (o: TestOrg, batchId: string, recovered: number, destroyed: number, sold: number) =>
      o.api.post(`/v1/recalls/${recall.id}/acknowledgements`, { batchId, recovered, destroyed, sold });
    expect(statusAndType(await ack(R2, box.id, 1600, 0, 0))).toEqual([422, problem('exceeds-holding')]);
    ok(await ack(R2, box.id, 0, 1500, 0));
    ok(await ack(P2, lot.id, 700, 0, 0));
    ok(await ack(R1, box.id, 300, 0, 0));
    ok(await ack(R3, box.id, 1000, 0, 1000));
    // P1 held none of the boxes when the recall started; it was given 200 back since.
    await eventually(async () => (await lineageHoldings(box.id))[P1.id]?.[0] === 200, 10_000);
    expect(statusAndType(await ack(P1, box.id, 0, 201, 0))).toEqual([422, problem('exceeds-holding')]);
    ok(await ack(P1, box.id, 0, 200, 0));
    // The farm held none of its lot when the recall started; a stranger holds nothing in it at all.
    expect(statusAndType(await ack(F, lot.id, 1, 0, 0))).toEqual([403, problem('not-the-holder')]);
    expect(statusAndType(await ack(X, box.id, 1, 0, 0))).toEqual([403, problem('not-in-scope')]);

    // Effectiveness: kg 700 of 700 and boxes (300 + 200 + 1,500 + 1,000) of 4,000, averaged over the two units.
    const progress = ok(await regulator.get(`/v1/recalls/${recall.id}`), 200);
    expect(progress.effectiveness).toBe(0.875);
    expect([...progress.effectivenessBasis.byUnit].sort((a: { unit: string }, b: { unit: string }) => a.unit.localeCompare(b.unit))).toEqual([
      { unit: 'box', accountedFor: 3000, distributed: 4000 },
      { unit: 'kg', accountedFor: 700, distributed: 700 },
    ]);
    expect(progress.acknowledgements).toHaveLength(5);
    // Each holder sees the recall it holds something in.
    expect((await R3.api.get(`/v1/recalls/${recall.id}`)).status).toBe(200);
    expect((await X.api.get(`/v1/recalls/${recall.id}`)).status).toBe(404);
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
