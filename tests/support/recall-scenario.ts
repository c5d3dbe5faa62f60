import { eventually } from '@trace/testing';
import type { Role } from '@trace/platform';
import { aBatch, aProduct, type Api } from './api';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN_1 = '04012345000016'; // processor 1's product
const FOOD_GTIN_2 = '04012345000023'; // processor 2's product
const HOUR = 3_600_000;
const now = () => new Date().toISOString();

type Batch = { id: string; gtin: string; lot: string };
type Org = { id: string; api: Api; loc: string };

/** Where the scenario runs: the embedded app, or the gateway of a distributed deployment. */
export interface ScenarioDeployment {
  /** The public base URL (scans go there). */
  url: string;
  as(orgId: string, role: Role): Api;
  /** How long to wait for what travels over the event backbone. */
  eventuallyMs: number;
}

const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
};

/**
 * "Done means" scenario A of the recalls issue, as steps to run in order
 * against either deployment (tests/integration/recall-scenario.int.ts in
 * embedded mode, tests/e2e/recall-scenario.e2e.ts over Kafka): one grain lot
 * feeds two processors and, through four food batches, three retailers; a
 * failed sample of the grain opens a case, the regulator turns it into a
 * level-1 recall, all five batches turn recalled, holders acknowledge,
 * effectiveness reaches 1, the recall closes.
 *
 * Story (five batches in scope):
 *   farm F registers agri lot G (grain: no certificate needed) and ships it to processor P1;
 *   P1 makes food batches F1 and F3 from G, then ships the rest of G on to processor P2;
 *   P2 makes food batches F2 and F4 from G;
 *   F1 → retailer A, F2 → retailer B, F3 and F4 → retailer C; each retailer receives.
 */
