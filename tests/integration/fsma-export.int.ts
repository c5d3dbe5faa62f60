import { eventually } from '@trace/testing';
import { aBatch, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { csvRecords, fetchExport, xlsxRecords, XLSX_TYPE } from '../support/fsma';
import { anOrg, type TestOrg } from '../support/world';

const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;

// Column headers of the sheet (services/lineage/src/exports/fsma-sheet.ts).
const CTE = 'Critical Tracking Event (CTE)';
const DATE = 'Event Date';
const TLC = 'Traceability Lot Code (TLC)';
const PRODUCT = 'Product Description';
const QTY = 'Quantity';
const UNIT = 'Unit of Measure';
const LOCATION = 'Location Description';
const PREVIOUS = 'Location Description of Immediate Previous Source';
const RECIPIENT = 'Location Description of Immediate Subsequent Recipient';
const TLC_SOURCE = 'Traceability Lot Code Source (Location Description)';
const INPUTS = 'Input Traceability Lot Codes (with Quantity and Product Description)';
const DOC_TYPE = 'Reference Document Type';
const DOC_NO = 'Reference Document Number';
const MISSING_KDES = 'Missing KDEs';

/**
 * FSMA 204 sortable spreadsheet, embedded app, real PostgreSQL: a farm →
 * processor → retailer journey. The farm harvests a wheat lot and ships it to
 * the processor, who receives it and makes a noodle batch of it, ships that to
 * the retailer, who receives it (without a reference document).
 *
 * Names carry commas, quotes, line breaks and a leading "=" / "@" on purpose:
 * the CSV must quote them and neutralise formula-looking cells.
 */
describe('FSMA 204 export: GET /v1/exports/fsma204', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg;
  let P: TestOrg;
  let R: TestOrg;
  let X: TestOrg;
  let regulator: Api;
  let inspector: Api;
  let farmLoc: string;
  let farmDesc: string;
  let plantDesc: string;
  let storeDesc: string;
  let wheat: { id: string };
  let noodles: { id: string };

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const event = (org: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
    org.api.post(`/v1/${domain}/batches/${id}/events`, body).then((r) => ok(r));

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Green Valley Farm, "Shouguang" Co.', 'producer', []);
    P = await anOrg(t, 'Noodle Works', 'processor', ['factory']);
    R = await anOrg(t, '=Retail Corner', 'retailer', ['store']);
    X = await anOrg(t, 'Another Shop', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'Inspection Centre', 'inspection_agency', [])).id, 'inspector');
    farmLoc = ok<{ id: string }>(
      await F.api.post('/v1/locations', {
        name: 'North field\nplot 7',
        kind: 'farm',
        address: '1 Farm Road, Shouguang',
        region: 'CN-37',
        gln: '9506000134352',
      }),
    ).id;
    farmDesc = 'Green Valley Farm, "Shouguang" Co. — North field\nplot 7, 1 Farm Road, Shouguang, CN-37, GLN 9506000134352';
    plantDesc = 'Noodle Works — Noodle Works factory';
    // Starts with "=": neutralised with an apostrophe wherever it begins a cell.
    storeDesc = '=Retail Corner — =Retail Corner store';

    ok(await F.api.post('/v1/agri/products', { gtin: AGRI_GTIN, name: 'Winter wheat, hard red', category: 'grain' }));
    ok(await P.api.post('/v1/food/products', { gtin: FOOD_GTIN, name: '@Egg noodles', category: 'noodles' }));

    // Farm: harvest, ship (bill of lading).
    wheat = ok(
      await F.api.post('/v1/agri/batches', {
        ...aBatch('WHEAT-FSMA', farmLoc),
        producedAt: '2026-11-01T06:00:00Z',
        documents: [{ type: 'Harvest log', id: 'HL-1101' }],
      }),
    );
    await event(F, 'agri', wheat.id, {
      bizStep: 'shipping', eventTime: '2026-11-02T08:00:00Z', locationId: farmLoc, toOrgId: P.id, toLocationId: P.locations.factory,
      quantity: { value: 1200, unit: 'kg' }, documents: [{ type: 'BOL', id: 'BOL-778' }],
    });
    // Processor: receive (purchase order), transform into noodles (no batch record named), ship (advance shipping notice).
    await event(P, 'agri', wheat.id, {
      bizStep: 'receiving', eventTime: '2026-11-02T15:00:00Z', locationId: P.locations.factory,
      quantity: { value: 1200, unit: 'kg' }, documents: [{ type: 'PO', id: 'PO-4411' }],
    });
    noodles = ok(
      await P.api.post('/v1/food/batches', {
        ...aBatch('NOODLE-FSMA', P.locations.factory),
        gtin: FOOD_GTIN,
        producedAt: '2026-11-03T09:00:00Z',
        quantity: { value: 200, unit: 'pack' },
        inputs: [{ domain: 'agri', batchId: wheat.id, quantity: { value: 400, unit: 'kg' } }],
      }),
    );
    await event(P, 'food', noodles.id, {
      bizStep: 'shipping', eventTime: '2026-11-04T07:00:00Z', locationId: P.locations.factory, toOrgId: R.id,
      quantity: { value: 200, unit: 'pack' }, documents: [{ type: 'ASN', id: 'ASN-12' }, { type: 'Invoice', id: 'INV-9' }],
    });
    // Retailer: receive, with no reference document.
    await event(R, 'food', noodles.id, {
      bizStep: 'receiving', eventTime: '2026-11-04T18:00:00Z', locationId: R.locations.store, quantity: { value: 200, unit: 'pack' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const csv = async (api: Api, query: Record<string, string>) => {
    const r = await fetchExport(api, query, 'text/csv');
    if (r.status !== 200) throw new Error(`export: ${r.status} ${r.text}`);
    return csvRecords(r.text);
  };
  const wheatLot = { gtin: AGRI_GTIN, lot: 'WHEAT-FSMA' };

  it('has one row per CTE of the lot and everything it touched, in time order', async () => {
    const rows = await eventually(async () => {
      const r = await csv(regulator, wheatLot);
      return r.length === 6 && r;
    }, 20_000);
    expect(rows.map((r) => [r[CTE], r[TLC], r[DATE]])).toEqual([
      ['Harvesting', 'WHEAT-FSMA', '2026-11-01T06:00:00.000Z'],
      ['Shipping', 'WHEAT-FSMA', '2026-11-02T08:00:00.000Z'],
      ['Receiving', 'WHEAT-FSMA', '2026-11-02T15:00:00.000Z'],
      ['Transformation', 'NOODLE-FSMA', '2026-11-03T09:00:00.000Z'],
      ['Shipping', 'NOODLE-FSMA', '2026-11-04T07:00:00.000Z'],
      ['Receiving', 'NOODLE-FSMA', '2026-11-04T18:00:00.000Z'],
    ]);
    // The same sheet from the other end of the journey: the noodle lot touched the wheat lot.
    expect(await csv(inspector, { gtin: FOOD_GTIN, lot: 'NOODLE-FSMA' })).toEqual(rows);
  });

  it('every receiving KDE of the processor receiving the wheat: TLC, quantity, product, previous source, location, date, TLC source, document', async () => {
    const receiving = (await csv(regulator, wheatLot)).find((r) => r[CTE] === 'Receiving' && r[TLC] === 'WHEAT-FSMA')!;
    expect(receiving).toMatchObject({
      [TLC]: 'WHEAT-FSMA',
      GTIN: AGRI_GTIN,
      [QTY]: '1200',
      [UNIT]: 'kg',
      [PRODUCT]: 'Winter wheat, hard red',
      [PREVIOUS]: farmDesc,
      [LOCATION]: plantDesc,
      [DATE]: '2026-11-02T15:00:00.000Z',
      // The wheat's lot code was assigned at the farm.
      [TLC_SOURCE]: farmDesc,
      [DOC_TYPE]: 'PO',
      [DOC_NO]: 'PO-4411',
      [MISSING_KDES]: 'none',
    });
  });

  it('shipping, harvesting and transformation KDEs: recipient, ship-from, inputs, TLC source at the transformer', async () => {
    const rows = await csv(regulator, wheatLot);
    const [harvest, shipWheat, , transform, shipNoodles] = rows;
    expect(harvest).toMatchObject({
      [LOCATION]: farmDesc, [RECIPIENT]: plantDesc, [QTY]: '1200', [UNIT]: 'kg', [PRODUCT]: 'Winter wheat, hard red',
      [DOC_TYPE]: 'Harvest log', [DOC_NO]: 'HL-1101', [MISSING_KDES]: 'none',
    });
    expect(shipWheat).toMatchObject({ [LOCATION]: farmDesc, [RECIPIENT]: plantDesc, [TLC_SOURCE]: farmDesc, [DOC_TYPE]: 'BOL', [DOC_NO]: 'BOL-778', [MISSING_KDES]: 'none' });
    expect(transform).toMatchObject({
      [TLC]: 'NOODLE-FSMA',
      [PRODUCT]: "'@Egg noodles",
      [QTY]: '200',
      [UNIT]: 'pack',
      [LOCATION]: plantDesc,
      [TLC_SOURCE]: plantDesc,
      [INPUTS]: `WHEAT-FSMA (GTIN ${AGRI_GTIN}, Winter wheat, hard red): 400 kg`,
    });
    // No toLocationId on this shipment: the recipient is where it was received.
    expect(shipNoodles).toMatchObject({ [RECIPIENT]: `'${storeDesc}`, [DOC_TYPE]: 'ASN; Invoice', [DOC_NO]: 'ASN-12; INV-9', [TLC_SOURCE]: plantDesc });
  });

  it('flags a missing KDE in its cell and names it: the retailer received without a reference document', async () => {
    const rows = await csv(regulator, wheatLot);
    const receiving = rows.find((r) => r[CTE] === 'Receiving' && r[TLC] === 'NOODLE-FSMA')!;
    expect(receiving).toMatchObject({
      [DOC_TYPE]: 'MISSING',
      [DOC_NO]: 'MISSING',
      [MISSING_KDES]: 'Reference Document Type; Reference Document Number',
      // Everything else is there: previous source is the processor, the TLC source too.
      [PREVIOUS]: plantDesc,
      [TLC_SOURCE]: plantDesc,
      [LOCATION]: `'${storeDesc}`,
      [QTY]: '200',
    });
    // The transformation named no batch record either: flagged the same way.
    const transform = rows.find((r) => r[CTE] === 'Transformation')!;
    expect([transform[DOC_TYPE], transform[DOC_NO], transform[MISSING_KDES]]).toEqual([
      'MISSING', 'MISSING', 'Reference Document Type; Reference Document Number',
    ]);
    // Nothing required is ever blank; the other rows are complete.
    expect(rows.filter((r) => r[DOC_TYPE] === '')).toEqual([]);
    expect(rows.filter((r) => r[MISSING_KDES] !== 'none').map((r) => r[CTE])).toEqual(['Transformation', 'Receiving']);
  });

  it('CSV: RFC 4180 quoting of commas, quotes and line breaks; formula-looking cells neutralised', async () => {
    const r = await fetchExport(regulator, wheatLot, 'text/csv');
    expect(r.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="fsma204_09506000134352_WHEAT-FSMA_\d{8}\.csv"$/);
    // Raw text: the farm's description is one quoted field with its quotes doubled and its line break inside.
    expect(r.text).toContain('"Green Valley Farm, ""Shouguang"" Co. — North field\nplot 7, 1 Farm Road, Shouguang, CN-37, GLN 9506000134352"');
    // No cell (unquoted or quoted) starts with = + - @.
    for (const row of csvRecords(r.text)) for (const v of Object.values(row)) expect(v).not.toMatch(/^[=+\-@]/);
    expect(r.text).toContain(",'=Retail Corner — =Retail Corner store,");
    expect(r.text).toContain(",'@Egg noodles,");
  });

  it('XLSX (format=xlsx or Accept) parses back with exceljs into the same rows', async () => {
    const rows = await csv(regulator, wheatLot);
    const byAccept = await fetchExport(regulator, wheatLot, XLSX_TYPE);
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get('content-type')).toBe(XLSX_TYPE);
    expect(byAccept.headers.get('content-disposition')).toMatch(/^attachment; filename="fsma204_09506000134352_WHEAT-FSMA_\d{8}\.xlsx"$/);
    expect(await xlsxRecords(byAccept.bytes)).toEqual(rows);
    const byParam = await fetchExport(regulator, { ...wheatLot, format: 'xlsx' }, 'text/csv');
    expect(byParam.headers.get('content-type')).toBe(XLSX_TYPE);
    expect(await xlsxRecords(byParam.bytes)).toEqual(rows);
  });

  it('date filters: from and to (dates are whole UTC days, date-times exact, both inclusive)', async () => {
    const ctes = async (q: Record<string, string>) => (await csv(regulator, { ...wheatLot, ...q })).map((r) => `${r[CTE]} ${r[TLC]}`);
    expect(await ctes({ from: '2026-11-03', to: '2026-11-03' })).toEqual(['Transformation NOODLE-FSMA']);
    expect(await ctes({ from: '2026-11-04T00:00:00Z' })).toEqual(['Shipping NOODLE-FSMA', 'Receiving NOODLE-FSMA']);
    expect(await ctes({ to: '2026-11-02T08:00:00+00:00' })).toEqual(['Harvesting WHEAT-FSMA', 'Shipping WHEAT-FSMA']);
    expect(await ctes({ from: '2026-12-01' })).toEqual([]);
  });

  it('organisation scope: operators export only lots their organisation holds or held', async () => {
    // The processor held the wheat and made the noodles; the retailer held the noodles, never the wheat.
    expect((await fetchExport(P.api, wheatLot)).status).toBe(200);
    expect((await fetchExport(P.api, { gtin: FOOD_GTIN, lot: 'NOODLE-FSMA' })).status).toBe(200);
    expect((await fetchExport(R.api, { gtin: FOOD_GTIN, lot: 'NOODLE-FSMA' })).status).toBe(200);
    expect((await fetchExport(F.api, wheatLot)).status).toBe(200);
    const notHeld = await fetchExport(R.api, wheatLot);
    expect([notHeld.status, notHeld.problem?.type]).toEqual([404, problem('traceability-lot')]);
    expect((await fetchExport(X.api, { gtin: FOOD_GTIN, lot: 'NOODLE-FSMA' })).status).toBe(404);
    expect((await fetchExport(t.as('platform', 'admin'), wheatLot)).status).toBe(403);
    expect((await fetchExport(t.anonymous, wheatLot)).status).toBe(401);
  });

  it('is documented in /docs-json with both media types', async () => {
    const docs = await t.anonymous.get('/docs-json');
    const op = docs.body.paths['/v1/exports/fsma204'].get;
    expect(Object.keys(op.responses['200'].content).sort()).toEqual(['text/csv', XLSX_TYPE].sort());
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['gtin', 'lot', 'from', 'to', 'format']));
  });

  it('bad input is a 400 problem; an unknown lot a 404', async () => {
    const bad = async (query: Record<string, string>, field: string, accept?: string) => {
      const r = await fetchExport(regulator, query, accept);
      expect([r.status, r.headers.get('content-type')]).toEqual([400, expect.stringMatching(/^application\/problem\+json/)]);
      expect(r.problem?.errors?.map((e) => e.field)).toEqual([field]);
    };
    await bad({ gtin: '09506000134353', lot: 'WHEAT-FSMA' }, 'gtin'); // wrong check digit
    await bad({ gtin: '0950600013435', lot: 'WHEAT-FSMA' }, 'gtin');
    await bad({ lot: 'WHEAT-FSMA' }, 'gtin');
    await bad({ gtin: AGRI_GTIN }, 'lot');
    await bad({ gtin: AGRI_GTIN, lot: 'A LOT WITH SPACES' }, 'lot');
    await bad({ ...wheatLot, from: '2026-02-31' }, 'from');
    await bad({ ...wheatLot, to: 'yesterday' }, 'to');
    await bad({ ...wheatLot, from: '2026-11-05', to: '2026-11-01' }, 'to');
    await bad({ ...wheatLot, format: 'pdf' }, 'format');
    const unknown = await fetchExport(regulator, { gtin: AGRI_GTIN, lot: 'NO-SUCH-LOT' });
    expect([unknown.status, unknown.problem?.type]).toEqual([404, problem('traceability-lot')]);
    const json = await fetchExport(regulator, wheatLot, 'application/json');
    expect(json.status).toBe(406);
  });
});
