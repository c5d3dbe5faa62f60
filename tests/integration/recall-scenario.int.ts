import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { recallScenario } from '../support/recall-scenario';
import { anOrg, type TestOrg } from '../support/world';

const GOODS_GTIN = '06950000000019';
const INCIDENT_SWEEP = 'recall.incidents.sweep';

/** "Done means" scenario A (tests/support/recall-scenario.ts), embedded: every service in this process. */
describe('recall scenario: failed sample → case → level-1 recall across two processors and three retailers → close', () => {
  let t: EmbeddedTestApp;
  const scenario = recallScenario(() => ({ url: t.url, as: (orgId, role) => t.as(orgId, role), eventuallyMs: 20_000 }), 'SCN');

  beforeAll(async () => {
    t = await startEmbeddedApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('builds the supply chain: one agri lot, two processors, four food batches, three retailers', () => scenario.buildSupplyChain());
  it('a failed inspection of the agri lot holds it and opens a case', () => scenario.failInspection());
  it('the regulator turns the case into a level-1 recall whose scope holds all five batches', () => scenario.recallFromCase());
  it('all five batches read recalled in their own services; a retailer cannot ship; the scan shows the recall', () => scenario.allRecalled());
  it('each holder acknowledges; effectiveness reaches 1.0; the regulator closes the recall', () => scenario.acknowledgeAndClose());
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
    expect(overdue.body.items.map((i: { id: string }) => i.id)).toContain(id);

    const sweep = () => (t.app.get(INCIDENT_SWEEP) as { sweepOverdue(): Promise<number> }).sweepOverdue();
    await sweep();
    await sweep();
    const events = await t.query<{ event_type: string }>(`SELECT event_type FROM ${t.prefix}recall.outbox WHERE message_key = $1 ORDER BY id`, [id]);
    expect(events.filter((e) => e.event_type === 'trace.v1.IncidentOverdue')).toHaveLength(1);
    expect((await regulator.get(`/v1/incidents/${id}`)).body).toMatchObject({ status: 'overdue', overdueFlaggedAt: expect.any(String) });
  });
});