export function recallScenario(dep: () => ScenarioDeployment, tag: string) {
  let F: Org, P1: Org, P2: Org, A: Org, B: Org, C: Org, X: Org;
  let regulator: Api;
  let inspector: Api;
  let G: Batch, F1: Batch, F2: Batch, F3: Batch, F4: Batch;
  let caseId: string;
  let recall: {
    id: string;
    scope: {
      batches: { domain: string; batchId: string; holderOrgId: string }[];
      holdings: { domain: string; batchId: string; orgId: string; quantity: number; inTransit: number }[];
      organisations: string[];
    };
  };
  const reason = 'Deoxynivalenol 1.8 mg/kg (limit 1)';

  const org = async (name: string, kind: string, locationKind?: string): Promise<Org> => {
    const id = ok<{ id: string }>(await dep().as('platform', 'admin').post('/v1/orgs', { name, kind })).id;
    const api = dep().as(id, 'operator');
    const loc = locationKind ? ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id : '';
    return { id, api, loc };
  };
  const event = (o: Org, domain: string, id: string, body: Record<string, unknown>) =>
    o.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: o.loc, ...body });
  const move = async (from: Org, to: Org, domain: string, id: string) => {
    ok(await event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id }));
    ok(await event(to, domain, id, { bizStep: 'receiving' }));
  };
  const foodFrom = async (p: Org, gtin: string, lot: string) =>
    ok<Batch>(
      await p.api.post('/v1/food/batches', {
        ...aBatch(lot, p.loc),
        gtin,
        quantity: { value: 100, unit: 'pack' },
        inputs: [{ domain: 'agri', batchId: G.id, quantity: { value: 100, unit: 'kg' } }],
      }),
    );
  const status = async (domain: string, id: string) => (await regulator.get(`/v1/${domain}/batches/${id}`)).body.status;
  const five = () =>
    [
      ['agri', G],
      ['food', F1],
      ['food', F2],
      ['food', F3],
      ['food', F4],
    ] as const;

  return {
    /** One agri lot, two processors, four food batches, three retailers; lineage has followed it all. */
    async buildSupplyChain() {
      F = await org('Grain Farm', 'producer', 'farm');
      P1 = await org('Noodle Works', 'processor', 'factory');
      P2 = await org('Bread Bakery', 'processor', 'factory');
      A = await org('Shop A', 'retailer', 'store');
      B = await org('Shop B', 'retailer', 'store');
      C = await org('Shop C', 'retailer', 'store');
      X = await org('Someone Else', 'retailer', 'store');
      regulator = dep().as((await org('Market Supervision Bureau', 'regulator')).id, 'regulator');
      inspector = dep().as((await org('Provincial Inspection Centre', 'inspection_agency')).id, 'inspector');
      await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
      await aProduct(P1.api, 'food', FOOD_GTIN_1, 'noodles');
      await aProduct(P2.api, 'food', FOOD_GTIN_2, 'bread');

      G = ok<Batch>(await F.api.post('/v1/agri/batches', aBatch(`WHEAT-${tag}`, F.loc)));
      await move(F, P1, 'agri', G.id);
      F1 = await foodFrom(P1, FOOD_GTIN_1, `NOODLE-${tag}-1`);
      F3 = await foodFrom(P1, FOOD_GTIN_1, `NOODLE-${tag}-3`);
      await move(P1, P2, 'agri', G.id);
      F2 = await foodFrom(P2, FOOD_GTIN_2, `BREAD-${tag}-2`);
      F4 = await foodFrom(P2, FOOD_GTIN_2, `BREAD-${tag}-4`);
      await move(P1, A, 'food', F1.id);
      await move(P2, B, 'food', F2.id);
      await move(P1, C, 'food', F3.id);
      await move(P2, C, 'food', F4.id);

      // Lineage follows the events: all four food batches downstream of the grain, each at its retailer.
      const holders: Record<string, string> = { [G.id]: P2.id, [F1.id]: A.id, [F2.id]: B.id, [F3.id]: C.id, [F4.id]: C.id };
      await eventually(async () => {
        const tr = await regulator.get(`/v1/trace/agri/${G.id}?direction=downstream`);
        return (
          tr.status === 200 &&
          Object.entries(holders).every(([id, o]) => tr.body.nodes.some((n: { batchId: string; holderOrgId: string }) => n.batchId === id && n.holderOrgId === o))
        );
      }, dep().eventuallyMs);
    },

    /** A failed inspection of the agri lot holds it and opens a case in the recall service. */
    async failInspection() {
      const failed = ok(
        await inspector.post(`/v1/agri/batches/${G.id}/inspections`, {
          reportNo: `SJ-${tag}-1`,
          sampledAt: new Date(Date.now() - HOUR).toISOString(),
          agency: 'Provincial Agricultural Product Quality Inspection Centre',
          items: [{ name: 'deoxynivalenol', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' }],
          conclusion: 'fail',
        }),
      );
      expect(failed).toMatchObject({ conclusion: 'fail' });
      expect(await status('agri', G.id)).toBe('held');
      const theCase = await eventually(async () => {
        const r = await regulator.get('/v1/cases?status=open');
        return r.status === 200 && (r.body.items.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined);
      }, dep().eventuallyMs);
      expect(theCase).toMatchObject({ status: 'open', batch: { domain: 'agri', batchId: G.id } });
      caseId = (theCase as { id: string }).id;
    },

    /** Case → level-1 recall; the scope (from lineage) is all five batches, each with its holder. */
    async recallFromCase() {
      recall = ok(await regulator.post(`/v1/cases/${caseId}/recall`, { level: 1, reason }));
      expect(recall).toMatchObject({ status: 'active', level: 1, caseId });
      expect(recall.scope.batches.map((b) => b.batchId).sort()).toEqual([G.id, F1.id, F2.id, F3.id, F4.id].sort());
      expect(recall.scope.batches).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ domain: 'agri', batchId: G.id, holderOrgId: P2.id }),
          expect.objectContaining({ domain: 'food', batchId: F1.id, holderOrgId: A.id }),
          expect.objectContaining({ domain: 'food', batchId: F2.id, holderOrgId: B.id }),
          expect.objectContaining({ domain: 'food', batchId: F3.id, holderOrgId: C.id }),
          expect.objectContaining({ domain: 'food', batchId: F4.id, holderOrgId: C.id }),
        ]),
      );
      expect([...recall.scope.organisations].sort()).toEqual([P2.id, A.id, B.id, C.id].sort());
      // Who held how much when it started: each food batch's 100 packs at its retailer (lineage has seen each receipt).
      expect(recall.scope.holdings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ domain: 'food', batchId: F1.id, orgId: A.id, quantity: 100, inTransit: 0 }),
          expect.objectContaining({ domain: 'food', batchId: F2.id, orgId: B.id, quantity: 100, inTransit: 0 }),
          expect.objectContaining({ domain: 'food', batchId: F3.id, orgId: C.id, quantity: 100, inTransit: 0 }),
          expect.objectContaining({ domain: 'food', batchId: F4.id, orgId: C.id, quantity: 100, inTransit: 0 }),
        ]),
      );
    },

    /** All five read recalled in their own services; a retailer cannot ship; the scan shows the recall. */
    async allRecalled() {
      await eventually(async () => {
        for (const [domain, b] of five()) if ((await status(domain, b.id)) !== 'recalled') return false;
        return true;
      }, dep().eventuallyMs);
      const ship = await event(A, 'food', F1.id, { bizStep: 'shipping', toOrgId: X.id });
      expect([ship.status, ship.body.type]).toEqual([409, problem('batch-recalled')]);
      for (const [, b] of five()) {
        // A distributed gateway learns of the recall over Kafka: its cache may answer the old page for a moment.
        const scanned = await eventually(async () => {
          const r = await fetch(`${dep().url}/01/${b.gtin}/10/${encodeURIComponent(b.lot)}`, { headers: { accept: 'application/json' } });
          if (r.status !== 200) return false;
          const body: any = await r.json();
          return body.recall?.active === true && body;
        }, dep().eventuallyMs);
        expect(scanned.recall).toEqual({ active: true, level: 1, reason });
      }
    },

    /** Each holder acknowledges; nothing was sold on, so effectiveness reaches 1.0; the regulator closes. */
    async acknowledgeAndClose() {
      const path = `/v1/recalls/${recall.id}`;
      ok(await P2.api.post(`${path}/acknowledgements`, { batchId: G.id, recovered: 800, destroyed: 0, sold: 0 }));
      // More than the retailer held is refused.
      const tooMuch = await A.api.post(`${path}/acknowledgements`, { batchId: F1.id, recovered: 60, destroyed: 41, sold: 0 });
      expect([tooMuch.status, tooMuch.body.type]).toEqual([422, problem('exceeds-holding')]);
      ok(await A.api.post(`${path}/acknowledgements`, { batchId: F1.id, recovered: 60, destroyed: 40, sold: 0 }));
      ok(await B.api.post(`${path}/acknowledgements`, { batchId: F2.id, recovered: 100, destroyed: 0, sold: 0 }));
      ok(await C.api.post(`${path}/acknowledgements`, { batchId: F3.id, recovered: 0, destroyed: 100, sold: 0 }));
      ok(await C.api.post(`${path}/acknowledgements`, { batchId: F4.id, recovered: 90, destroyed: 10, sold: 0 }));
      const progress = ok(await regulator.get(path), 200);
      expect(progress.acknowledgements).toHaveLength(5);
      expect(progress.effectiveness).toBe(1);
      expect(progress.organisations.every((o: { acknowledged: boolean }) => o.acknowledged)).toBe(true);
      const closed = ok(await regulator.post(`${path}/close`, {}), 200);
      expect(closed).toMatchObject({ status: 'closed', closedAt: expect.any(String), effectiveness: 1 });
    },
  };
}
