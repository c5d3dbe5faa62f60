import { eventually } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct, type Api } from '../support/api';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN_1 = '04012345000016';
const FOOD_GTIN_2 = '04012345000023';
const HOUR = 3_600_000;
const now = () => new Date().toISOString();

type Batch = { id: string; gtin: string; lot: string };
type Org = { id: string; api: Api; loc: string };

/**
 * The recall scenario of tests/integration/recall-scenario.int.ts in
 * distributed mode: agri, food, lineage and recall each their own process,
 * Kafka between them, the gateway in front. One grain lot → two processors →
 * four food batches → three retailers; a failed sample → case → level-1
 * recall → all five batches recalled in their own services → acknowledgements
 * → effectiveness 1 → closed.
 */
describe('recall scenario over Kafka (agri, food, lineage, recall and gateway processes)', () => {
  let d: DistributedDeployment | undefined;

  afterAll(async () => {
    await d?.stop();
  });

  it('failed sample → case → level-1 recall of five batches across two processors and three retailers → close', async () => {
    d = await startDistributed(['agri', 'food', 'lineage', 'recall'], 'e2erc');
    const dep = d;
    const admin = dep.as('platform', 'admin');
    const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
      if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as T;
    };
    const org = async (name: string, kind: string, locationKind?: string): Promise<Org> => {
      const id = ok<{ id: string }>(await admin.post('/v1/orgs', { name, kind })).id;
      const api = dep.as(id, 'operator');
      const loc = locationKind ? ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id : '';
      return { id, api, loc };
    };
    const F = await org('Grain Farm', 'producer', 'farm');
    const P1 = await org('Noodle Works', 'processor', 'factory');
    const P2 = await org('Bread Bakery', 'processor', 'factory');
    const A = await org('Shop A', 'retailer', 'store');
    const B = await org('Shop B', 'retailer', 'store');
    const C = await org('Shop C', 'retailer', 'store');
    const X = await org('Someone Else', 'retailer', 'store');
    const regulator = dep.as((await org('Market Supervision Bureau', 'regulator')).id, 'regulator');
    const inspector = dep.as((await org('Provincial Inspection Centre', 'inspection_agency')).id, 'inspector');
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P1.api, 'food', FOOD_GTIN_1, 'noodles');
    await aProduct(P2.api, 'food', FOOD_GTIN_2, 'bread');

    const event = (o: Org, domain: string, id: string, body: Record<string, unknown>) =>
      o.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: o.loc, ...body });
    const move = async (from: Org, to: Org, domain: string, id: string) => {
      ok(await event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id }));
      ok(await event(to, domain, id, { bizStep: 'receiving' }));
    };

    // Supply chain: F → P1 (F1, F3) → P2 (F2, F4); F1 → A, F2 → B, F3 and F4 → C.
    const G = ok<Batch>(await F.api.post('/v1/agri/batches', aBatch('WHEAT-E2E-SCN', F.loc)));
    await move(F, P1, 'agri', G.id);
    const foodFrom = async (p: Org, gtin: string, lot: string) =>
      ok<Batch>(
        await p.api.post('/v1/food/batches', {
          ...aBatch(lot, p.loc),
          gtin,
          quantity: { value: 100, unit: 'pack' },
          inputs: [{ domain: 'agri', batchId: G.id, quantity: { value: 100, unit: 'kg' } }],
        }),
      );
    const F1 = await foodFrom(P1, FOOD_GTIN_1, 'NOODLE-E2E-1');
    const F3 = await foodFrom(P1, FOOD_GTIN_1, 'NOODLE-E2E-3');
    await move(P1, P2, 'agri', G.id);
    const F2 = await foodFrom(P2, FOOD_GTIN_2, 'BREAD-E2E-2');
    const F4 = await foodFrom(P2, FOOD_GTIN_2, 'BREAD-E2E-4');
    await move(P1, A, 'food', F1.id);
    await move(P2, B, 'food', F2.id);
    await move(P1, C, 'food', F3.id);
    await move(P2, C, 'food', F4.id);
    const five = [['agri', G], ['food', F1], ['food', F2], ['food', F3], ['food', F4]] as const;

    // Lineage (its own process) follows over Kafka.
    const holders: Record<string, string> = { [G.id]: P2.id, [F1.id]: A.id, [F2.id]: B.id, [F3.id]: C.id, [F4.id]: C.id };
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${G.id}?direction=downstream`);
      return (
        tr.status === 200 &&
        Object.entries(holders).every(([id, o]) => tr.body.nodes.some((n: { batchId: string; holderOrgId: string }) => n.batchId === id && n.holderOrgId === o))
      );
    }, 60_000);

    // A failed sample holds the agri lot and opens a case in the recall service.
    const failed = ok(
      await inspector.post(`/v1/agri/batches/${G.id}/inspections`, {
        reportNo: 'E2E-SJ-SCN-1',
        sampledAt: new Date(Date.now() - HOUR).toISOString(),
        agency: 'Provincial Agricultural Product Quality Inspection Centre',
        items: [{ name: 'deoxynivalenol', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' }],
        conclusion: 'fail',
      }),
    );
    expect((await F.api.get(`/v1/agri/batches/${G.id}`)).body.status).toBe('held');
    const theCase = await eventually(async () => {
      const r = await regulator.get('/v1/cases?status=open');
      return r.status === 200 && (r.body.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined);
    }, 60_000);
    const caseId = (theCase as { id: string }).id;

    // Case → level-1 recall; the scope (from the lineage process over HTTP) is all five batches.
    const reason = 'Deoxynivalenol 1.8 mg/kg (limit 1)';
    const recall = ok(await regulator.post(`/v1/cases/${caseId}/recall`, { level: 1, reason }));
    expect(recall).toMatchObject({ status: 'active', level: 1, caseId });
    expect(recall.scope.batches.map((b: { batchId: string }) => b.batchId).sort()).toEqual([G.id, F1.id, F2.id, F3.id, F4.id].sort());
    expect([...recall.scope.organisations].sort()).toEqual([P2.id, A.id, B.id, C.id].sort());

    // Each batch turns recalled in its own service (recallInitiated over Kafka).
    await eventually(async () => {
      for (const [domain, b] of five) if ((await regulator.get(`/v1/${domain}/batches/${b.id}`)).body.status !== 'recalled') return false;
      return true;
    }, 60_000);
    const ship = await event(A, 'food', F1.id, { bizStep: 'shipping', toOrgId: X.id });
    expect([ship.status, ship.body.type]).toEqual([409, problem('batch-recalled')]);

    // The consumer scan (through the gateway) shows the recall.
    for (const [, b] of five) {
      const scanned = await eventually(async () => {
        const r = await fetch(`${dep.gateway.url}/01/${b.gtin}/10/${encodeURIComponent(b.lot)}`, { headers: { accept: 'application/json' } });
        if (r.status !== 200) return false;
        const body: any = await r.json();
        return body.recall?.active === true && body;
      }, 30_000);
      expect(scanned.recall).toEqual({ active: true, level: 1, reason });
    }

    // Acknowledgements; nothing sold on, so effectiveness reaches 1; the regulator closes.
    const path = `/v1/recalls/${recall.id}`;
    ok(await P2.api.post(`${path}/acknowledgements`, { batchId: G.id, recovered: 800, destroyed: 0, sold: 0 }));
    ok(await A.api.post(`${path}/acknowledgements`, { batchId: F1.id, recovered: 60, destroyed: 40, sold: 0 }));
    ok(await B.api.post(`${path}/acknowledgements`, { batchId: F2.id, recovered: 100, destroyed: 0, sold: 0 }));
    ok(await C.api.post(`${path}/acknowledgements`, { batchId: F3.id, recovered: 0, destroyed: 100, sold: 0 }));
    ok(await C.api.post(`${path}/acknowledgements`, { batchId: F4.id, recovered: 90, destroyed: 10, sold: 0 }));
    const progress = ok(await regulator.get(path), 200);
    expect(progress.acknowledgements).toHaveLength(5);
    expect(progress.effectiveness).toBe(1);
    const closed = ok(await regulator.post(`${path}/close`, {}), 200);
    expect(closed).toMatchObject({ status: 'closed', closedAt: expect.any(String), effectiveness: 1 });
  });
});
