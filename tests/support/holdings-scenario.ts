import { gs1CheckDigit } from '@trace/gs1';
import type { Role } from '@trace/platform';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from './api';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const gtin = (base12: string) => `0${base12}${gs1CheckDigit(`0${base12}`)}`;
const HOUR = 3_600_000;
const now = () => new Date().toISOString();
const byOrg = (a: { orgId: string; batchId?: string }, b: { orgId: string; batchId?: string }) =>
  `${a.batchId ?? ''}${a.orgId}`.localeCompare(`${b.batchId ?? ''}${b.orgId}`);

/** Where the scenario runs: the embedded app, or the gateway of a distributed deployment. */
export interface HoldingsDeployment {
  as(orgId: string, role: Role): Api;
  /** SQL on the test database (lineage's tables live in `${prefix}lineage`). */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  prefix: string;
  /** How long to wait for what travels over the event backbone. */
  eventuallyMs: number;
}

type Org = { id: string; api: Api; loc: string };

const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
};
const statusAndType = (r: { status: number; body: any }) => [r.status, r.body?.type];
const kg = (value: number) => ({ value, unit: 'kg' });
const boxes = (value: number) => ({ value, unit: 'box' });

/**
 * "Done means" of quantities and custody (API.md "Quantities and custody",
 * "Recalls"), run against either deployment (tests/integration/holdings.int.ts
 * embedded, tests/e2e/holdings.e2e.ts over Kafka):
 *
 *   farm lot of 1,200 kg → 500 kg to processor P1, 700 kg to processor P2;
 *   P1 makes 4,000 boxes from its 500 kg and ships 500 / 1,500 / 2,000 to three
 *   retailers, the third still in transit; a failed sample of the farm lot; a
 *   recall of it lists every holding; a retailer returns boxes to P1; each
 *   holder acknowledges within its holding (one above it is refused);
 *   effectiveness is exact; every other movement stays 409.
 */
