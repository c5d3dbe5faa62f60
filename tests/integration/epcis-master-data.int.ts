import { eventually } from '@trace/testing';
import { QueryService } from '@trace/service-epcis';
import type { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { EPCIS_CONTEXT } from '../support/epcis';
import { anOrg, type TestOrg } from '../support/world';

/**
 * EPCIS master data (issue 15): vocabulary elements a captured document declares in its header
 * (JSON `epcisHeader.epcisMasterData`, XML `EPCISHeader/extension/EPCISMasterData`) are stored, and
 * the SimpleEventQuery reads them: HASATTR_{field}, EQATTR_{field}_{attribute} on readPoint,
 * bizLocation, bizStep and disposition, and WD_readPoint / WD_bizLocation descending the children
 * the vocabulary declares. Every organisation's latest statement counts; an organisation stating an
 * element again replaces its own earlier statement.
 */
// GTIN 0761234500402 is no product of any domain: partner events, kept by the epcis service.
const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 7, minute)).toISOString();
const WINDOW = `GE_eventTime=${at(0)}&LT_eventTime=${at(30)}`;
const BL = 'urn:epcglobal:epcis:vtype:BusinessLocation';
const SST = 'urn:epcglobal:cbv:mda#sst';
const NAME = 'urn:epcglobal:cbv:mda#name';
const site = (n: number, ext = '0') => `urn:epc:id:sgln:4012345.0000${n}.${ext}`;
const event = (minute: number, bizLocation: string, extra: Record<string, unknown> = {}) => ({
  type: 'ObjectEvent', eventTime: at(minute), eventTimeZoneOffset: '+00:00', epcList: [`urn:epc:id:sgtin:7612345.000402.MD-${minute}`],
  action: 'OBSERVE', bizStep: 'receiving', bizLocation: { id: bizLocation }, ...extra,
});
const documentOf = (events: unknown[], vocabularyList?: unknown[]) => ({
  '@context': [EPCIS_CONTEXT], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: at(0),
  ...(vocabularyList ? { epcisHeader: { epcisMasterData: { vocabularyList } } } : {}),
  epcisBody: { eventList: events },
});

