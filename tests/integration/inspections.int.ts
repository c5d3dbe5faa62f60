import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';

const residue = (result: 'pass' | 'fail', value = result === 'fail' ? 0.12 : 0.01) => ({
  name: 'chlorpyrifos residue',
  value,
  unit: 'mg/kg',
  limit: 0.05,
  result,
});
const lead = { name: 'lead (Pb)', value: 0.02, unit: 'mg/kg', limit: '≤0.2', result: 'pass' as const };

/**
 * Supervision sampling (DOMAIN.md §6) through the public API of the embedded
 * app: inspectors record results on the batch chain, a fail holds the batch
 * and opens a case in the recall service (through the event backbone), a
 * passing re-test within the window clears both.
 */
describe('inspections: a failed sample holds the batch and opens a case, a re-test clears it', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg; // the farm holding the agri batches
  let P: TestOrg; // a food processor
  let S: TestOrg; // a shop that receives
  let X: TestOrg; // an unrelated operator
  let inspector: Api;
  let regulator: Api;
  let agencyId: string;
  let n = 0;

  beforeAll(async () => {
    // The re-test window is configurable per domain: food gets 30 days here, agri keeps the default 15.
    process.env.FOOD_RETEST_WINDOW_DAYS = '30';
    try {
      t = await startEmbeddedApp();
    } finally {
      delete process.env.FOOD_RETEST_WINDOW_DAYS;
    }
    F = await anOrg(t, 'Green Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Sauce Works', 'processor', ['factory']);
    S = await anOrg(t, 'Corner Shop', 'retailer', ['store']);
    X = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    const agency = await anOrg(t, 'Provincial Inspection Centre', 'inspection_agency', []);
    const authority = await anOrg(t, 'Market Supervision Bureau', 'regulator', []);
    agencyId = agency.id;
    inspector = t.as(agency.id, 'inspector');
    regulator = t.as(authority.id, 'regulator');
    // grain ships without a certificate, so shipping here meets only the hold.
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P.api, 'food', FOOD_GTIN, 'sauce');
  });
  afterAll(async () => {
    await t?.close();
  });

  const agriBatch = async (lot: string) => {
    const r = await F.api.post('/v1/agri/batches', aBatch(lot, F.locations.farm));
    if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { id: string; lot: string; gtin: string };
  };
  const report = (over: Record<string, unknown> = {}) => ({
    reportNo: `SJ-2026-${++n}`,
    sampledAt: daysAgo(2),
    agency: 'Provincial Agricultural Product Quality Inspection Centre',
    items: [residue('fail'), lead],
    conclusion: 'fail',
    ...over,
  });
  const inspect = (id: string, body: unknown, as: Api = inspector, domain = 'agri') => as.post(`/v1/${domain}/batches/${id}/inspections`, body);
  const ship = (api: Api, id: string, locationId: string | undefined, toOrgId: string, domain = 'agri') =>
    api.post(`/v1/${domain}/batches/${id}/events`, { bizStep: 'shipping', eventTime: new Date().toISOString(), locationId, toOrgId });
  const caseOf = (inspectionId: string, status?: string) =>
    eventually(async () => {
      const r = await regulator.get(`/v1/cases${status ? `?status=${status}` : ''}`);
      return r.status === 200 && r.body.items.find((c: { inspection: { id: string } }) => c.inspection.id === inspectionId);
    }, 20_000);

  it('a failed pesticide-residue sample holds an agri batch and opens a case, a re-test clears it', async () => {
    const b = await agriBatch('INSP-1');

    // Only inspectors record results: the holder, a regulator or an admin may not.
    for (const who of [F.api, regulator, t.as('platform', 'admin')]) {
      const refused = await inspect(b.id, report(), who);
      expect([refused.status, refused.body.type]).toEqual([403, problem('role')]);
    }
    expect((await F.api.get(`/v1/agri/batches/${b.id}`)).body).toMatchObject({ status: 'active', chainLength: 1 });

    const batch = await agriBatch('INSP-2');

    // Strict validation: a contradiction is refused naming the rule; malformed bodies are 400.
    const contradiction = await inspect(batch.id, report({ conclusion: 'pass' }));
    expect([contradiction.status, contradiction.body.type]).toEqual([422, problem('inspection-conclusion')]);
    expect(contradiction.headers.get('content-type')).toContain('application/problem+json');
    const failWithoutFailingItem = await inspect(batch.id, report({ items: [lead] }));
    expect([failWithoutFailingItem.status, failWithoutFailingItem.body.type]).toEqual([422, problem('inspection-conclusion')]);
    expect((await inspect(batch.id, report({ items: [] }))).status).toBe(400);
    expect((await inspect(batch.id, report({ items: [{ ...lead, result: 'ok' }] }))).status).toBe(400);
    expect((await inspect(batch.id, report({ conclusion: 'maybe' }))).status).toBe(400);
    expect((await inspect(batch.id, report({ colour: 'red' }))).status).toBe(400);
    expect((await inspect(batch.id, report({ sampledAt: 'yesterday' }))).status).toBe(400);
    expect((await inspect(batch.id, report({ sampledAt: new Date(Date.now() + DAY).toISOString() }))).status).toBe(400);
    expect((await inspect(batch.id, report({ retestOf: 'not-a-uuid' }))).status).toBe(400);
    expect((await inspect('5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d', report())).status).toBe(404);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body).toMatchObject({ status: 'active', chainLength: 1 });

    // The fail: 201, the batch is held, the deadline is 15 days after sampling.
    const sampledAt = daysAgo(2);
    const failed = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-FAIL-1', sampledAt }));
    expect(failed.status).toBe(201);
    expect(failed.body).toMatchObject({ id: expect.any(String), conclusion: 'fail' });
    expect(failed.body.retestDeadline).toBe(new Date(Date.parse(sampledAt) + 15 * DAY).toISOString());
    const dup = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-FAIL-1' }));
    expect([dup.status, dup.body.type]).toEqual([409, problem('duplicate-report-no')]);

    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body).toMatchObject({ status: 'held', holderOrgId: F.id });
    const shipHeld = await ship(F.api, batch.id, F.locations.farm, S.id);
    expect([shipHeld.status, shipHeld.body.type]).toEqual([409, problem('batch-held')]);
    // The lineage read model follows the owning service's status, hold included.
    const traced = async () => (await regulator.get(`/v1/trace/agri/${batch.id}`)).body?.nodes?.[0]?.status;
    await eventually(async () => (await traced()) === 'held');

    // The regulator sees an open case (the recall service consumes the event asynchronously).
    const opened = await caseOf(failed.body.id, 'open');
    expect(opened).toMatchObject({
      status: 'open',
      openedAt: expect.any(String),
      batch: { domain: 'agri', batchId: batch.id, gtin: AGRI_GTIN, lot: 'INSP-2', holderOrgId: F.id },
      inspection: {
        reportNo: 'SJ-AGRI-FAIL-1',
        agency: 'Provincial Agricultural Product Quality Inspection Centre',
        failingItems: [{ name: 'chlorpyrifos residue', value: '0.12', unit: 'mg/kg', limit: '0.05' }],
      },
    });
    expect((await regulator.get(`/v1/cases/${opened.id}`)).body).toMatchObject({ id: opened.id, status: 'open' });
    expect((await regulator.get('/v1/cases/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d')).status).toBe(404);
    expect((await regulator.get('/v1/cases?status=closed')).status).toBe(400);
    for (const who of [F.api, inspector]) {
      expect((await who.get('/v1/cases')).status).toBe(403);
      expect((await who.get(`/v1/cases/${opened.id}`)).status).toBe(403);
    }

    // Who reads the inspections of a batch: inspectors, regulators, operators who can see it.
    for (const who of [inspector, regulator, F.api]) {
      const list = await who.get(`/v1/agri/batches/${batch.id}/inspections`);
      expect(list.status).toBe(200);
      expect(list.body).toEqual([
        expect.objectContaining({ id: failed.body.id, reportNo: 'SJ-AGRI-FAIL-1', conclusion: 'fail', cleared: false, inspectorOrgId: agencyId }),
      ]);
    }
    expect((await X.api.get(`/v1/agri/batches/${batch.id}/inspections`)).status).toBe(404);

    // A re-test must name a failed inspection of this batch.
    const unknown = await inspect(batch.id, report({ conclusion: 'pass', items: [residue('pass')], retestOf: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d' }));
    expect([unknown.status, unknown.body.type]).toEqual([422, problem('retest-of')]);
    const other = await agriBatch('INSP-3');
    const otherPass = await inspect(other.id, report({ conclusion: 'pass', items: [residue('pass')] }));
    expect(otherPass.body).toMatchObject({ conclusion: 'pass', retestDeadline: null });
    const notAFail = await inspect(batch.id, report({ conclusion: 'pass', items: [residue('pass')], retestOf: otherPass.body.id }));
    expect([notAFail.status, notAFail.body.type]).toEqual([422, problem('retest-of')]);

    // A failing re-test keeps the hold, within the same window.
    const stillBad = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-RETEST-1', sampledAt: daysAgo(1), retestOf: failed.body.id }));
    expect(stillBad.status).toBe(201);
    expect(stillBad.body.retestDeadline).toBe(failed.body.retestDeadline);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('held');

    // A passing re-test within the window clears the hold…
    const cleared = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-RETEST-2', sampledAt: daysAgo(0), conclusion: 'pass', items: [residue('pass'), lead], retestOf: stillBad.body.id }));
    expect(cleared.status).toBe(201);
    expect(cleared.body).toMatchObject({ conclusion: 'pass', retestDeadline: null });
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('active');
    await eventually(async () => (await traced()) === 'active');
    const again = await inspect(batch.id, report({ conclusion: 'pass', items: [residue('pass')], retestOf: failed.body.id }));
    expect([again.status, again.body.type]).toEqual([409, problem('retest-already-cleared')]);

    // …the batch ships again…
    expect((await ship(F.api, batch.id, F.locations.farm, S.id)).status).toBe(201);

    // …and the case is cleared.
    const done = await caseOf(failed.body.id, 'cleared');
    expect(done).toMatchObject({ id: opened.id, status: 'cleared', clearedBy: cleared.body.id, clearedAt: expect.any(String) });
    expect(done.retests.map((r: { reportNo: string; conclusion: string }) => [r.reportNo, r.conclusion])).toEqual([
      ['SJ-AGRI-RETEST-1', 'fail'],
      ['SJ-AGRI-RETEST-2', 'pass'],
    ]);
    const open = (await regulator.get('/v1/cases?status=open&limit=500')).body.items as { id: string }[];
    expect(open.map((c) => c.id)).not.toContain(opened.id);

    // Everything is on the chain, and the chain verifies.
    const chain = (await F.api.get(`/v1/agri/batches/${batch.id}/events`)).body as Record<string, unknown>[];
    expect(chain.map((e) => [e.bizStep, e.disposition])).toEqual([
      ['commissioning', 'active'],
      ['inspecting', 'non_conformant'],
      ['inspecting', 'non_conformant'],
      ['inspecting', 'conformant'],
      ['shipping', 'in_transit'],
    ]);
    expect(chain[1]).toMatchObject({ orgId: agencyId, inspectionId: failed.body.id, reportNo: 'SJ-AGRI-FAIL-1', conclusion: 'fail', batchStatus: 'held' });
    expect(chain[3]).toMatchObject({ inspectionId: cleared.body.id, retestOf: stillBad.body.id, batchStatus: 'active' });
    expect((await F.api.get(`/v1/agri/batches/${batch.id}/verify`)).body).toMatchObject({ valid: true, length: 5 });
    const rows = await t.query(`SELECT conclusion, retest_of FROM ${t.prefix}agri.inspections WHERE batch_id = $1 ORDER BY recorded_at`, [batch.id]);
    expect(rows.map((r) => r.conclusion)).toEqual(['fail', 'fail', 'pass']);
    const outbox = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.outbox WHERE topic = 'trace.inspection.v1' AND message_key = $1`, [batch.id]);
    expect(outbox[0].n).toBe(3);
  });

  it('refuses a re-test after the window has closed, and the batch stays held', async () => {
    const batch = await agriBatch('INSP-LATE');
    const failed = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-LATE', sampledAt: daysAgo(20) }));
    expect(failed.status).toBe(201);
    expect(Date.parse(failed.body.retestDeadline)).toBeLessThan(Date.now());
    await caseOf(failed.body.id, 'open');

    const late = await inspect(batch.id, report({ sampledAt: daysAgo(0), conclusion: 'pass', items: [residue('pass')], retestOf: failed.body.id }));
    expect([late.status, late.body.type]).toEqual([409, problem('retest-window-closed')]);
    expect(late.headers.get('content-type')).toContain('application/problem+json');
    expect(late.body.detail).toContain('closed');
    expect(late.body.retestDeadline).toBe(failed.body.retestDeadline);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('held');
    expect((await F.api.get(`/v1/agri/batches/${batch.id}/events`)).body).toHaveLength(2);
  });

  it('keeps a batch held while another failed result is unresolved', async () => {
    const batch = await agriBatch('INSP-TWO');
    const first = await inspect(batch.id, report());
    const second = await inspect(batch.id, report({ items: [{ ...lead, value: 0.5, result: 'fail' }] }));
    expect([first.status, second.status]).toEqual([201, 201]);
    const passFirst = await inspect(batch.id, report({ sampledAt: daysAgo(0), conclusion: 'pass', items: [residue('pass')], retestOf: first.body.id }));
    expect(passFirst.status).toBe(201);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('held');
    // A plain pass (no re-test) does not lift a hold either.
    expect((await inspect(batch.id, report({ conclusion: 'pass', items: [lead] }))).status).toBe(201);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('held');
    const passSecond = await inspect(batch.id, report({ sampledAt: daysAgo(0), conclusion: 'pass', items: [lead], retestOf: second.body.id }));
    expect(passSecond.status).toBe(201);
    expect((await F.api.get(`/v1/agri/batches/${batch.id}`)).body.status).toBe('active');
  });

  it('works for the food domain too, with its own configured window', async () => {
    const r = await P.api.post('/v1/food/batches', { ...aBatch('SAUCE-INSP', P.locations.factory), gtin: FOOD_GTIN, quantity: { value: 500, unit: 'jar' } });
    expect(r.status).toBe(201);
    const batch = r.body;
    const sampledAt = daysAgo(20); // past agri's 15 days, within food's 30
    const failed = await inspect(
      batch.id,
      report({ reportNo: 'SJ-FOOD-1', sampledAt, agency: 'Food Safety Lab', items: [{ name: 'Staphylococcus aureus', value: 'detected', unit: '', limit: 'not detected', result: 'fail' }] }),
      inspector,
      'food',
    );
    expect(failed.status).toBe(201);
    expect(failed.body.retestDeadline).toBe(new Date(Date.parse(sampledAt) + 30 * DAY).toISOString());
    expect((await P.api.get(`/v1/food/batches/${batch.id}`)).body.status).toBe('held');
    const shipHeld = await ship(P.api, batch.id, P.locations.factory, S.id, 'food');
    expect([shipHeld.status, shipHeld.body.type]).toEqual([409, problem('batch-held')]);
    // Report numbers are unique per domain: one used in agri is free in food.
    const sameNo = await inspect(batch.id, report({ reportNo: 'SJ-AGRI-FAIL-1', conclusion: 'pass', items: [lead] }), inspector, 'food');
    expect(sameNo.status).toBe(201);

    const opened = await caseOf(failed.body.id, 'open');
    expect(opened).toMatchObject({
      batch: { domain: 'food', batchId: batch.id, gtin: FOOD_GTIN, lot: 'SAUCE-INSP', holderOrgId: P.id },
      inspection: { reportNo: 'SJ-FOOD-1', agency: 'Food Safety Lab', failingItems: [{ name: 'Staphylococcus aureus', value: 'detected' }] },
    });

    const retest = await inspect(
      batch.id,
      report({ reportNo: 'SJ-FOOD-2', sampledAt: daysAgo(0), agency: 'Food Safety Lab', conclusion: 'pass', items: [{ name: 'Staphylococcus aureus', value: 'not detected', unit: '', limit: 'not detected', result: 'pass' }], retestOf: failed.body.id }),
      inspector,
      'food',
    );
    expect(retest.status).toBe(201);
    expect((await P.api.get(`/v1/food/batches/${batch.id}`)).body.status).toBe('active');
    await caseOf(failed.body.id, 'cleared');
    const chain = (await P.api.get(`/v1/food/batches/${batch.id}/events`)).body as { bizStep: string; disposition: string }[];
    expect(chain.filter((e) => e.bizStep === 'inspecting').map((e) => e.disposition)).toEqual(['non_conformant', 'conformant', 'conformant']);
    expect((await P.api.get(`/v1/food/batches/${batch.id}/verify`)).body.valid).toBe(true);
  });

  it('documents the endpoints in OpenAPI', async () => {
    const doc = (await t.anonymous.get('/docs-json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/agri/batches/{id}/inspections', '/v1/food/batches/{id}/inspections', '/v1/cases', '/v1/cases/{id}']),
    );
    expect(doc.paths['/v1/agri/batches/{id}/inspections'].post.responses['201']).toBeDefined();
  });
});