export async function holdingsScenario(dep: HoldingsDeployment, tag: string): Promise<void> {
  const digits = String(tag.length * 1000 + tag.charCodeAt(tag.length - 1)).padStart(5, '0');
  const AGRI_GTIN = gtin(`9507${digits}010`);
  const FOOD_GTIN = gtin(`4013${digits}020`);
  const org = async (name: string, kind: string, locationKind?: string): Promise<Org> => {
    const id = ok<{ id: string }>(await dep.as('platform', 'admin').post('/v1/orgs', { name: `${name} ${tag}`, kind })).id;
    const api = dep.as(id, 'operator');
    const loc = locationKind ? ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id : '';
    return { id, api, loc };
  };
  const F = await org('Grain Farm', 'producer', 'farm');
  const P1 = await org('Noodle Works', 'processor', 'factory');
  const P2 = await org('Bread Bakery', 'processor', 'factory');
  const R1 = await org('Shop One', 'retailer', 'store');
  const R2 = await org('Shop Two', 'retailer', 'store');
  const R3 = await org('Shop Three', 'retailer', 'store');
  const X = await org('Someone Else', 'retailer', 'store');
  const regulator = dep.as((await org('Market Supervision Bureau', 'regulator')).id, 'regulator');
  const inspector = dep.as((await org('Provincial Inspection Centre', 'inspection_agency')).id, 'inspector');
  await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
  await aProduct(P1.api, 'food', FOOD_GTIN, 'noodles');

  const event = (o: Org, domain: string, id: string, body: Record<string, unknown>) =>
    o.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: o.loc, ...body });
  const holdingsOf = async (api: Api, domain: string, id: string) => [...ok<{ holdings: any[] }>(await api.get(`/v1/${domain}/batches/${id}`), 200).holdings].sort(byOrg);
  /** What lineage (the recall's source of holdings) holds for a batch, as { org: [quantity, inTransit] }. */
  const lineageHoldings = async (batchId: string) => {
    const [row] = await dep.query<{ holdings: { orgId: string; quantity: number; inTransit: number }[] }>(
      `SELECT holdings FROM "${dep.prefix}lineage".lineage_holdings WHERE batch_id = $1`,
      [batchId],
    );
    return Object.fromEntries((row?.holdings ?? []).filter((h) => h.quantity > 0 || h.inTransit > 0).map((h) => [h.orgId, [h.quantity, h.inTransit]]));
  };

  // Farm lot of 1,200 kg: 500 kg to processor P1, 700 kg to processor P2.
  const lot = ok(await F.api.post('/v1/agri/batches', { ...aBatch(`WHEAT-${tag}`, F.loc), gtin: AGRI_GTIN }));
  ok(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P1.id, quantity: kg(500) }));
  ok(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: P2.id, quantity: kg(700) }));
  expect(await holdingsOf(F.api, 'agri', lot.id)).toEqual(
    [{ orgId: P1.id, quantity: 0, inTransit: 500 }, { orgId: P2.id, quantity: 0, inTransit: 700 }].sort(byOrg),
  );
  // Nothing left at the farm: shipping more is refused, and so is any other event by an organisation holding none.
  expect(statusAndType(await event(F, 'agri', lot.id, { bizStep: 'shipping', toOrgId: X.id, quantity: kg(1) }))).toEqual([409, problem('insufficient-quantity')]);
  expect(statusAndType(await event(F, 'agri', lot.id, { bizStep: 'storing' }))).toEqual([403, problem('not-the-holder')]);
  // Each receiver sees what is on its way to it (GET /v1/shipments/incoming, from lineage), no one else does.
  const incoming = async (o: Org) => ok<{ items: any[] }>(await o.api.get('/v1/shipments/incoming'), 200).items.filter((i) => i.batchId === lot.id);
  await eventually(async () => (await incoming(P1)).length === 1 && (await incoming(P2)).length === 1, dep.eventuallyMs);
  expect(await incoming(P1)).toEqual([expect.objectContaining({ domain: 'agri', lot: `WHEAT-${tag}`, quantity: kg(500), fromOrgId: F.id })]);
  expect(await incoming(P2)).toEqual([expect.objectContaining({ quantity: kg(700), fromOrgId: F.id })]);
  expect(await incoming(X)).toEqual([]);
  ok(await event(P1, 'agri', lot.id, { bizStep: 'receiving' }));
  ok(await event(P2, 'agri', lot.id, { bizStep: 'receiving' }));
  // Received: off both lists.
  await eventually(async () => (await incoming(P1)).length === 0 && (await incoming(P2)).length === 0, dep.eventuallyMs);
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
    ...aBatch(`NOODLE-${tag}-0`, P1.loc),
    gtin: FOOD_GTIN,
    quantity: boxes(4000),
    inputs: [{ domain: 'agri', batchId: lot.id, quantity: kg(501) }],
  });
  expect(statusAndType(tooMuch)).toEqual([409, problem('insufficient-quantity')]);
  const box = ok(
    await P1.api.post('/v1/food/batches', {
      ...aBatch(`NOODLE-${tag}-1`, P1.loc),
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
      reportNo: `SJ-${tag}`,
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
  }, dep.eventuallyMs);
  // The recall takes its holdings from lineage, which follows the events: wait until it has seen them all.
  await eventually(async () => {
    const [l, b] = [await lineageHoldings(lot.id), await lineageHoldings(box.id)];
    return JSON.stringify(l) === JSON.stringify({ [P2.id]: [700, 0] }) && Object.keys(b).length === 3 && b[R3.id]?.[1] === 2000 && b[R2.id]?.[0] === 1500;
  }, dep.eventuallyMs);

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

  await eventually(async () => (await regulator.get(`/v1/food/batches/${box.id}`)).body.status === 'recalled', dep.eventuallyMs);
  await eventually(async () => (await regulator.get(`/v1/agri/batches/${lot.id}`)).body.status === 'recalled', dep.eventuallyMs);
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
  const ack = (o: Org, batchId: string, recovered: number, destroyed: number, sold: number) =>
    o.api.post(`/v1/recalls/${recall.id}/acknowledgements`, { batchId, recovered, destroyed, sold });
  expect(statusAndType(await ack(R2, box.id, 1600, 0, 0))).toEqual([422, problem('exceeds-holding')]);
  ok(await ack(R2, box.id, 0, 1500, 0));
  ok(await ack(P2, lot.id, 700, 0, 0));
  ok(await ack(R1, box.id, 300, 0, 0));
  ok(await ack(R3, box.id, 1000, 0, 1000));
  // P1 held none of the boxes when the recall started; it was given 200 back since.
  await eventually(async () => (await lineageHoldings(box.id))[P1.id]?.[0] === 200, dep.eventuallyMs);
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
}