describe('EPCIS master data: HASATTR_, EQATTR_, WD_ with declared children', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  let B: TestOrg;

  const capture = async (org: TestOrg, body: string, contentType = 'application/ld+json') => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, { method: 'POST', headers: { ...(await org.api.headers()), 'content-type': contentType }, body });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    const job = await eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
  };
  /** The minutes (event times) of the events a query answers, in order. */
  const minutes = async (api: Api, query: string) => {
    const r = await api.get(`/v1/epcis/events?${WINDOW}&orderBy=eventTime&orderDirection=ASC&${query}`);
    if (r.status !== 200) throw new Error(`${query}: ${r.status} ${JSON.stringify(r.body)}`);
    return (r.body.epcisBody.queryResults.resultsBody.eventList as { eventTime: string }[]).map((e) => new Date(e.eventTime).getUTCMinutes());
  };
  const q = encodeURIComponent;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Master Data Receiver', 'processor', ['factory']);
    B = await anOrg(t, 'Master Data Neighbour', 'processor', ['factory']);
    // Site 1 has site 2 below it, site 2 has site 3; site 1's dock is a GLN extension of site 1; site 4 is declared by B only.
    await capture(
      A,
      JSON.stringify(
        documentOf(
          [
            event(1, site(1)),
            event(2, site(2)),
            event(3, site(3)),
            event(4, site(4)),
            event(5, site(1, 'dock')),
            event(6, site(9), { readPoint: { id: site(1) }, bizStep: 'shipping' }),
          ],
          [
            {
              type: BL,
              vocabularyElementList: [
                { id: site(1), attributes: [{ id: NAME, attribute: 'Receiving site 1' }, { id: 'cbvmda:sst', attribute: 201 }], children: [site(2)] },
                { id: `https://id.gs1.org/414/4012345000023`, attributes: [{ id: NAME, attribute: 'Cold store 2' }], children: [site(3)] },
              ],
            },
            { type: 'urn:epcglobal:epcis:vtype:BusinessStep', vocabularyElementList: [{ id: 'urn:epcglobal:cbv:bizstep:shipping', attributes: [{ id: 'example:audited', attribute: 'yes' }] }] },
          ],
        ),
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('HASATTR_ and EQATTR_ on bizLocation, readPoint and bizStep read the captured master data, in any identifier form', async () => {
    expect(await minutes(A.api, '')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await minutes(A.api, `HASATTR_bizLocation=${q(SST)}`)).toEqual([1]);
    expect(await minutes(A.api, `HASATTR_bizLocation=${q(NAME)}`)).toEqual([1, 2]);
    expect(await minutes(A.api, `HASATTR_bizLocation=${q('urn:epcglobal:cbv:mda#nothing')}`)).toEqual([]);
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${SST}`)}=201`)).toEqual([1]);
    expect(await minutes(A.api, `${q('EQATTR_bizLocation_cbvmda:sst')}=${q('202|201')}`)).toEqual([1]);
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${SST}`)}=202`)).toEqual([]);
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${NAME}`)}=${q('Cold store 2')}`)).toEqual([2]);
    // A location's master data serves readPoint too; a bizStep has its own vocabulary.
    expect(await minutes(A.api, `HASATTR_readPoint=${q(SST)}`)).toEqual([6]);
    expect(await minutes(A.api, `${q('EQATTR_bizStep_example:audited')}=yes`)).toEqual([6]);
    // With the other filters: all hold.
    expect(await minutes(A.api, `HASATTR_bizLocation=${q(NAME)}&EQ_bizLocation=${q(site(2))}`)).toEqual([2]);
    // A field master data does not describe, or a malformed name: 400 naming it.
    const bad = await A.api.get(`/v1/epcis/events?HASATTR_${q('example:x')}=y&EQATTR_colour_x=1`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['EQATTR_colour_x', 'HASATTR_example:x']);
  }, 60_000);

  it('WD_bizLocation descends the children the vocabulary declares, at any depth, besides the GLN extensions', async () => {
    expect(await minutes(A.api, `WD_bizLocation=${q(site(1))}`)).toEqual([1, 2, 3, 5]);
    expect(await minutes(A.api, `WD_bizLocation=${q('https://id.gs1.org/414/4012345000023')}`)).toEqual([2, 3]);
    expect(await minutes(A.api, `WD_bizLocation=${q(site(3))}`)).toEqual([3]);
    expect(await minutes(A.api, `WD_readPoint=${q(site(1))}`)).toEqual([6]);
  }, 60_000);

  it('another organisation\'s master data counts; an organisation stating an element again replaces its own statement', async () => {
    // B declares site 4 (in XML, 1.2-style header extension) without capturing an event.
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="${at(0)}">
  <EPCISHeader><extension><EPCISMasterData><VocabularyList>
    <Vocabulary type="${BL}"><VocabularyElementList>
      <VocabularyElement id="${site(4)}"><attribute id="${SST}">305</attribute></VocabularyElement>
    </VocabularyElementList></Vocabulary>
  </VocabularyList></EPCISMasterData></extension></EPCISHeader>
  <EPCISBody><EventList/></EPCISBody>
</epcis:EPCISDocument>`;
    await capture(B, xml, 'application/xml');
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${SST}`)}=305`)).toEqual([4]);
    // B sees none of A's events, whatever the master data says.
    expect(await minutes(B.api, `HASATTR_bizLocation=${q(SST)}`)).toEqual([]);
    // A states site 1 anew: sst 202 and no children. Its earlier statement no longer answers.
    await capture(A, JSON.stringify(documentOf([], [{ type: BL, vocabularyElementList: [{ id: site(1), attributes: [{ id: SST, attribute: '202' }] }] }])));
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${SST}`)}=201`)).toEqual([]);
    expect(await minutes(A.api, `${q(`EQATTR_bizLocation_${SST}`)}=202`)).toEqual([1]);
    expect(await minutes(A.api, `WD_bizLocation=${q(site(1))}`)).toEqual([1, 5]);
  }, 60_000);

  it('HASATTR_/EQATTR_ on the other vocabulary-typed fields: epcClass, epc, bizTransactionType, source, destination, sourceType', async () => {
    const VT = 'urn:epcglobal:epcis:vtype:';
    const partner = (minute: number, extra: Record<string, unknown>) => ({
      type: 'ObjectEvent', eventTime: at(minute), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', bizStep: 'receiving', bizLocation: { id: site(8) }, ...extra,
    });
    await capture(
      A,
      JSON.stringify(
        documentOf(
          [
            partner(20, {
              quantityList: [{ epcClass: 'urn:epc:class:lgtin:7612345.000426.LOT-A', quantity: 5, uom: 'KGM' }],
              bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:7612345000008:PO-20' }],
              sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:7612345.00001' }],
            }),
            partner(21, { epcList: ['urn:epc:id:sgtin:7612345.000426.S-21'], destinationList: [{ type: 'possessing_party', destination: 'urn:epc:id:pgln:7612345.00002' }] }),
            partner(22, { epcList: ['urn:epc:id:sgtin:7612345.000419.S-22'], bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:epcglobal:cbv:bt:7612345000008:INV-22' }] }),
          ],
          [
            // The product class by its GTIN pattern: it describes the lot of minute 20 and the instance of minute 21.
            { type: `${VT}EPCClass`, vocabularyElementList: [{ id: 'urn:epc:idpat:sgtin:7612345.000426.*', attributes: [{ id: 'cbvmda:tradeItemDescription', attribute: 'Test apples' }] }] },
            { type: `${VT}BusinessTransactionType`, vocabularyElementList: [{ id: 'urn:epcglobal:cbv:btt:po', attributes: [{ id: 'example:binding', attribute: 'yes' }] }] },
            { type: `${VT}SourceDest`, vocabularyElementList: [{ id: 'urn:epc:id:pgln:7612345.00001', attributes: [{ id: NAME, attribute: 'Farm 1' }] }] },
            { type: `${VT}SourceDestType`, vocabularyElementList: [{ id: 'https://ref.gs1.org/cbv/SDT-owning_party', attributes: [{ id: 'example:legal', attribute: 'yes' }] }] },
          ],
        ),
      ),
    );
    const DESC = 'urn:epcglobal:cbv:mda#tradeItemDescription';
    expect(await minutes(A.api, `GE_eventTime=${at(20)}`)).toEqual([20, 21, 22]);
    expect(await minutes(A.api, `HASATTR_epcClass=${q(DESC)}`)).toEqual([20, 21]);
    expect(await minutes(A.api, `${q(`EQATTR_epcClass_${DESC}`)}=${q('Test apples')}`)).toEqual([20, 21]);
    expect(await minutes(A.api, `${q('EQATTR_epcClass_cbvmda:tradeItemDescription')}=Pears`)).toEqual([]);
    // epc: the EPCs themselves (and their classes), not the quantity lists.
    expect(await minutes(A.api, `HASATTR_epc=${q(DESC)}`)).toEqual([21]);
    expect(await minutes(A.api, `${q('EQATTR_bizTransactionType_example:binding')}=yes`)).toEqual([20]);
    expect(await minutes(A.api, `HASATTR_source=${q(NAME)}`)).toEqual([20]);
    expect(await minutes(A.api, `HASATTR_destination=${q(NAME)}`)).toEqual([]);
    expect(await minutes(A.api, `${q('EQATTR_sourceType_example:legal')}=yes`)).toEqual([20]);
    expect(await minutes(A.api, `${q('EQATTR_destinationType_example:legal')}=yes`)).toEqual([]);
  }, 60_000);

  it('HASATTR_/EQATTR_ on bizLocation, readPoint, bizStep are narrowed in SQL: the store reads only the events naming an element that qualifies', async () => {
    // Calls through: counts the rows the partner events' store answers (every event of this file is one).
    const store = jest.spyOn(QueryService.prototype as unknown as { unbound: (...a: unknown[]) => Promise<unknown[]> }, 'unbound');
    const read = async (query: string) => {
      store.mockClear();
      const found = await minutes(A.api, query);
      const answers = (await Promise.all(store.mock.results.map((r) => r.value))) as unknown[][];
      return { found, rows: answers.reduce((n, a) => n + a.length, 0) };
    };
    try {
      // Nine events of A's in the window; before, each of these queries read all nine for the test to drop.
      expect(await read('')).toEqual({ found: [1, 2, 3, 4, 5, 6, 20, 21, 22], rows: 9 });
      // Site 1 is sst 202 (A's latest statement), site 4 sst 305 (B's).
      expect(await read(`HASATTR_bizLocation=${q(SST)}`)).toEqual({ found: [1, 4], rows: 2 });
      expect(await read(`${q(`EQATTR_bizLocation_${SST}`)}=305`)).toEqual({ found: [4], rows: 1 });
      expect(await read(`HASATTR_bizLocation=${q(SST)}&EQ_bizLocation=${q(site(4))}`)).toEqual({ found: [4], rows: 1 });
      expect(await read(`HASATTR_readPoint=${q(SST)}`)).toEqual({ found: [6], rows: 1 });
      expect(await read(`${q('EQATTR_bizStep_example:audited')}=yes`)).toEqual({ found: [6], rows: 1 });
      expect(await read(`HASATTR_bizLocation=${q('urn:epcglobal:cbv:mda#nothing')}`)).toEqual({ found: [], rows: 0 });
    } finally {
      store.mockRestore();
    }
  }, 60_000);
});
