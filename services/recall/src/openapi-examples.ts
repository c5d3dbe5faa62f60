/** Examples shown in /docs for recalls, cases, incidents, the calendar and webhooks (as `npm start` answered them). */
const ids = {
  farm: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
  shop: 'c92dfc37-18ec-4095-9f8c-d034e07d20fe',
  lab: '07d54a0a-9219-4443-9097-6aca740abfd8',
  regulator: '53d732ce-704b-404d-90c4-6d50c469e08a',
  batch: '8765cc77-b133-4213-9cf9-0d507dcd2340',
  location: '1fbf8517-d64a-41f8-90c7-c2e8d05875c3',
  recall: '2dc11fbb-b135-4258-bf57-86b4601afa4d',
  case: 'fb7db23e-bbee-41ba-ac32-a5e8e7e58dac',
  inspection: '3d9415ae-ca68-4b6a-baf2-1974091b41b6',
  incident: '57f115de-e945-4311-8530-655d8d004fbd',
  webhook: '0c4f2a57-6b7e-4f1e-9a51-3f0e2d8b9c41',
  delivery: '9d1e7c2b-4a3f-4e8d-b6a1-2c5f8e7d3b90',
};

const BATCH = { domain: 'agri', batchId: ids.batch, gtin: '06917965435904', lot: 'TOM-2026-12-06', holderOrgId: ids.shop };

export const CASE_EXAMPLE = {
  id: ids.case,
  kind: 'inspection_failed',
  status: 'open',
  openedAt: '2026-12-06T07:53:16.534Z',
  clearedAt: null,
  clearedBy: null,
  resolution: null,
  batch: BATCH,
  inspection: {
    id: ids.inspection,
    reportNo: 'SD-2026-0042',
    agency: 'Provincial QA Centre',
    sampledAt: '2026-12-06T07:53:16.000Z',
    inspectorOrgId: ids.lab,
    retestDeadline: '2026-12-21T07:53:16.000Z',
    failingItems: [{ name: 'chlorpyrifos', value: '0.05', unit: 'mg/kg', limit: '0.02' }],
    items: [{ name: 'chlorpyrifos', unit: 'mg/kg', limit: '0.02', value: '0.05', result: 'fail' }],
  },
  retests: [],
};

export const CASE_CLOSED_EXAMPLE = { ...CASE_EXAMPLE, status: 'dismissed', clearedAt: '2026-12-08T09:00:00.000Z', clearedBy: ids.regulator, resolution: 'dismissed' };

const DEADLINES = { startBy: '2026-12-07T07:53:17.862Z', completeBy: '2026-12-18T16:00:00.000Z' };

export const RECALL_SUMMARY_EXAMPLE = {
  id: ids.recall,
  status: 'active',
  level: 1,
  reason: '毒死蜱残留超标 Chlorpyrifos residue above the limit',
  hazard: null,
  caseId: null,
  regulatorOrgId: ids.regulator,
  createdAt: '2026-12-06T07:53:17.862Z',
  closedAt: null,
  deadlines: DEADLINES,
  batchCount: 1,
};

export const RECALL_EXAMPLE = {
  id: ids.recall,
  status: 'active',
  level: 1,
  reason: '毒死蜱残留超标 Chlorpyrifos residue above the limit',
  hazard: null,
  caseId: null,
  regulatorOrgId: ids.regulator,
  createdAt: '2026-12-06T07:53:17.862Z',
  closedAt: null,
  scope: {
    batches: [{ ...BATCH, quantity: { value: 1200, unit: 'kg' }, locationId: ids.location, root: true, addedAt: '2026-12-06T07:53:17.862Z' }],
    holdings: [
      { domain: 'agri', batchId: ids.batch, orgId: ids.farm, quantity: 700, inTransit: 0, unit: 'kg' },
      { domain: 'agri', batchId: ids.batch, orgId: ids.shop, quantity: 500, inTransit: 0, unit: 'kg' },
    ],
    organisations: [ids.farm, ids.shop],
  },
  deadlines: DEADLINES,
  acknowledgements: [],
  effectiveness: 0,
};

