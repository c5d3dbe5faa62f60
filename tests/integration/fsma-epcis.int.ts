import { eventually } from '@trace/testing';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { epcisDocument } from '../support/epcis';
import { csvRecords, fetchExport } from '../support/fsma';
import { anOrg, type TestOrg } from '../support/world';

const GRAIN = '09506000134352';
const LOT = 'FSMA-EPCIS-1';
const CLASS = `https://id.gs1.org/01/${GRAIN}/10/${LOT}`;
const CTE = 'Critical Tracking Event (CTE)';
const DATE = 'Event Date';
const PRODUCT = 'Product Description';
const DOC_TYPE = 'Reference Document Type';
const DOC_NO = 'Reference Document Number';

/**
 * FSMA 204 sheet of a lot that exists only through EPCIS capture (issue 15):
 * the lot's product description comes from the product registered in the
 * domain (BatchRegistered.productName of a captured lot), and an
 * errorDeclaration of a captured receiving removes that receiving from the
 * sheet instead of adding a row; the corrective receiving is the one row.
 */
describe('FSMA 204 export of EPCIS-captured lots', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let mill: TestOrg;

  const capture = async (org: TestOrg, events: unknown[]) => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify(epcisDocument(events)),
    });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    const job = await eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
  };
  const at = (hour: number) => new Date(Date.UTC(2026, 10, 10, hour)).toISOString();
  const receiving = {
    type: 'ObjectEvent',
    action: 'OBSERVE',
    bizStep: 'receiving',
    eventTime: at(15),
    eventTimeZoneOffset: '+00:00',
    quantityList: [{ epcClass: CLASS, quantity: 500, uom: 'KGM' }],
    bizLocation: { id: 'urn:epc:id:sgln:4012345.00002.0' },
  };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Capture-only Farm', 'producer', ['farm']);
    mill = await anOrg(t, 'Capture-only Mill', 'processor', ['factory']);
    expect((await farm.api.post('/v1/agri/products', { gtin: GRAIN, name: 'Winter wheat, hard red', category: 'grain' })).status).toBe(201);

    // The farm brings the lot into being by capture (with its packing record) and ships it to the mill.
    await capture(farm, [
      {
        type: 'ObjectEvent',
        action: 'ADD',
        bizStep: 'commissioning',
        eventTime: at(8),
        eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: CLASS, quantity: 500, uom: 'KGM' }],
        bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
        bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:4012345000016:PO-77' }],
      },
      {
        type: 'ObjectEvent',
        action: 'OBSERVE',
        bizStep: 'shipping',
        eventTime: at(9),
        eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: CLASS, quantity: 500, uom: 'KGM' }],
        bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
        destinationList: [{ type: 'possessing_party', destination: `urn:uuid:${mill.id}` }],
      },
    ]);
    // The mill receives it, then declares that receiving erroneous (wrong time) and captures the corrected one.
    await capture(mill, [receiving]);
    await capture(mill, [
      {
        ...receiving,
        errorDeclaration: { declarationTime: at(20), reason: 'incorrect_data', correctiveEventIDs: ['urn:uuid:7d2e3c1a-0b5f-4a8e-9c61-2f1e0d9b8a77'] },
      },
      { ...receiving, eventID: 'urn:uuid:7d2e3c1a-0b5f-4a8e-9c61-2f1e0d9b8a77', eventTime: at(16) },
    ]);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('names the product of a captured lot, and reports a declared-erroneous receiving by its corrective event alone', async () => {
    const rows = await eventually(async () => {
      const r = await fetchExport(mill.api, { gtin: GRAIN, lot: LOT }, 'text/csv');
      if (r.status !== 200) return undefined;
      const records = csvRecords(r.text);
      // Registration, shipping, and the receivings the lineage read model has caught up with.
      return records.length >= 3 && records.some((x) => x[DATE] === at(16)) ? records : undefined;
    }, 30_000);
    expect(rows.map((r) => [r[CTE], r[DATE]])).toEqual([
      ['Initial Packing', at(8)],
      ['Shipping', at(9)],
      ['Receiving', at(16)],
    ]);
    for (const r of rows) expect(r[PRODUCT]).toBe('Winter wheat, hard red');
    // The commissioning event's bizTransaction is the packing's reference document, as a REST registration's documents are.
    expect(rows[0]).toMatchObject({ [DOC_TYPE]: 'po', [DOC_NO]: 'urn:epcglobal:cbv:bt:4012345000016:PO-77' });
    // The chain keeps all three receiving links (nothing is rewritten): only the sheet leaves two out.
    const [batch] = await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}agri".batches WHERE gtin = $1 AND lot = $2`, [GRAIN, LOT]);
    const chain = (await mill.api.get(`/v1/agri/batches/${batch.id}/events`)).body as { bizStep: string }[];
    expect(chain.filter((e) => e.bizStep === 'receiving')).toHaveLength(3);
  });
});
