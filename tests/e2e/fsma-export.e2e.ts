import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { csvRecords, fetchExport, xlsxRecords, XLSX_TYPE } from '../support/fsma';

const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';

/**
 * The FSMA 204 export in distributed mode: agri, food and lineage each their
 * own process, Kafka between them, the gateway in front. The lineage
 * service's read model is fed over Kafka, it names locations and
 * organisations by asking the gateway (IDENTITY_URL), and the gateway routes
 * /v1/exports to it.
 */
describe('FSMA 204 export over Kafka (agri, food, lineage and gateway processes)', () => {
  let d: DistributedDeployment | undefined;

  afterAll(async () => {
    await d?.stop();
  });

  it('farm → processor → retailer: one row per CTE, receiving KDEs complete, CSV and XLSX agree', async () => {
    d = await startDistributed(['agri', 'food', 'lineage'], 'e2efsma');
    const dep = d;
    const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
      if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as T;
    };
    const admin = dep.as('platform', 'admin');
    const org = async (name: string, kind: string, locationKind?: string): Promise<{ id: string; api: Api; loc: string }> => {
      const id = ok<{ id: string }>(await admin.post('/v1/orgs', { name, kind })).id;
      const api = dep.as(id, 'operator');
      const loc = locationKind ? ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id : '';
      return { id, api, loc };
    };
    const F = await org('Grain Farm', 'producer', 'farm');
    const P = await org('Noodle Works', 'processor', 'factory');
    const R = await org('Shop A', 'retailer', 'store');
    const regulator = dep.as((await org('Market Supervision Bureau', 'regulator')).id, 'regulator');
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P.api, 'food', FOOD_GTIN, 'noodles');

    const event = async (o: { api: Api; loc: string }, domain: string, id: string, body: Record<string, unknown>) =>
      ok(await o.api.post(`/v1/${domain}/batches/${id}/events`, { locationId: o.loc, ...body }));
    const wheat = ok<{ id: string }>(await F.api.post('/v1/agri/batches', { ...aBatch('WHEAT-E2E-FSMA', F.loc), producedAt: '2026-11-01T06:00:00Z' }));
    const kg = { value: 1200, unit: 'kg' };
    await event(F, 'agri', wheat.id, { bizStep: 'shipping', eventTime: '2026-11-02T08:00:00Z', toOrgId: P.id, quantity: kg, documents: [{ type: 'BOL', id: 'B-1' }] });
    await event(P, 'agri', wheat.id, { bizStep: 'receiving', eventTime: '2026-11-02T15:00:00Z', quantity: kg, documents: [{ type: 'PO', id: 'P-1' }] });
    const noodles = ok<{ id: string }>(
      await P.api.post('/v1/food/batches', {
        ...aBatch('NOODLE-E2E-FSMA', P.loc),
        gtin: FOOD_GTIN,
        producedAt: '2026-11-03T09:00:00Z',
        quantity: { value: 200, unit: 'pack' },
        inputs: [{ domain: 'agri', batchId: wheat.id, quantity: { value: 400, unit: 'kg' } }],
      }),
    );
    const packs = { value: 200, unit: 'pack' };
    await event(P, 'food', noodles.id, { bizStep: 'shipping', eventTime: '2026-11-04T07:00:00Z', toOrgId: R.id, quantity: packs, documents: [{ type: 'ASN', id: 'A-1' }] });
    await event(R, 'food', noodles.id, { bizStep: 'receiving', eventTime: '2026-11-04T18:00:00Z', quantity: packs, documents: [{ type: 'PO', id: 'P-2' }] });

    const query = { gtin: AGRI_GTIN, lot: 'WHEAT-E2E-FSMA' };
    const rows = await eventually(async () => {
      const r = await fetchExport(regulator, query, 'text/csv');
      const records = r.status === 200 ? csvRecords(r.text) : [];
      return records.length === 6 && records;
    }, 60_000);
    expect(rows.map((r) => r['Critical Tracking Event (CTE)'])).toEqual(['Harvesting', 'Shipping', 'Receiving', 'Transformation', 'Shipping', 'Receiving']);
    const receivings = rows.filter((r) => r['Critical Tracking Event (CTE)'] === 'Receiving');
    expect(receivings.map((r) => r['Missing KDEs'])).toEqual(['none', 'none']);
    expect(receivings[1]).toMatchObject({
      'Traceability Lot Code (TLC)': 'NOODLE-E2E-FSMA',
      Quantity: '200',
      'Unit of Measure': 'pack',
      'Product Description': `Product ${FOOD_GTIN}`,
      'Location Description of Immediate Previous Source': 'Noodle Works — Noodle Works factory',
      'Location Description': 'Shop A — Shop A store',
      'Traceability Lot Code Source (Location Description)': 'Noodle Works — Noodle Works factory',
      'Reference Document Type': 'PO',
      'Reference Document Number': 'P-2',
    });
    const xlsx = await fetchExport(regulator, { ...query, format: 'xlsx' });
    expect(xlsx.headers.get('content-type')).toBe(XLSX_TYPE);
    expect(await xlsxRecords(xlsx.bytes)).toEqual(rows);
    // Organisation scope holds through the gateway too: the retailer never held the wheat.
    expect((await fetchExport(R.api, query)).status).toBe(404);
  });
});
