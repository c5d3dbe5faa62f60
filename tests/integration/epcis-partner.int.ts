import { gs1CheckDigit } from '@trace/gs1';
import { epcisEventHash, validateEpcis } from '@trace/epcis';
import { eventually } from '@trace/testing';
import { aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';
import { epcisDocument } from '../support/epcis';

/**
 * EPCIS 2.0 as a repository any trading partner talks to (issue 15): partner events about objects
 * this system does not know are stored and answered, the REST binding's single-event capture, event
 * look-up and top-level resources, its headers and status codes, and SimpleEventQuery parameters.
 */
const gtin = (body13: string) => `${body13}${gs1CheckDigit(body13)}`;
const PARTNER_GTIN = gtin('0761234500001'); // no product of any domain
const OURS = gtin('0761234500002'); // registered by the test org
const cls = (g: string, lot: string) => `https://id.gs1.org/01/${g}/10/${lot}`;
const sgtin = (g: string, serial: string) => `https://id.gs1.org/01/${g}/21/${serial}`;
const sscc = (n: string) => `https://id.gs1.org/00/${n}${gs1CheckDigit(n)}`;
const GLN = `https://id.gs1.org/414/${gtin('761234500009')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString();

async function send(api: Api, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { ...(await api.headers()), ...(body !== undefined ? { 'content-type': 'application/ld+json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

async function captured(api: Api, doc: unknown, behaviour = 'rollback') {
  const r = await send(api, 'POST', '/v1/epcis/capture', doc, { 'GS1-Capture-Error-Behaviour': behaviour });
  expect(r.status).toBe(202);
  return eventually(async () => {
    const job = await api.get(`/v1/epcis/capture/${r.body.captureID}`);
    return job.status === 200 && !job.body.running ? job.body : undefined;
  }, 60_000);
}

const eventsOf = (r: { status: number; body: any }) => {
  expect(r.status).toBe(200);
  expect(validateEpcis(r.body)).toEqual([]);
  return r.body.epcisBody.queryResults.resultsBody.eventList as any[];
};

describe('EPCIS 2.0 for trading partners', () => {
  let t: EmbeddedTestApp;
  let org: TestOrg;
  let other: TestOrg;
  let api: Api;

  const partnerEvents = [
    {
      type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active', eventTime: at(0), eventTimeZoneOffset: '+00:00',
      quantityList: [{ epcClass: cls(PARTNER_GTIN, 'P-1'), quantity: 10, uom: 'KGM' }], bizLocation: { id: `${GLN}/254/dock` },
    },
    {
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', eventTime: at(1), eventTimeZoneOffset: '+00:00',
      eventID: 'urn:uuid:6f6d1f9e-5a2b-4c3d-9e8f-0a1b2c3d4e5f',
      epcList: [sgtin(PARTNER_GTIN, 'S-1')], bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0761234500009:PO-7' }],
      readPoint: { id: GLN },
    },
    {
      // A DELETE of a parent never seen here: EPCIS allows it.
      type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', eventTime: at(2), eventTimeZoneOffset: '+00:00',
      parentID: sgtin(PARTNER_GTIN, 'PARENT-1'), childEPCs: [sgtin(PARTNER_GTIN, 'S-2')],
    },
    {
      type: 'TransformationEvent', bizStep: 'commissioning', eventTime: at(3), eventTimeZoneOffset: '+00:00',
      inputEPCList: [sgtin(PARTNER_GTIN, 'S-3')], outputQuantityList: [{ epcClass: cls(PARTNER_GTIN, 'P-2'), quantity: 5 }],
    },
    {
      type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', eventTime: at(4), eventTimeZoneOffset: '+00:00',
      parentID: sscc('07612345000000001'), childEPCs: [sgtin(PARTNER_GTIN, 'S-4')],
    },
  ];

  beforeAll(async () => {
    t = await startEmbeddedApp();
    org = await anOrg(t, 'EPCIS Repository User', 'processor', ['factory']);
    other = await anOrg(t, 'EPCIS Other', 'producer', ['farm']);
    api = org.api;
    await aProduct(api, 'food', OURS, 'flour');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('stores events about objects of no domain as partner events, with an eventID, queryable and found by id', async () => {
    const job = await captured(api, epcisDocument(partnerEvents));
    expect(job).toMatchObject({ success: true, errors: [] });
    const all = eventsOf(await api.get(`/v1/epcis/events?MATCH_anyEPC=${encodeURIComponent(`urn:epc:idpat:sgtin:7612345.000001.*`)}&MATCH_anyEPCClass=x`));
    expect(all).toEqual([]); // two MATCH_ parameters: both must hold
    const mine = eventsOf(await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}`));
    expect(mine).toHaveLength(5);
    // Every event has an eventID: its own, else its event hash.
    const own = mine.find((e) => e.bizStep === 'shipping');
    expect(own.eventID).toBe('urn:uuid:6f6d1f9e-5a2b-4c3d-9e8f-0a1b2c3d4e5f');
    const hashed = mine.find((e) => e.bizStep === 'commissioning' && e.type === 'ObjectEvent');
    expect(hashed.eventID).toBe(epcisEventHash(hashed));
    expect(hashed.eventID).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    // GET /events/{eventID}: by the id, and by the hash of an event that has its own id.
    const byId = eventsOf(await api.get(`/v1/epcis/events/${encodeURIComponent(hashed.eventID)}`));
    expect(byId).toEqual([hashed]);
    expect(eventsOf(await api.get(`/v1/epcis/events/${encodeURIComponent(own.eventID)}`))).toEqual([own]);
    expect(eventsOf(await api.get(`/v1/epcis/events/${encodeURIComponent(epcisEventHash(own))}`))).toEqual([own]);
    expect((await api.get(`/v1/epcis/events/${encodeURIComponent('urn:uuid:00000000-0000-4000-8000-000000000000')}`)).status).toBe(404);
    // Another organisation does not see them.
    expect((await other.api.get(`/v1/epcis/events/${encodeURIComponent(hashed.eventID)}`)).status).toBe(404);
    // The same document again: stored once.
    expect(await captured(api, epcisDocument(partnerEvents))).toMatchObject({ success: true });
    expect(eventsOf(await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}`))).toHaveLength(5);
  }, 90_000);

  it('accepts a DELETE of an unknown parent and a class without quantity of our product, and still keeps the owner rule', async () => {
    const doc = epcisDocument([
      {
        type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', eventTime: at(10), eventTimeZoneOffset: '+00:00',
        parentID: sgtin(OURS, 'NEVER-SEEN'),
      },
      {
        type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'storing', eventTime: at(11), eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: cls(OURS, 'NO-QTY') }],
      },
    ]);
    const job = await captured(api, doc);
    expect(job).toMatchObject({ success: true, errors: [] });
    expect(eventsOf(await api.get(`/v1/epcis/events?MATCH_parentID=${encodeURIComponent(sgtin(OURS, 'NEVER-SEEN'))}`))).toHaveLength(1);
    expect(eventsOf(await api.get(`/v1/epcis/events?MATCH_epcClass=${encodeURIComponent(cls(OURS, 'NO-QTY'))}`))).toHaveLength(1);
    // No batch was made of them.
    expect(await t.query(`SELECT 1 FROM "${t.prefix}food".batches WHERE lot IN ('NEVER-SEEN', 'NO-QTY')`)).toEqual([]);
    // A new lot of another organisation's product is still refused, and rolls the document back.
    const theirs = gtin('0761234500003');
    await aProduct(other.api, 'food', theirs, 'flour');
    const refused = await captured(api, epcisDocument([
      { ...partnerEvents[0], eventTime: at(12), quantityList: [{ epcClass: cls(PARTNER_GTIN, 'RB-1'), quantity: 1 }] },
      { ...partnerEvents[0], eventTime: at(13), quantityList: [{ epcClass: cls(theirs, 'RB-2'), quantity: 1 }] },
    ]));
    expect(refused.success).toBe(false);
    expect(refused.errors).toEqual([expect.objectContaining({ eventIndex: 1, reason: expect.stringMatching(/another organisation/) })]);
    expect(eventsOf(await api.get(`/v1/epcis/events?MATCH_epcClass=${encodeURIComponent(cls(PARTNER_GTIN, 'RB-1'))}`))).toEqual([]);
  }, 90_000);

  it('captures a single event with POST /events (201, Location), with the binding headers and status codes', async () => {
    const event = {
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'receiving', eventTime: at(20), eventTimeZoneOffset: '+01:00',
      epcList: [sgtin(PARTNER_GTIN, 'ONE-1')],
    };
    const r = await send(api, 'POST', '/v1/epcis/events', event);
    expect(r.status).toBe(201);
    expect(r.headers.get('gs1-epcis-version')).toBe('2.0.0');
    expect(r.headers.get('gs1-cbv-version')).toBe('2.0.0');
    expect(r.body.eventID).toBe(epcisEventHash(event as never));
    expect(r.headers.get('location')).toBe(`/v1/epcis/events/${encodeURIComponent(r.body.eventID)}`);
    const back = eventsOf(await api.get(r.headers.get('location')!));
    expect(back).toEqual([expect.objectContaining({ ...event, eventID: r.body.eventID })]);
    // An invalid event: 400 naming the field.
    const bad = await send(api, 'POST', '/v1/epcis/events', { ...event, action: 'JUMP' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: '/action' })]));
    // 415, 406, 413.
    expect((await send(api, 'POST', '/v1/epcis/events', 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await send(api, 'POST', '/v1/epcis/capture', 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
    const notAcceptable = await send(api, 'GET', '/v1/epcis/events', undefined, { accept: 'text/csv' });
    expect(notAcceptable.status).toBe(406);
    expect(notAcceptable.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await send(api, 'GET', '/v1/epcis/events', undefined, { accept: 'application/ld+json' })).status).toBe(200);
    const tooMany = epcisDocument(Array.from({ length: 20_001 }, (_, i) => ({ ...event, eventTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() })));
    const big = await send(api, 'POST', '/v1/epcis/capture', tooMany);
    expect(big.status).toBe(413);
    expect(big.headers.get('gs1-epcis-version')).toBe('2.0.0');
  }, 90_000);

  it('answers OPTIONS discovery with the capture limits and versions, and a document over the size limit with 413', async () => {
    const capture = await send(api, 'OPTIONS', '/v1/epcis/capture');
    expect(capture.status).toBe(204);
    expect(Object.fromEntries(['allow', 'gs1-epcis-version', 'gs1-cbv-version', 'gs1-epcis-capture-limit', 'gs1-epcis-capture-file-size-limit', 'gs1-capture-error-behaviour']
      .map((h) => [h, capture.headers.get(h)]))).toEqual({
      allow: 'OPTIONS, GET, POST',
      'gs1-epcis-version': '2.0.0',
      'gs1-cbv-version': '2.0.0',
      'gs1-epcis-capture-limit': '20000',
      'gs1-epcis-capture-file-size-limit': String(20 * 1024 * 1024),
      'gs1-capture-error-behaviour': 'rollback, proceed',
    });
    const events = await send(api, 'OPTIONS', '/v1/epcis/events');
    expect([events.status, events.headers.get('gs1-epcis-capture-limit'), events.headers.get('allow')]).toEqual([204, '1', 'OPTIONS, GET, POST']);
    for (const path of ['/v1/epcis', '/v1/epcis/eventTypes', '/v1/epcis/bizSteps/shipping/events', `/v1/epcis/events/${encodeURIComponent('urn:uuid:x')}`]) {
      const r = await send(api, 'OPTIONS', path);
      expect({ path, status: r.status, allow: r.headers.get('allow'), version: r.headers.get('gs1-epcis-version') }).toEqual({ path, status: 204, allow: 'OPTIONS, GET', version: '2.0.0' });
    }
    expect((await send(api, 'OPTIONS', '/v1/epcis/nothing')).status).toBe(404);
    // A browser's CORS preflight is still answered as one.
    const preflight = await send(api, 'OPTIONS', '/v1/epcis/events', undefined, { origin: 'https://partner.example', 'access-control-request-method': 'GET' });
    expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, '*']);
    const huge = await send(api, 'POST', '/v1/epcis/capture', `{"type":"EPCISDocument","pad":"${'x'.repeat(20 * 1024 * 1024)}"}`);
    expect([huge.status, huge.headers.get('content-type')]).toEqual([413, expect.stringMatching(/application\/problem\+json/)]);
  }, 60_000);

  it('answers the SimpleEventQuery parameters, EPC patterns and field-specific MATCH_', async () => {
    const q = async (qs: string) => eventsOf(await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}&${qs}`));
    const enc = encodeURIComponent;
    expect((await q('EQ_action=DELETE')).map((e) => e.type)).toEqual(['AggregationEvent']);
    expect((await q('EQ_action=ADD|DELETE')).length).toBe(3);
    // MATCH_epc: epcList and childEPCs only, never the parent or inputs.
    expect(await q(`MATCH_epc=${enc(sgtin(PARTNER_GTIN, 'PARENT-1'))}`)).toEqual([]);
    expect(await q(`MATCH_parentID=${enc(sgtin(PARTNER_GTIN, 'PARENT-1'))}`)).toHaveLength(1);
    expect(await q(`MATCH_epc=${enc(sgtin(PARTNER_GTIN, 'S-3'))}`)).toEqual([]);
    expect(await q(`MATCH_inputEPC=${enc(sgtin(PARTNER_GTIN, 'S-3'))}`)).toHaveLength(1);
    expect(await q(`MATCH_outputEPCClass=${enc(cls(PARTNER_GTIN, 'P-2'))}`)).toHaveLength(1);
    expect(await q(`MATCH_anyEPC=${enc(sgtin(PARTNER_GTIN, 'S-3'))}`)).toHaveLength(1);
    expect(await q(`MATCH_parentID=${enc('urn:epc:id:sscc:7612345.0000000001')}`)).toHaveLength(1);
    // EPC patterns: the whole GTIN, a company prefix.
    expect(await q(`MATCH_epc=${enc('urn:epc:idpat:sgtin:7612345.000001.*')}`)).toHaveLength(3);
    expect(await q(`MATCH_anyEPC=${enc('urn:epc:idpat:sgtin:7612345.*.*')}`)).toHaveLength(4);
    expect(await q(`MATCH_epcClass=${enc('urn:epc:idpat:sgtin:7612345.000001.*')}`)).toHaveLength(1);
    expect(await q(`MATCH_parentID=${enc('urn:epc:idpat:sscc:7612345.*')}`)).toHaveLength(1);
    // Business transactions, locations with descendants, quantities, transformation, EXISTS_.
    expect(await q(`EQ_bizTransaction_po=${enc('urn:epcglobal:cbv:bt:0761234500009:PO-7')}`)).toHaveLength(1);
    expect(await q(`EQ_bizTransaction_inv=${enc('urn:epcglobal:cbv:bt:0761234500009:PO-7')}`)).toEqual([]);
    expect(await q(`EQ_bizLocation=${enc(GLN)}`)).toEqual([]);
    expect(await q(`WD_bizLocation=${enc(GLN)}`)).toHaveLength(1);
    expect(await q(`WD_readPoint=${enc(GLN)}`)).toHaveLength(1);
    expect(await q('GE_quantity=6')).toHaveLength(1);
    expect(await q('LT_quantity=6')).toHaveLength(1);
    expect(await q('EXISTS_bizTransactionList')).toHaveLength(1);
    expect(await q(`EQ_eventID=${enc('urn:uuid:6f6d1f9e-5a2b-4c3d-9e8f-0a1b2c3d4e5f')}`)).toHaveLength(1);
    // Order, counts, pages.
    const desc = await q('orderBy=eventTime&orderDirection=DESC');
    expect(desc.map((e) => e.eventTime)).toEqual([at(4), at(3), at(2), at(1), at(0)]);
    const first = await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}&orderBy=eventTime&orderDirection=DESC&perPage=2`);
    expect(eventsOf(first).map((e) => e.eventTime)).toEqual([at(4), at(3)]);
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link')!)![1];
    expect(eventsOf(await api.get(next)).map((e) => e.eventTime)).toEqual([at(2), at(1)]);
    expect(await q('eventCountLimit=2')).toHaveLength(2);
    const limited = await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}&eventCountLimit=3&perPage=2`);
    expect(eventsOf(limited)).toHaveLength(2);
    const rest = await api.get(/<([^>]+)>;\s*rel="next"/.exec(limited.headers.get('link')!)![1]);
    expect(eventsOf(rest)).toHaveLength(1);
    expect(rest.headers.get('link')).toBeNull();
    expect(await q('maxEventCount=5')).toHaveLength(5);
    const tooLarge = await api.get(`/v1/epcis/events?GE_eventTime=${at(0)}&LT_eventTime=${at(5)}&maxEventCount=4`);
    expect(tooLarge.status).toBe(413);
    for (const bad of ['EQ_action=JUMP', 'orderBy=size', 'orderDirection=UP', 'eventCountLimit=0', 'GE_quantity=many', 'maxEventCount=2&eventCountLimit=2']) {
      const r = await api.get(`/v1/epcis/events?${bad}`);
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
    }
  }, 90_000);

  it('serves the top-level resources and their events', async () => {
    const root = await api.get('/v1/epcis');
    expect(root.body).toMatchObject({ type: 'Collection', member: expect.arrayContaining(['events', 'eventTypes', 'epcs', 'bizSteps']) });
    expect((await api.get('/v1/epcis/eventTypes')).body.member).toEqual(expect.arrayContaining(['ObjectEvent', 'AggregationEvent', 'TransformationEvent']));
    expect((await api.get('/v1/epcis/bizSteps?perPage=1000')).body.member).toEqual(expect.arrayContaining(['shipping', 'unpacking']));
    const epcs = (await api.get('/v1/epcis/epcs?perPage=1000')).body.member;
    expect(epcs).toEqual(expect.arrayContaining([sgtin(PARTNER_GTIN, 'S-1'), cls(PARTNER_GTIN, 'P-1')]));
    expect((await api.get(`/v1/epcis/bizLocations?perPage=1000`)).body.member).toContain(`${GLN}/254/dock`);
    expect((await api.get(`/v1/epcis/readPoints?perPage=1000`)).body.member).toContain(GLN);
    expect((await api.get('/v1/epcis/dispositions?perPage=1000')).body.member).toContain('in_transit');
    const paged = await api.get('/v1/epcis/eventTypes?perPage=2');
    expect(paged.body.member).toHaveLength(2);
    expect(paged.headers.get('link')).toMatch(/rel="next"/);
    const win = `GE_eventTime=${at(0)}&LT_eventTime=${at(5)}`;
    expect(eventsOf(await api.get(`/v1/epcis/eventTypes/AggregationEvent/events?${win}`))).toHaveLength(2);
    expect(eventsOf(await api.get(`/v1/epcis/bizSteps/shipping/events?${win}`))).toHaveLength(1);
    expect(eventsOf(await api.get(`/v1/epcis/dispositions/in_transit/events?${win}`))).toHaveLength(1);
    expect(eventsOf(await api.get(`/v1/epcis/epcs/${encodeURIComponent(sgtin(PARTNER_GTIN, 'S-3'))}/events?${win}`))).toHaveLength(1);
    expect(eventsOf(await api.get(`/v1/epcis/readPoints/${encodeURIComponent(GLN)}/events?${win}`))).toHaveLength(1);
    expect(eventsOf(await api.get(`/v1/epcis/bizLocations/${encodeURIComponent(`${GLN}/254/dock`)}/events?${win}`))).toHaveLength(1);
    expect((await api.get('/v1/epcis/nothing')).status).toBe(404);
    expect((await api.get('/v1/epcis/bizSteps/shipping/events?EQ_bizStep=receiving')).status).toBe(400);
  }, 90_000);
});
