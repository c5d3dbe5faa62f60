import { generateDrugTraceCode } from '@trace/gs1';
import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const now = () => new Date().toISOString();
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const statusAndType = (r: { status: number; body: any }) => [r.status, r.body?.type];

const GRAIN = '04012345000016';
const TABLET = '00614141000012';
const certificate = {
  commitments: ['no_banned_substances', 'residues_within_limits'],
  basis: 'self_test',
  contact: '+86 138 0013 8000',
  origin: 'Shouguang, Shandong',
};

/**
 * A batch held in parts (API.md "Quantities and custody"): the domains' own
 * writes — a drug batch's unit codes, an agri lot's certificate — are
 * authorised by holdings, not by the one organisation that received last. An
 * organisation holding part of a batch may do what a holder may; one that
 * holds none of it any more may not.
 */
describe('domain writes authorised by holdings', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg, mill: TestOrg;
  let maker: TestOrg, distributor: TestOrg, pharmacy: TestOrg;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Part Farm', 'producer', ['farm']);
    mill = await anOrg(t, 'Part Mill', 'processor', ['factory']);
    maker = await anOrg(t, 'Part Pharma', 'processor', ['factory']);
    distributor = await anOrg(t, 'Part Logistics', 'distributor', ['warehouse']);
    pharmacy = await anOrg(t, 'Part Pharmacy', 'pharmacy', ['pharmacy']);
    await aProduct(farm.api, 'agri', GRAIN, 'grain');
    const drug = await maker.api.post('/v1/drug/products', { gtin: TABLET, name: 'Tablets', category: 'tablet', attributes: { drugProductCode: '8123456' } });
    expect(drug.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const register = async (org: TestOrg, domain: string, gtin: string, lot: string, extra: Record<string, unknown> = {}) => {
    const r = await org.api.post(`/v1/${domain}/batches`, { ...aBatch(lot, Object.values(org.locations)[0]), gtin, ...extra });
    if (r.status !== 201) throw new Error(`${domain} ${lot}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { id: string };
  };
  const event = async (org: TestOrg, domain: string, id: string, body: Record<string, unknown>) => {
    const r = await org.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: Object.values(org.locations)[0], ...body });
    expect([body.bizStep, r.status, r.body?.detail]).toEqual([body.bizStep, 201, undefined]);
  };
  /** `from` ships `value` (all it holds when absent) to `to`, which receives it. */
  const hand = async (from: TestOrg, to: TestOrg, domain: string, id: string, unit: string, value?: number) => {
    await event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id, ...(value === undefined ? {} : { quantity: { value, unit } }) });
    await event(to, domain, id, { bizStep: 'receiving' });
  };
  const cn = (serial: string) => generateDrugTraceCode('8123456', serial);
  const codes = (org: TestOrg, id: string, serial: string) => org.api.post(`/v1/drug/batches/${id}/codes`, { codes: [cn(serial)] });

  it('drug unit codes: every organisation holding part of the batch registers them, a former holder cannot', async () => {
    const b = await register(maker, 'drug', TABLET, 'PART-TAB-1', { quantity: { value: 100, unit: 'box' }, expiresAt: '2030-01-01T00:00:00+08:00' });
    await hand(maker, distributor, 'drug', b.id, 'box', 40);
    // The maker still holds 60 boxes, the distributor 40: both are holders.
    expect((await codes(maker, b.id, '000000201')).status).toBe(201);
    expect((await codes(distributor, b.id, '000000202')).status).toBe(201);
    // The distributor passes all of its part on: it holds none of the batch any more.
    await hand(distributor, pharmacy, 'drug', b.id, 'box');
    expect(statusAndType(await codes(distributor, b.id, '000000203'))).toEqual([403, problem('not-the-holder')]);
    expect((await codes(pharmacy, b.id, '000000204')).status).toBe(201);
    expect((await codes(maker, b.id, '000000205')).status).toBe(201);
  }, 60_000);

  it('agri certificate: issued by an organisation holding part of the lot, not by a former holder', async () => {
    const kept = await register(farm, 'agri', GRAIN, 'PART-GRAIN-1', { quantity: { value: 1000, unit: 'kg' } });
    await hand(farm, mill, 'agri', kept.id, 'kg', 300);
    // The mill received last, but the farm still holds 700 kg of the lot.
    expect((await farm.api.post(`/v1/agri/batches/${kept.id}/certificate`, certificate)).status).toBe(201);

    const part = await register(farm, 'agri', GRAIN, 'PART-GRAIN-2', { quantity: { value: 1000, unit: 'kg' } });
    await hand(farm, mill, 'agri', part.id, 'kg', 300);
    // A second holder of part of the lot is a holder too.
    expect((await mill.api.post(`/v1/agri/batches/${part.id}/certificate`, certificate)).status).toBe(201);

    const gone = await register(farm, 'agri', GRAIN, 'PART-GRAIN-3', { quantity: { value: 1000, unit: 'kg' } });
    await event(farm, 'agri', gone.id, { bizStep: 'shipping', toOrgId: mill.id });
    // All of it on its way to the mill: shipped already.
    expect(statusAndType(await farm.api.post(`/v1/agri/batches/${gone.id}/certificate`, certificate))).toEqual([409, problem('in-transit')]);
    await event(mill, 'agri', gone.id, { bizStep: 'receiving' });
    // Received: the farm is a former holder.
    expect(statusAndType(await farm.api.post(`/v1/agri/batches/${gone.id}/certificate`, certificate))).toEqual([403, problem('not-the-holder')]);
  }, 60_000);
});
