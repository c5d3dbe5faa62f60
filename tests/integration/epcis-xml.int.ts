import { contextPrefixes, epcisDocumentFromXml, epcisEventHash, validateEpcis, type EpcisEvent } from '@trace/epcis';
import { eventually } from '@trace/testing';
import type { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg } from '../support/world';
import { XsdValidation } from '@trace/service-epcis';

/**
 * The EPCIS XML binding: an EPCIS 2.0 XML document and a 1.2 one (extension wrappers, CBV URNs) are
 * captured as the events their JSON translation is, with the same hashes (capturing the translation
 * afterwards stores nothing new), and a query asked with Accept: application/xml is answered in
 * EPCIS 2.0 XML carrying the same events, valid against GS1's query XSD. XML that GS1's XSD refuses
 * is refused.
 */
// GTIN 0761234500303 (company prefix 7612345, item 000303) is no product of any domain: partner events.
const EX = 'https://ns.example.com/epcis/';
const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 8, minute)).toISOString();
const WINDOW = `GE_eventTime=${at(0)}&LT_eventTime=${at(10)}`;

const xml20 = `<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:example="${EX}" schemaVersion="2.0" creationDate="${at(0)}">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>${at(0)}</eventTime>
        <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <epcList><epc>urn:epc:id:sgtin:7612345.000303.X-1</epc></epcList>
        <action>OBSERVE</action>
        <bizStep>shipping</bizStep>
        <disposition>in_transit</disposition>
        <readPoint><id>urn:epc:id:sgln:7612345.00010.0</id></readPoint>
        <bizTransactionList><bizTransaction type="po">urn:epcglobal:cbv:bt:0761234500009:PO-9</bizTransaction></bizTransactionList>
        <sensorElementList>
          <sensorElement>
            <sensorMetadata time="${at(0)}" deviceID="urn:epc:id:giai:4000001.111"/>
            <sensorReport type="Temperature" value="4.5" uom="CEL"/>
            <sensorReport type="Dimensionless" booleanValue="true"/>
          </sensorElement>
        </sensorElementList>
        <example:shift>2</example:shift>
        <example:crew><example:lead>Wang</example:lead></example:crew>
      </ObjectEvent>
      <TransformationEvent>
        <eventTime>${at(1)}</eventTime>
        <eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
        <inputEPCList><epc>urn:epc:id:sgtin:7612345.000303.X-1</epc></inputEPCList>
        <outputQuantityList><quantityElement><epcClass>urn:epc:class:lgtin:7612345.000303.L-1</epcClass><quantity>10</quantity><uom>KGM</uom></quantityElement></outputQuantityList>
        <bizStep>commissioning</bizStep>
        <ilmd><example:grade>A</example:grade></ilmd>
      </TransformationEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>`;

/** The JSON binding of xml20, written by hand. */
const json20: EpcisEvent[] = [
  {
    type: 'ObjectEvent', eventTime: at(0), eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:7612345.000303.X-1'], action: 'OBSERVE',
    bizStep: 'shipping', disposition: 'in_transit', readPoint: { id: 'urn:epc:id:sgln:7612345.00010.0' },
    bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0761234500009:PO-9' }],
    sensorElementList: [
      {
        sensorMetadata: { time: at(0), deviceID: 'urn:epc:id:giai:4000001.111' },
        sensorReport: [{ type: 'Temperature', value: 4.5, uom: 'CEL' }, { type: 'Dimensionless', booleanValue: true }],
      },
    ],
    'example:shift': '2',
    'example:crew': { 'example:lead': 'Wang' },
  },
  {
    type: 'TransformationEvent', eventTime: at(1), eventTimeZoneOffset: '+08:00', inputEPCList: ['urn:epc:id:sgtin:7612345.000303.X-1'],
    outputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:7612345.000303.L-1', quantity: 10, uom: 'KGM' }], bizStep: 'commissioning',
    ilmd: { 'example:grade': 'A' },
  },
];

const xml12 = `<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:example="${EX}" schemaVersion="1.2" creationDate="${at(5)}">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>${at(5)}</eventTime>
        <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <baseExtension><eventID>urn:uuid:9a1f4c52-6b7d-4e8f-a0b1-c2d3e4f50617</eventID></baseExtension>
        <epcList/>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <disposition>urn:epcglobal:cbv:disp:active</disposition>
        <extension>
          <quantityList><quantityElement><epcClass>urn:epc:class:lgtin:7612345.000303.L-12</epcClass><quantity>5</quantity><uom>KGM</uom></quantityElement></quantityList>
          <ilmd><example:grade>B</example:grade></ilmd>
        </extension>
      </ObjectEvent>
      <extension>
        <TransformationEvent>
          <eventTime>${at(6)}</eventTime>
          <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
          <inputEPCList><epc>urn:epc:id:sgtin:7612345.000303.X-2</epc></inputEPCList>
          <outputEPCList><epc>urn:epc:id:sgtin:7612345.000303.X-3</epc></outputEPCList>
          <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        </TransformationEvent>
      </extension>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>`;

