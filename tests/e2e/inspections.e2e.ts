import { eventually } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct, Api } from '../support/api';

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;

/**
 * Supervision sampling in distributed mode: the agri service records the
 * result on the chain and in its outbox, the recall service (its own process)
 * opens and clears the case from the event it receives over Kafka, the
 * gateway routes both.
 */
describe('inspections over Kafka (agri, recall and gateway processes)', () => {
  let d: DistributedDeployment | undefined;

  afterAll(async () => {
    await d?.stop();
  });

  it('a failed sample holds the batch and opens a case in the recall service; a re-test clears both', async () => {
    d = await startDistributed(['agri', 'recall'], 'e2ei');
    const { gateway, secret } = d;

    const base = new Api(gateway.url);
    const admin = base.as(secret, 'platform', 'admin');
    const org = async (name: string, kind: string) => {
      const r = await admin.post('/v1/orgs', { name, kind });
      if (r.status !== 201) throw new Error(`org: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    };
    const farmOrg = await org('Green Farm', 'producer');
    const shopOrg = await org('Corner Shop', 'retailer');
    const agencyOrg = await org('Provincial Inspection Centre', 'inspection_agency');
    const authorityOrg = await org('Market Supervision Bureau', 'regulator');
    const farm = base.as(secret, farmOrg, 'operator');
    const inspector = base.as(secret, agencyOrg, 'inspector');
    const regulator = base.as(secret, authorityOrg, 'regulator');

    const field = (await farm.post('/v1/locations', { name: 'North field', kind: 'farm' })).body;
    await aProduct(farm, 'agri', '09506000134352', 'grain');
    const created = await farm.post('/v1/agri/batches', aBatch('E2E-INSP-1', field.id));
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const report = (over: Record<string, unknown>) => ({
      sampledAt: daysAgo(3),
      agency: 'Provincial Agricultural Product Quality Inspection Centre',
      items: [{ name: 'chlorpyrifos residue', value: 0.12, unit: 'mg/kg', limit: 0.05, result: 'fail' }],
      conclusion: 'fail',
      ...over,
    });
    const passing = [{ name: 'chlorpyrifos residue', value: 0.01, unit: 'mg/kg', limit: 0.05, result: 'pass' }];
    const ship = () =>
      farm.post(`/v1/agri/batches/${id}/events`, { bizStep: 'shipping', eventTime: new Date().toISOString(), locationId: field.id, toOrgId: shopOrg });

    // Roles, through the gateway.
    const byFarm = await farm.post(`/v1/agri/batches/${id}/inspections`, report({ reportNo: 'E2E-SJ-0' }));
    expect([byFarm.status, byFarm.body.type]).toEqual([403, problem('role')]);
    expect((await farm.get('/v1/cases')).status).toBe(403);

    // The fail holds the batch.
    const failed = await inspector.post(`/v1/agri/batches/${id}/inspections`, report({ reportNo: 'E2E-SJ-1' }));
    expect(failed.status).toBe(201);
    expect(failed.body).toMatchObject({ conclusion: 'fail', retestDeadline: expect.any(String) });
    expect((await farm.get(`/v1/agri/batches/${id}`)).body.status).toBe('held');
    const held = await ship();
    expect([held.status, held.body.type]).toEqual([409, problem('batch-held')]);

    // The recall service opens a case from the event it consumed over Kafka.
    const opened = await eventually(async () => {
      const r = await regulator.get('/v1/cases?status=open');
      return r.status === 200 && r.body.items.find((c: { inspection: { id: string } }) => c.inspection.id === failed.body.id);
    }, 60_000);
    expect(opened).toMatchObject({
      status: 'open',
      batch: { domain: 'agri', batchId: id, gtin: '09506000134352', lot: 'E2E-INSP-1', holderOrgId: farmOrg },
      inspection: { reportNo: 'E2E-SJ-1', failingItems: [{ name: 'chlorpyrifos residue' }] },
    });

    // A passing re-test within the window clears the hold and the case.
    const retest = await inspector.post(
      `/v1/agri/batches/${id}/inspections`,
      report({ reportNo: 'E2E-SJ-2', sampledAt: daysAgo(0), items: passing, conclusion: 'pass', retestOf: failed.body.id }),
    );
    expect(retest.status).toBe(201);
    expect((await farm.get(`/v1/agri/batches/${id}`)).body.status).toBe('active');
    const cleared = await eventually(async () => {
      const r = await regulator.get(`/v1/cases/${opened.id}`);
      return r.status === 200 && r.body.status === 'cleared' && r.body;
    }, 60_000);
    expect(cleared).toMatchObject({ clearedBy: retest.body.id });
    expect((await ship()).status).toBe(201);

    // A re-test after the window is refused: the batch stays held.
    const late = await farm.post('/v1/agri/batches', aBatch('E2E-INSP-2', field.id));
    const oldFail = await inspector.post(`/v1/agri/batches/${late.body.id}/inspections`, report({ reportNo: 'E2E-SJ-3', sampledAt: daysAgo(16) }));
    expect(oldFail.status).toBe(201);
    const tooLate = await inspector.post(
      `/v1/agri/batches/${late.body.id}/inspections`,
      report({ reportNo: 'E2E-SJ-4', sampledAt: daysAgo(0), items: passing, conclusion: 'pass', retestOf: oldFail.body.id }),
    );
    expect([tooLate.status, tooLate.body.type]).toEqual([409, problem('retest-window-closed')]);
    expect(tooLate.headers.get('content-type')).toContain('application/problem+json');
    expect((await farm.get(`/v1/agri/batches/${late.body.id}`)).body.status).toBe('held');

    // The chain holds the inspecting events and verifies.
    const chain = (await farm.get(`/v1/agri/batches/${id}/events`)).body as { bizStep: string; disposition: string }[];
    expect(chain.map((e) => [e.bizStep, e.disposition])).toEqual([
      ['commissioning', 'active'],
      ['inspecting', 'non_conformant'],
      ['inspecting', 'conformant'],
      ['shipping', 'in_transit'],
    ]);
    expect((await inspector.get(`/v1/agri/batches/${id}/verify`)).body).toMatchObject({ valid: true, length: 4 });
  });
});
