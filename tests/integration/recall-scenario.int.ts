import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN_1 = '04012345000016'; // processor 1's product
const FOOD_GTIN_2 = '04012345000023'; // processor 2's product
const GOODS_GTIN = '06950000000019';
const HOUR = 3_600_000;
const now = () => new Date().toISOString();
const INCIDENT_SWEEP = 'recall.incidents.sweep';

type Batch = { id: string; gtin: string; lot: string };

/**
 * "Done means" scenario A, embedded: one grain lot feeds two processors and,
 * through four food batches, three retailers; a failed sample of the grain
 * opens a case, the regulator turns it into a level-1 recall, all five
 * batches turn recalled, holders acknowledge, effectiveness reaches 1, the
 * recall closes.
 *
 * Story (five batches in scope):
 *   farm F registers agri lot G (grain: no certificate needed) and ships it to processor P1;
 *   P1 makes food batches F1 and F3 from G, then ships the rest of G on to processor P2;
 *   P2 makes food batches F2 and F4 from G;
 *   F1 → retailer A, F2 → retailer B, F3 and F4 → retailer C; each retailer receives.
 */
describe('recall scenario: failed sample → case → level-1 recall across two processors and three retailers → close', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg;
  let P1: TestOrg;
  let P2: TestOrg;
  let A: TestOrg;
  let B: TestOrg;
  let C: TestOrg;
  let X: TestOrg;
  let regulator: Api;
  let inspector: Api;
  let G: Batch;
  let F1: Batch;
  let F2: Batch;
  let F3: Batch;
  let F4: Batch;
  let recall: { id: string; level: number; scope: { batches: { domain: string; batchId: string; holderOrgId: string }[]; organisations: string[] } };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Grain Farm', 'producer', ['farm']);
    P1 = await anOrg(t, 'Noodle Works', 'processor', ['factory']);
    P2 = await anOrg(t, 'Bread Bakery', 'processor', ['factory']);
    A = await anOrg(t, 'Shop A', 'retailer', ['store']);
    B = await anOrg(t, 'Shop B', 'retailer', ['store']);
    C = await anOrg(t, 'Shop C', 'retailer', ['store']);
    X = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'Provincial Inspection Centre', 'inspection_agency', [])).id, 'inspector');
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P1.api, 'food', FOOD_GTIN_1, 'noodles');
    await aProduct(P2.api, 'food', FOOD_GTIN_2, 'bread');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const loc = (o: TestOrg) => o.locations.farm ?? o.locations.factory ?? o.locations.store;
  const event = (org: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
    org.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: loc(org), ...body });
  const move = async (from: TestOrg, to: TestOrg, domain: string, id: string) => {
    ok(await event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id }));
    ok(await event(to, domain, id, { bizStep: 'receiving' }));
  };
  const foodFrom = async (p: TestOrg, gtin: string, lot: string) =>
    ok<Batch>(
      await p.api.post('/v1/food/batches', {
        ...aBatch(lot, loc(p)),
        gtin,
        quantity: { value: 100, unit: 'pack' },
        inputs: [{ domain: 'agri', batchId: G.id, quantity: { value: 100, unit: 'kg' } }],
      }),
    );
  const status = async (domain: string, id: string) => (await regulator.get(`/v1/${domain}/batches/${id}`)).body.status;
  const all = () => [
    ['agri', G],
    ['food', F1],
    ['food', F2],
    ['food', F3],
    ['food', F4],
  ] as const;

  it('builds the supply chain: one agri lot, two processors, four food batches, three retailers', async () => {
    G = ok<Batch>(await F.api.post('/v1/agri/batches', aBatch('WHEAT-SCN', F.locations.farm)));
    await move(F, P1, 'agri', G.id);
    F1 = await foodFrom(P1, FOOD_GTIN_1, 'NOODLE-SCN-1');
    F3 = await foodFrom(P1, FOOD_GTIN_1, 'NOODLE-SCN-3');
    await move(P1, P2, 'agri', G.id);
    F2 = await foodFrom(P2, FOOD_GTIN_2, 'BREAD-SCN-2');
    F4 = await foodFrom(P2, FOOD_GTIN_2, 'BREAD-SCN-4');
    await move(P1, A, 'food', F1.id);
    await move(P2, B, 'food', F2.id);
    await move(P1, C, 'food', F3.id);
    await move(P2, C, 'food', F4.id);

    const holders: Record<string, string> = { [G.id]: P2.id, [F1.id]: A.id, [F2.id]: B.id, [F3.id]: C.id, [F4.id]: C.id };
    // Lineage follows the events: all four food batches downstream of the grain, each at its retailer.
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${G.id}?direction=downstream`);
      return (
        tr.status === 200 &&
        Object.entries(holders).every(([id, org]) => tr.body.nodes.some((n: { batchId: string; holderOrgId: string }) => n.batchId === id && n.holderOrgId === org))
      );
    }, 20_000);
  });

  let caseId: string;
  it('a failed inspection of the agri lot holds it and opens a case', async () => {
    const failed = ok(
      await inspector.post(`/v1/agri/batches/${G.id}/inspections`, {
        reportNo: 'SJ-SCN-1',
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
      return r.status === 200 && (r.body.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined);
    }, 20_000);
    expect(theCase).toMatchObject({ status: 'open', batch: { domain: 'agri', batchId: G.id } });
    caseId = (theCase as { id: string }).id;
  });

  it('the regulator turns the case into a level-1 recall whose scope holds all five batches', async () => {
    recall = ok(await regulator.post(`/v1/cases/${caseId}/recall`, { level: 1, reason: 'Deoxynivalenol 1.8 mg/kg (limit 1)' }));
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
  });

  it('all five batches read recalled in their own services; a retailer cannot ship; the scan shows the recall', async () => {
    await eventually(async () => {
      for (const [domain, b] of all()) if ((await status(domain, b.id)) !== 'recalled') return false;
      return true;
    }, 20_000);
    const ship = await event(A, 'food', F1.id, { bizStep: 'shipping', toOrgId: X.id });
    expect([ship.status, ship.body.type]).toEqual([409, problem('batch-recalled')]);

    for (const [, b] of all()) {
      const r = await fetch(`${t.url}/01/${b.gtin}/10/${encodeURIComponent(b.lot)}`, { headers: { accept: 'application/json' } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as any).recall).toEqual({ active: true, level: 1, reason: 'Deoxynivalenol 1.8 mg/kg (limit 1)' });
    }
  });

  it('each holder acknowledges; effectiveness reaches 1.0; the regulator closes the recall', async () => {
    const path = `/v1/recalls/${recall.id}`;
    ok(await P2.api.post(`${path}/acknowledgements`, { batchId: G.id, recovered: 800, destroyed: 0, sold: 0 }));
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
  });
});

/**
 * "Done means" scenario B: a hospital reports a serious injury from a
 * consumer-goods batch on a Friday; the report is due two working days later,
 * skipping the weekend (Tuesday 24:00 Shanghai); with no report it is overdue
 * and the sweep publishes one incidentOverdue.
 */
describe('incident scenario: a Friday serious injury is due Tuesday, overdue without a report', () => {
  let t: EmbeddedTestApp;
  let M: TestOrg; // the goods maker
  let H: TestOrg; // the hospital
  let regulator: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    M = await anOrg(t, 'Garment Factory', 'producer', ['factory']);
    H = await anOrg(t, 'City Hospital', 'hospital', []);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    // clothing needs no CCC certificate.
    await aProduct(M.api, 'goods', GOODS_GTIN, 'clothing');
    const b = await M.api.post('/v1/goods/batches', { ...aBatch('JACKET-2026-11', M.locations.factory), gtin: GOODS_GTIN, quantity: { value: 500, unit: 'piece' } });
    if (b.status !== 201) throw new Error(`${b.status} ${JSON.stringify(b.body)}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('due Tuesday 24:00 Shanghai, listed overdue, one incidentOverdue from the sweep', async () => {
    // Friday 20 November 2026, 10:00 in Shanghai (an ordinary working day): working days Mon 23, Tue 24.
    const opened = await H.api.post('/v1/incidents', {
      domain: 'goods',
      gtin: GOODS_GTIN,
      lot: 'JACKET-2026-11',
      severity: 'serious_injury',
      occurredAt: '2026-11-19T20:00:00+08:00',
      awareAt: '2026-11-20T10:00:00+08:00',
      description: 'Child hospitalised after a zip pull detached and was swallowed',
    });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ responsibleOrgId: M.id, reportDueBy: '2026-11-24T16:00:00.000Z', status: 'awaiting_report' });
    const id = opened.body.id as string;

    // The due time has passed: overdue by the clock, before any sweep.
    const overdue = await regulator.get('/v1/incidents?status=overdue');
    expect(overdue.status).toBe(200);
    expect(overdue.body.map((i: { id: string }) => i.id)).toContain(id);

    const sweep = () => (t.app.get(INCIDENT_SWEEP) as { sweepOverdue(): Promise<number> }).sweepOverdue();
    await sweep();
    await sweep();
    const events = await t.query<{ event_type: string }>(`SELECT event_type FROM ${t.prefix}recall.outbox WHERE message_key = $1 ORDER BY id`, [id]);
    expect(events.filter((e) => e.event_type === 'trace.v1.IncidentOverdue')).toHaveLength(1);
    expect((await regulator.get(`/v1/incidents/${id}`)).body).toMatchObject({ status: 'overdue', overdueFlaggedAt: expect.any(String) });
  });
});