/** xml12 as GS1's 1.2→2.0 translation would give it in JSON. */
const json12: EpcisEvent[] = [
  {
    type: 'ObjectEvent', eventTime: at(5), eventTimeZoneOffset: '+00:00', eventID: 'urn:uuid:9a1f4c52-6b7d-4e8f-a0b1-c2d3e4f50617', action: 'ADD',
    bizStep: 'commissioning', disposition: 'active', quantityList: [{ epcClass: 'urn:epc:class:lgtin:7612345.000303.L-12', quantity: 5, uom: 'KGM' }],
    ilmd: { 'example:grade': 'B' },
  },
  {
    type: 'TransformationEvent', eventTime: at(6), eventTimeZoneOffset: '+00:00', inputEPCList: ['urn:epc:id:sgtin:7612345.000303.X-2'],
    outputEPCList: ['urn:epc:id:sgtin:7612345.000303.X-3'], bizStep: 'commissioning',
  },
];
const documentOf = (events: EpcisEvent[]) => ({
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: EX }],
  type: 'EPCISDocument', schemaVersion: '2.0', creationDate: at(0), epcisBody: { eventList: events },
});

describe('EPCIS XML binding', () => {
  let t: EmbeddedTestApp;
  let api: Api;
  const xsd = new XsdValidation();

  const post = async (body: string, contentType: string) =>
    fetch(`${api.baseUrl}/v1/epcis/capture`, { method: 'POST', headers: { ...(await api.headers()), 'content-type': contentType }, body });
  const captured = async (body: string, contentType: string) => {
    const r = await post(body, contentType);
    const answer = (await r.json()) as { captureID: string };
    expect(r.status).toBe(202);
    return eventually(async () => {
      const j = await api.get(`/v1/epcis/capture/${answer.captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const stored = async () => {
    const r = await api.get(`/v1/epcis/events?${WINDOW}&orderBy=eventTime`);
    expect(r.status).toBe(200);
    expect(validateEpcis(r.body)).toEqual([]);
    return r.body.epcisBody.queryResults.resultsBody.eventList as EpcisEvent[];
  };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    api = (await anOrg(t, 'EPCIS XML Partner', 'processor', ['factory'])).api;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await xsd.onModuleDestroy();
  });

  it('reads a 2.0 XML document into its JSON binding, and captures it as those events with their hashes', async () => {
    const read = epcisDocumentFromXml(xml20);
    expect(read.errors).toEqual([]);
    expect(read.document!['@context']).toEqual(['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: EX }]);
    expect(read.document!.epcisBody.eventList).toEqual(json20);
    expect(await captured(xml20, 'application/xml')).toMatchObject({ success: true, errors: [] });
    const events = await stored();
    expect(events).toHaveLength(2);
    for (const [i, e] of events.entries()) {
      expect(e).toMatchObject(json20[i]);
      expect(e.eventID).toBe(epcisEventHash(json20[i], { example: EX }));
    }
    // The JSON translation captured afterwards is the same events: nothing new is stored.
    expect(await captured(JSON.stringify(documentOf(json20)), 'application/ld+json')).toMatchObject({ success: true });
    expect(await stored()).toHaveLength(2);
  }, 90_000);

  it('reads 1.2 XML (baseExtension, extension wrappers, CBV URNs) as GS1 translates it, with the same hashes', async () => {
    // An empty epcList stays an empty list; CBV URNs become the bare words of the 2.0 JSON binding.
    expect(epcisDocumentFromXml(xml12).document!.epcisBody.eventList).toEqual([{ ...json12[0], epcList: [] }, json12[1]]);
    expect(await captured(xml12, 'text/xml')).toMatchObject({ success: true, errors: [] });
    expect(await stored()).toHaveLength(4);
    expect(await captured(JSON.stringify(documentOf(json12)), 'application/json')).toMatchObject({ success: true });
    const all = await stored();
    expect(all).toHaveLength(4);
    expect(all.find((e) => e.eventTime === at(5))?.eventID).toBe('urn:uuid:9a1f4c52-6b7d-4e8f-a0b1-c2d3e4f50617');
  }, 90_000);

  it('answers a query in EPCIS 2.0 XML when the client asks for it, with the same events', async () => {
    const json = await stored();
    const r = await fetch(`${api.baseUrl}/v1/epcis/events?${WINDOW}&orderBy=eventTime`, { headers: { ...(await api.headers()), accept: 'application/xml' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(r.headers.get('gs1-epcis-version')).toBe('2.0.0');
    const body = await r.text();
    expect(await xsd.validate(body, 'urn:epcglobal:epcis-query:xsd:2')).toEqual([]);
    expect(body).toMatch(/^<\?xml[^>]*>\s*<epcisq:EPCISQueryDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:epcisq="urn:epcglobal:epcis-query:xsd:2"/);
    const back = epcisDocumentFromXml(body);
    expect(back.errors).toEqual([]);
    expect(back.document!.epcisBody.eventList).toEqual(json);
    // Each event keeps its hash through the XML answer.
    const prefixes = contextPrefixes(back.document!['@context']);
    expect(back.document!.epcisBody.eventList.map((e) => epcisEventHash(e, { ...prefixes, example: EX }))).toEqual(json.map((e) => epcisEventHash(e, { example: EX })));
    // JSON is still the default, and preferred when ranked higher.
    const ranked = await fetch(`${api.baseUrl}/v1/epcis/events?${WINDOW}`, { headers: { ...(await api.headers()), accept: 'application/xml;q=0.5, application/json' } });
    expect(ranked.headers.get('content-type')).toMatch(/^application\/json/);
  }, 60_000);

  it('refuses XML that GS1\'s XSD refuses (a missing action, elements out of order) with a 400 naming the line', async () => {
    expect(await xsd.validate(xml20, 'urn:epcglobal:epcis:xsd:2')).toEqual([]);
    expect(await xsd.validate(xml12, 'urn:epcglobal:epcis:xsd:1')).toEqual([]);
    for (const bad of [xml20.replace('<action>OBSERVE</action>', ''), xml20.replace('<bizStep>commissioning</bizStep>', '').replace('</ilmd>', '</ilmd><bizStep>commissioning</bizStep>')]) {
      const r = await post(bad, 'application/xml');
      const problem = (await r.json()) as { type: string; errors: { field: string; message: string }[] };
      expect([r.status, problem.type]).toEqual([400, expect.stringMatching(/epcis-schema$/)]);
      expect(problem.errors[0]).toEqual({ field: expect.stringMatching(/^line \d+$/), message: expect.stringMatching(/Element/) });
    }
  }, 60_000);

  it('captures one event given as an XML document on POST /v1/epcis/events, with its namespaces, and refuses a document of two', async () => {
    const one = xml20
      .replace(/<TransformationEvent>[\s\S]*<\/TransformationEvent>/, '')
      .replace(/X-1/g, 'X-7')
      .replace(new RegExp(at(0).replace(/\./g, '\\.'), 'g'), at(8));
    const event: EpcisEvent = { ...json20[0], eventTime: at(8), epcList: ['urn:epc:id:sgtin:7612345.000303.X-7'], sensorElementList: [
      { sensorReport: (json20[0].sensorElementList![0] as { sensorReport: unknown }).sensorReport, sensorMetadata: { time: at(8), deviceID: 'urn:epc:id:giai:4000001.111' } },
    ] };
    const hash = epcisEventHash(event, { example: EX });
    const r = await fetch(`${api.baseUrl}/v1/epcis/events`, { method: 'POST', headers: { ...(await api.headers()), 'content-type': 'application/xml' }, body: one });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/v1/epcis/events/${encodeURIComponent(hash)}`);
    expect(await r.json()).toMatchObject({ ...event, eventID: hash });
    const back = await api.get(`/v1/epcis/events/${encodeURIComponent(hash)}`);
    expect(back.status).toBe(200);
    expect(back.body.epcisBody.queryResults.resultsBody.eventList).toEqual([expect.objectContaining({ ...event, eventID: hash })]);
    for (const [bad, type] of [[xml20, /epcis-document$/], [one.replace('<action>OBSERVE</action>', ''), /epcis-schema$/]] as const) {
      const refused = await fetch(`${api.baseUrl}/v1/epcis/events`, { method: 'POST', headers: { ...(await api.headers()), 'content-type': 'text/xml' }, body: bad });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { type: string }).type).toMatch(type);
    }
  }, 60_000);

  it('refuses XML that is not well-formed or not an EPCIS document with a 400, and other types with a 415', async () => {
    // Well-formed, but with an element the parser refuses to turn into an object member (it would reach a prototype).
    const prototypeElement = `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList><ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList><action>OBSERVE</action><ex:outer xmlns:ex="https://example.com/ext" xmlns="https://example.com/default"><__proto__><polluted>yes</polluted></__proto__></ex:outer></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>`;
    for (const bad of ['<epcis:EPCISDocument><EPCISBody>', '<html><body/></html>', prototypeElement]) {
      const r = await post(bad, 'application/xml');
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
      expect(((await r.json()) as { type: string }).type).toMatch(/epcis-document$/);
    }
    expect((await post('a,b', 'text/csv')).status).toBe(415);
  }, 60_000);
});
