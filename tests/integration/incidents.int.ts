import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const GTIN = '09506000134352';
/** Exposed by the recall service for callers that run the overdue sweep themselves. */
const INCIDENT_SWEEP = 'recall.incidents.sweep';

/**
 * Mandatory incident reports (DOMAIN.md §8) through the public API of the
 * embedded app: the producer of the batch owes a report within working days
 * counted on the calendar kept as data; a sweep flags and publishes overdue
 * reports once.
 */
describe('incidents: mandatory reports due in working days', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg; // the producer
  let H: TestOrg; // a hospital that reports a case
  let X: TestOrg; // an unrelated operator
  let regulator: Api;
  let inspector: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Green Farm', 'producer', ['farm']);
    H = await anOrg(t, 'City Hospital', 'hospital', []);
    X = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'Inspection Centre', 'inspection_agency', [])).id, 'inspector');
    await aProduct(F.api, 'agri', GTIN, 'grain');
    for (const lot of ['INC-1', 'INC-2']) {
      const r = await F.api.post('/v1/agri/batches', aBatch(lot, F.locations.farm));
      if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const incident = (over: Record<string, unknown> = {}) => ({
    domain: 'agri',
    gtin: GTIN,
    lot: 'INC-1',
    severity: 'serious_injury',
    occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
    awareAt: new Date().toISOString(),
    description: 'Two patients admitted after eating rice of this lot',
    ...over,
  });
  const report = { summary: 'Mould in one storage silo', actions: 'Lot withdrawn; silo cleaned' };
  const sweep = () => (t.app.get(INCIDENT_SWEEP) as { sweepOverdue(): Promise<number> }).sweepOverdue();
  const outboxOf = (id: string) =>
    t.query<{ event_type: string }>(`SELECT event_type FROM ${t.prefix}recall.outbox WHERE message_key = $1 ORDER BY id`, [id]);
  const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((i) => i.id);

  it('a hospital opens an incident: the producer is responsible, due at 24:00 Shanghai two working days later; an on-time report', async () => {
    const opened = await H.api.post('/v1/incidents', incident());
    expect(opened.status).toBe(201);
    expect(opened.body).toEqual({ id: expect.any(String), responsibleOrgId: F.id, reportDueBy: expect.any(String), status: 'awaiting_report' });
    const due = new Date(opened.body.reportDueBy);
    expect(due.getUTCHours()).toBe(16); // 24:00 Asia/Shanghai
    expect(due.getTime()).toBeGreaterThan(Date.now() + 24 * 3_600_000);
    expect((await outboxOf(opened.body.id)).map((r) => r.event_type)).toEqual(['trace.v1.IncidentOpened']);

    const id = opened.body.id;
    expect(ids(await regulator.get('/v1/incidents?status=awaiting_report&limit=500'))).toContain(id);
    expect((await F.api.get(`/v1/incidents/${id}`)).body).toMatchObject({ id, status: 'awaiting_report', responsibleOrgId: F.id, reporterOrgId: H.id });
    expect((await H.api.get(`/v1/incidents/${id}`)).status).toBe(200);
    expect((await X.api.get(`/v1/incidents/${id}`)).status).toBe(404);

    // Only the responsible organisation reports: the reporter gets 403, anyone else 404, a regulator 403 (role).
    const byReporter = await H.api.post(`/v1/incidents/${id}/reports`, report);
    expect([byReporter.status, byReporter.body.type]).toEqual([403, problem('incident-not-responsible')]);
    expect((await X.api.post(`/v1/incidents/${id}/reports`, report)).status).toBe(404);
    expect((await regulator.post(`/v1/incidents/${id}/reports`, report)).status).toBe(403);
    expect((await F.api.post(`/v1/incidents/${id}/reports`, { summary: 'x' })).status).toBe(400);

    const filed = await F.api.post(`/v1/incidents/${id}/reports`, report);
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({ id, status: 'reported', late: false });
    const again = await F.api.post(`/v1/incidents/${id}/reports`, report);
    expect([again.status, again.body.type]).toEqual([409, problem('incident-already-reported')]);
    expect((await regulator.get(`/v1/incidents/${id}`)).body).toMatchObject({ status: 'reported', report: { summary: report.summary, late: false } });
    expect(ids(await regulator.get('/v1/incidents?status=reported&limit=500'))).toContain(id);
    expect((await outboxOf(id)).map((r) => r.event_type)).toEqual(['trace.v1.IncidentOpened', 'trace.v1.IncidentReported']);
  });

  it('a late report: counted over the National Day week, listed overdue, flagged once by the sweep, then reported_late', async () => {
    // Aware on Wednesday 30 September 2026: 1–7 October are holidays, so the two working days are 8 and 9 October.
    const opened = await regulator.post('/v1/incidents', incident({
      lot: 'INC-2', severity: 'death', occurredAt: '2026-09-29T20:00:00+08:00', awareAt: '2026-09-30T10:00:00+08:00',
    }));
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ responsibleOrgId: F.id, reportDueBy: '2026-10-09T16:00:00.000Z', status: 'awaiting_report' });
    const id = opened.body.id;

    expect(ids(await regulator.get('/v1/incidents?status=overdue&limit=500'))).toContain(id);
    expect(ids(await regulator.get('/v1/incidents?status=awaiting_report&limit=500'))).not.toContain(id);

    // Two sweepers at once and another one after: exactly one incidentOverdue.
    await Promise.all([sweep(), sweep()]);
    await sweep();
    const overdue = (await outboxOf(id)).filter((r) => r.event_type === 'trace.v1.IncidentOverdue');
    expect(overdue).toHaveLength(1);
    expect((await regulator.get(`/v1/incidents/${id}`)).body).toMatchObject({ status: 'overdue', overdueFlaggedAt: expect.any(String) });
    expect(ids(await regulator.get('/v1/incidents?status=overdue&limit=500'))).toContain(id);

    const filed = await F.api.post(`/v1/incidents/${id}/reports`, report);
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({ status: 'reported_late', late: true });
    expect(ids(await regulator.get('/v1/incidents?status=reported_late&limit=500'))).toContain(id);
    expect(ids(await regulator.get('/v1/incidents?status=overdue&limit=500'))).not.toContain(id);
    await sweep();
    expect((await outboxOf(id)).map((r) => r.event_type)).toEqual([
      'trace.v1.IncidentOpened',
      'trace.v1.IncidentOverdue',
      'trace.v1.IncidentReported',
    ]);
  });

  it('the calendar is data: a regulator or admin upserts a day, and later due dates follow it', async () => {
    const body = { occurredAt: '2026-09-29T20:00:00+08:00', awareAt: '2026-09-30T10:00:00+08:00', severity: 'death' };
    expect((await F.api.request('PUT', '/v1/calendar/2026-10-09', { working: false })).status).toBe(403);
    expect((await regulator.request('PUT', '/v1/calendar/2026-02-30', { working: false })).status).toBe(400);
    expect((await regulator.request('PUT', '/v1/calendar/2026-10-09', { working: 'no' })).status).toBe(400);
    const put = await regulator.request('PUT', '/v1/calendar/2026-10-09', { working: false, note: 'Extra day off (test)' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ day: '2026-10-09', working: false, note: 'Extra day off (test)' });
    // 9 October off: the second working day is now Saturday 10 October, an adjusted working day (调休).
    const later = await H.api.post('/v1/incidents', incident(body));
    expect(later.body.reportDueBy).toBe('2026-10-10T16:00:00.000Z');
    const admin = await t.as('platform', 'admin').request('PUT', '/v1/calendar/2026-10-10', { working: false });
    expect(admin.status).toBe(200);
    expect((await H.api.post('/v1/incidents', incident(body))).body.reportDueBy).toBe('2026-10-12T16:00:00.000Z');
  });

  it('the calendar is readable by year, and a year loads in one call as published (holidays, make-up working days)', async () => {
    const y2026 = await F.api.get('/v1/calendar?year=2026');
    expect(y2026.status).toBe(200);
    expect(y2026.body.days).toHaveLength(365);
    expect(y2026.body.holidays).toEqual(expect.arrayContaining([{ day: '2026-10-01', working: false, note: expect.stringContaining('National Day') }]));
    expect(y2026.body.makeUpWorkingDays).toEqual(expect.arrayContaining([{ day: '2026-09-20', working: true, note: expect.stringContaining('调休') }]));
    const empty = (await F.api.get('/v1/calendar?year=2028')).body;
    expect([empty.days.length, empty.workingDays, empty.holidays, empty.makeUpWorkingDays]).toEqual([366, 260, [], []]);
    for (const bad of ['', '?year=28', '?year=abc', '?year=1999']) {
      expect((await F.api.get(`/v1/calendar${bad}`)).status).toBe(400);
    }

    const year = {
      holidays: ['2028-10-02', '2028-10-03', '2028-10-04', '2028-10-05', '2028-10-06'].map((day) => ({ day, note: '国庆节 National Day' })),
      workingDays: [{ day: '2028-10-07' }],
    };
    expect((await F.api.request('PUT', '/v1/calendar/years/2028', year)).status).toBe(403);
    const loaded = await regulator.request('PUT', '/v1/calendar/years/2028', year);
    expect(loaded.status).toBe(200);
    expect(loaded.body.holidays.map((d: { day: string }) => d.day)).toEqual(year.holidays.map((h) => h.day));
    expect(loaded.body.makeUpWorkingDays).toEqual([{ day: '2028-10-07', working: true, note: 'make-up working day' }]);
    expect(loaded.body.workingDays).toBe(260 - 5 + 1);
    expect((await F.api.get('/v1/calendar?year=2028')).body).toEqual(loaded.body);
    // Loading again replaces the year: what the first load said is gone.
    const again = await t.as('platform', 'admin').request('PUT', '/v1/calendar/years/2028', { holidays: [{ day: '2028-05-01' }], workingDays: [] });
    expect(again.body.holidays).toEqual([{ day: '2028-05-01', working: false, note: 'public holiday' }]);
    expect([again.body.makeUpWorkingDays, again.body.workingDays]).toEqual([[], 259]);

    const outside = await regulator.request('PUT', '/v1/calendar/years/2028', { holidays: [{ day: '2029-01-01' }], workingDays: [{ day: '2028-02-30' }] });
    expect([outside.status, outside.body.errors]).toEqual([
      400,
      [
        { field: 'holidays.0.day', message: '2029-01-01 is not in 2028' },
        { field: 'workingDays.0.day', message: 'must be a date YYYY-MM-DD' },
      ],
    ]);
    const twice = await regulator.request('PUT', '/v1/calendar/years/2028', { holidays: [{ day: '2028-05-01' }], workingDays: [{ day: '2028-05-01' }] });
    expect(twice.status).toBe(400);
    expect((await regulator.request('PUT', '/v1/calendar/years/2028', { holidays: [] })).status).toBe(400);
    expect((await F.api.get('/v1/calendar?year=2028')).body.holidays).toEqual(again.body.holidays); // a refused load changes nothing
  });

  it('refuses: inspectors, unknown batches, bad GTINs, a missing lot, malformed bodies', async () => {
    const asInspector = await inspector.post('/v1/incidents', incident());
    expect([asInspector.status, asInspector.body.type]).toEqual([403, problem('role')]);
    const unknownLot = await H.api.post('/v1/incidents', incident({ lot: 'NO-SUCH-LOT' }));
    expect([unknownLot.status, unknownLot.body.type]).toEqual([422, problem('incident-unknown-batch')]);
    const unknownProduct = await H.api.post('/v1/incidents', incident({ gtin: '04012345000016' }));
    expect([unknownProduct.status, unknownProduct.body.type]).toEqual([422, problem('incident-unknown-batch')]);
    const badGtin = await H.api.post('/v1/incidents', incident({ gtin: '09506000134353' }));
    expect([badGtin.status, badGtin.body.type]).toEqual([400, problem('gtin')]);
    const { lot: _lot, ...withoutLot } = incident();
    const noLot = await H.api.post('/v1/incidents', withoutLot);
    expect([noLot.status, noLot.body.type]).toEqual([422, problem('incident-lot-required')]);
    expect((await H.api.post('/v1/incidents', incident({ severity: 'fatal' }))).status).toBe(400);
    expect((await H.api.post('/v1/incidents', incident({ awareAt: 'yesterday' }))).status).toBe(400);
    expect((await H.api.post('/v1/incidents', incident({ awareAt: new Date(Date.now() + 86_400_000).toISOString() }))).status).toBe(400);
    expect((await H.api.post('/v1/incidents', incident({ occurredAt: new Date(Date.now() + 60_000).toISOString(), awareAt: new Date().toISOString() }))).status).toBe(400);
    expect((await H.api.post('/v1/incidents', incident({ colour: 'red' }))).status).toBe(400);
    // An operator lists its own incidents (tests/integration/lists.int.ts); an inspector has none to list.
    expect((await inspector.get('/v1/incidents')).status).toBe(403);
    expect((await regulator.get('/v1/incidents?severity=death')).status).toBe(400);
    expect((await regulator.get('/v1/incidents?status=late&limit=500')).status).toBe(400);
    expect((await regulator.get('/v1/incidents/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d')).status).toBe(404);
    expect((await F.api.post('/v1/incidents/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d/reports', report)).status).toBe(404);
  });
});