export const ACKNOWLEDGEMENT_EXAMPLE = {
  recallId: ids.recall,
  batchId: ids.batch,
  orgId: ids.shop,
  recovered: 450,
  destroyed: 0,
  sold: 50,
  acknowledgedAt: '2026-12-06T07:53:19.210Z',
  updatedAt: '2026-12-06T07:53:19.210Z',
};

export const INCIDENT_OPENED_EXAMPLE = { id: ids.incident, responsibleOrgId: ids.farm, reportDueBy: '2026-12-11T16:00:00.000Z', status: 'awaiting_report' };

export const INCIDENT_EXAMPLE = {
  id: ids.incident,
  status: 'awaiting_report',
  domain: 'agri',
  batchId: ids.batch,
  gtin: '06917965435904',
  lot: 'TOM-2026-12-06',
  productName: '樱桃番茄 Cherry tomatoes',
  severity: 'minor_injury',
  occurredAt: '2026-12-05T10:00:00+08:00',
  awareAt: '2026-12-05T12:00:00+08:00',
  description: 'Stomach ache after eating',
  reporterOrgId: ids.shop,
  responsibleOrgId: ids.farm,
  reportWorkingDays: 5,
  reportDueBy: '2026-12-11T16:00:00.000Z',
  overdueFlaggedAt: null,
  openedAt: '2026-12-06T07:53:23.144Z',
  report: null,
};

export const INCIDENT_REPORT_FILED_EXAMPLE = {
  id: ids.incident,
  status: 'reported',
  late: false,
  reportedAt: '2026-12-08T09:30:00.000Z',
  reportDueBy: '2026-12-11T16:00:00.000Z',
};

export const WEBHOOK_CREATED_EXAMPLE = {
  id: ids.webhook,
  url: 'https://erp.south-market.example/hooks/trace',
  events: ['recall.started', 'shipment.incoming'],
  secret: 'whsec_3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c1e',
  createdAt: '2026-12-06T08:00:00.000Z',
};

export const WEBHOOK_EXAMPLE = { id: ids.webhook, url: WEBHOOK_CREATED_EXAMPLE.url, events: WEBHOOK_CREATED_EXAMPLE.events, createdAt: WEBHOOK_CREATED_EXAMPLE.createdAt };

export const DELIVERY_EXAMPLE = {
  id: ids.delivery,
  type: 'recall.started',
  occurredAt: '2026-12-06T07:53:17.862Z',
  status: 'delivered',
  attempts: [{ at: '2026-12-06T07:53:18.101Z', statusCode: 200, error: null, durationMs: 84 }],
  attemptCount: 1,
  lastStatusCode: 200,
  lastError: null,
  nextAttemptAt: null,
  deliveredAt: '2026-12-06T07:53:18.185Z',
  createdAt: '2026-12-06T07:53:17.990Z',
  data: { recallId: ids.recall, level: 1, reason: '毒死蜱残留超标 Chlorpyrifos residue above the limit', batches: [{ domain: 'agri', batchId: ids.batch, gtin: '06917965435904', lot: 'TOM-2026-12-06' }] },
};

const HOLIDAY = { day: '2026-10-01', working: false, note: '国庆节 National Day' };
const MAKE_UP_DAY = { day: '2026-10-10', working: true, note: '调休上班 Make-up working day' };

/** A year of the working-day calendar (days shortened to the two that differ from Monday–Friday). */
export const CALENDAR_EXAMPLE = { year: 2026, workingDays: 249, holidays: [HOLIDAY], makeUpWorkingDays: [MAKE_UP_DAY], days: [HOLIDAY, MAKE_UP_DAY] };

export const CALENDAR_DAY_EXAMPLE = HOLIDAY;
