import { contextPrefixes, epcisDocumentFromXml, epcisEventHash, validateEpcis, type EpcisEvent } from '@trace/epcis';
import { eventually } from '@trace/testing';
import { XsdValidation } from '@trace/service-epcis';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { WebhookReceiver } from '../support/webhook-receiver';
import { anOrg, type TestOrg } from '../support/world';
import { EPCIS_CONTEXT } from '../support/epcis';

/**
 * Issue 15 item 4, the round trip: the namespaces of captured documents are kept with their events and
 * declared in every answer (JSON and XML; queries, events by id, named-query runs, exports), a prefix two
 * documents bind differently is renamed in the answer so every name still means what was captured,
 * capturing an answer or an export again stores nothing, and exports carry no internal ids unless asked.
 */
const A_NS = 'http://a.example.com/ns/';
const B_NS = 'http://b.example.com/ns/';
const C_NS = 'http://c.example.com/ns/';
const EX = 'http://ns.example.com/epcis/';
const GTIN = '04012345000023';
const at = (n: number) => `2026-11-2${n}T08:00:00.000+08:00`;

const commissioned = (lot: string, n: number, extra: Record<string, unknown>) => ({
  type: 'ObjectEvent',
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  eventTime: at(n),
  eventTimeZoneOffset: '+08:00',
  quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/${lot}`, quantity: 100, uom: 'KGM' }],
  bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
  ...extra,
});
const docA = {
  '@context': [EPCIS_CONTEXT, { ext1: A_NS, example: EX }],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: at(1),
  epcisBody: {
    eventList: [
      commissioned('NS-A', 1, { 'ext1:grade': 'A', 'example:shift': { 'example:crew': 'night' } }),
      // A partner's event (an SSCC, no batch of ours): kept apart from the chains, with its namespaces too.
      { type: 'ObjectEvent', action: 'OBSERVE', eventTime: at(3), eventTimeZoneOffset: '+08:00', epcList: ['urn:epc:id:sscc:4012345.0000000077'], 'ext1:temp': '4' },
    ],
  },
};
const docB = {
  '@context': [EPCIS_CONTEXT, { ext1: B_NS }],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: at(2),
  epcisBody: {
    eventList: [
      commissioned('NS-B', 2, { 'ext1:grade': 'B' }),
      // An event's own @context (GS1's schema allows one) binds its names over the document's.
      commissioned('NS-C', 4, { '@context': { ext1: C_NS }, 'ext1:grade': 'C' }),
    ],
  },
};

/** The IRI of every extension name of an event (at any depth), as the context (and the event's own) resolves it. */
function iris(event: EpcisEvent, context: unknown): string[] {
  const prefixes = contextPrefixes([...(Array.isArray(context) ? context : [context]), ...(event['@context'] ? [event['@context']] : [])]);
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const i = k.indexOf(':');
      if (i > 0 && !k.startsWith('trace:')) out.push(prefixes[k.slice(0, i)] !== undefined ? prefixes[k.slice(0, i)] + k.slice(i + 1) : `undeclared ${k}`);
      walk(x);
    }
  };
  walk(event);
  return out.sort();
}

describe('EPCIS namespaces: kept, declared, renamed on a clash; answers and exports captured again store nothing', () => {
  let t: EmbeddedTestApp;
  let maker: TestOrg;
  let api: Api;
  let start: string;
  const xsd = new XsdValidation();
  const receiver = new WebhookReceiver();

  const send = async (body: string, contentType: string) => {
    const r = await fetch(`${api.baseUrl}/v1/epcis/capture`, { method: 'POST', headers: { ...(await api.headers()), 'content-type': contentType }, body });
    expect(r.status).toBe(202);
    const { captureID } = (await r.json()) as { captureID: string };
    return eventually(async () => {
      const j = await api.get(`/v1/epcis/capture/${captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const query = () => `/v1/epcis/events?GE_recordTime=${encodeURIComponent(start)}&orderBy=eventTime`;
  const answer = async (path = query()) => {
    const r = await api.get(path);
    expect(r.status).toBe(200);
    expect(validateEpcis(r.body)).toEqual([]);
    return r.body as { '@context': unknown[]; epcisBody: { queryResults: { resultsBody: { eventList: EpcisEvent[] } } } };
  };
  /** What the stores hold: every link's hash in every domain, and the partner events' hashes. */
  const stored = async () => {
    const links = [];
    for (const domain of ['agri', 'food']) {
      links.push(...(await t.query<{ hash: string }>(`SELECT hash FROM "${t.prefix}${domain}".trace_events ORDER BY batch_id, seq`)).map((r) => r.hash));
    }
    const unbound = (await t.query<{ epcis_hash: string }>(`SELECT epcis_hash FROM "${t.prefix}epcis".unbound_events ORDER BY epcis_hash`)).map((r) => r.epcis_hash);
    return { links, unbound };
  };

  beforeAll(async () => {
    await receiver.start();
    // Subscription deliveries go to the receiver on 127.0.0.1.
    const allowed = process.env.WEBHOOK_ALLOW_PRIVATE;
    process.env.WEBHOOK_ALLOW_PRIVATE = 'true';
    try {
      t = await startEmbeddedApp();
    } finally {
      if (allowed === undefined) delete process.env.WEBHOOK_ALLOW_PRIVATE;
      else process.env.WEBHOOK_ALLOW_PRIVATE = allowed;
    }
    maker = await anOrg(t, 'NS Maker', 'processor', ['factory']);
    api = maker.api;
    await aProduct(api, 'food', GTIN, 'flour');
    await aProduct(api, 'agri', '09506000134369', 'grain');
    start = new Date(Date.now() - 1000).toISOString();
    expect(await send(JSON.stringify(docA), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
    expect(await send(JSON.stringify(docB), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await receiver.close();
    await xsd.onModuleDestroy();
  });

  it('declares each event\'s namespaces as captured; a prefix bound twice is renamed (ext1 → ext1-2) and every name resolves to its captured IRI', async () => {
    const doc = await answer();
    const events = doc.epcisBody.queryResults.resultsBody.eventList;
    expect(events).toHaveLength(4);
    expect(doc['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext1: A_NS, 'ext1-2': B_NS, 'ext1-3': C_NS, example: EX })]);
    const [a, b, partner, c] = events;
    expect(c).toMatchObject({ 'ext1-3:grade': 'C' });
    expect(iris(c, doc['@context'])).toEqual([`${C_NS}grade`]);
    expect(b).toMatchObject({ 'ext1-2:grade': 'B' });
    expect(b).not.toHaveProperty('ext1:grade');
    expect(iris(a, doc['@context'])).toEqual([`${A_NS}grade`, `${EX}crew`, `${EX}shift`]);
    expect(iris(b, doc['@context'])).toEqual([`${B_NS}grade`]);
    expect(iris(partner, doc['@context'])).toEqual([`${A_NS}temp`]);
    // The same IRIs as in the captured documents, so the same event hashes.
    expect(iris(a, doc['@context'])).toEqual(iris(docA.epcisBody.eventList[0] as EpcisEvent, docA['@context']));
    const prefixes = contextPrefixes(doc['@context']);
    expect(events.map((e) => epcisEventHash(e, prefixes))).toEqual(events.map((e) => e.eventID));

    // Events by id: B alone needs no renaming.
    const byId = await answer(`/v1/epcis/events/${encodeURIComponent(b.eventID!)}`);
    expect(byId['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext1: B_NS })]);
    expect(byId.epcisBody.queryResults.resultsBody.eventList).toEqual([expect.objectContaining({ 'ext1:grade': 'B' })]);

    // A named query's run answers the same way.
    const saved = await api.request('POST', '/v1/epcis/queries', { name: 'ns-all', query: { GE_recordTime: start, orderBy: 'eventTime' } });
    expect(saved.status).toBe(201);
    const run = await answer('/v1/epcis/queries/ns-all/events');
    expect(run['@context']).toEqual(doc['@context']);
    expect(run.epcisBody.queryResults.resultsBody.eventList).toEqual(events);

    // A resource's events (the bizStep's) too.
    const resource = await answer('/v1/epcis/bizSteps/commissioning/events');
    expect(resource['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext1: A_NS, 'ext1-2': B_NS })]);
    expect(resource.epcisBody.queryResults.resultsBody.eventList.map((e) => iris(e, resource['@context']))).toEqual([
      [`${A_NS}grade`, `${EX}crew`, `${EX}shift`],
      [`${B_NS}grade`],
      [`${C_NS}grade`],
    ]);

    // And a subscription's delivery, the events recorded since `start` in one document.
    const subscribed = await api.request('POST', '/v1/epcis/queries/ns-all/subscriptions', { dest: receiver.url('/ns'), stream: true, initialRecordTime: start });
    expect(subscribed.status).toBe(201);
    const [delivery] = await receiver.until(() => receiver.at('/ns').length >= 1 && receiver.at('/ns'), 30_000);
    const delivered = delivery.body as typeof doc;
    expect(validateEpcis(delivered)).toEqual([]);
    expect(delivered['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext1: A_NS, 'ext1-2': B_NS, example: EX })]);
    const sent = delivered.epcisBody.queryResults.resultsBody.eventList;
    expect(sent.map((e) => iris(e, delivered['@context'])).sort()).toEqual(events.map((e) => iris(e, doc['@context'])).sort());
  }, 60_000);

  it('declares them in the XML answer too (no urn:undeclared-prefix), valid against GS1\'s XSD, read back to the same IRIs and hashes', async () => {
    const json = await answer();
    const r = await fetch(`${api.baseUrl}${query()}`, { headers: { ...(await api.headers()), accept: 'application/xml' } });
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(await xsd.validate(body, 'urn:epcglobal:epcis-query:xsd:2')).toEqual([]);
    expect(body).not.toContain('urn:undeclared-prefix');
    expect(body).toContain(`xmlns:ext1="${A_NS}"`);
    expect(body).toContain(`xmlns:ext1-2="${B_NS}"`);
    expect(body).toContain('<ext1-2:grade>B</ext1-2:grade>');
    const back = epcisDocumentFromXml(body).document!;
    const events = json.epcisBody.queryResults.resultsBody.eventList;
    expect(back.epcisBody.eventList.map((e) => iris(e, back['@context']))).toEqual(events.map((e) => iris(e, json['@context'])));
    const prefixes = contextPrefixes(back['@context']);
    expect(back.epcisBody.eventList.map((e) => epcisEventHash(e, prefixes))).toEqual(events.map((e) => e.eventID));
  }, 60_000);

  it('capturing a query answer again (JSON, then XML) stores nothing: same links, same partner events, same answer', async () => {
    const before = await stored();
    const first = await answer();
    expect(await send(JSON.stringify(first), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
    expect(await stored()).toEqual(before);
    const xml = await (await fetch(`${api.baseUrl}${query()}`, { headers: { ...(await api.headers()), accept: 'application/xml' } })).text();
    expect(await send(xml, 'application/xml')).toMatchObject({ success: true, errors: [] });
    expect(await stored()).toEqual(before);
    expect(await answer()).toEqual({ ...first, creationDate: expect.any(String) });
  }, 120_000);

  it('exports carry no internal ids unless include=chain; either export captured again stores nothing', async () => {
    // A batch recorded over REST: its events are named by this system's UUIDs inside.
    const grain = await api.post('/v1/agri/batches', { ...aBatch('NS-GRAIN', maker.locations.factory), gtin: '09506000134369' });
    expect(grain.status).toBe(201);
    const [captured] = await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}food".batches WHERE lot = 'NS-A'`);
    const internal = async (domain: string, id: string) => [
      id,
      maker.id,
      maker.locations.factory as string,
      ...(await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}${domain}".trace_events WHERE batch_id = $1`, [id])).map((r) => r.id),
    ];
    for (const [domain, id] of [['agri', grain.body.id], ['food', captured.id]]) {
      const partner = await api.get(`/v1/${domain}/batches/${id}/epcis`);
      expect(partner.status).toBe(200);
      expect(validateEpcis(partner.body)).toEqual([]);
      const text = JSON.stringify(partner.body);
      expect(text).not.toContain('trace:chain');
      for (const x of await internal(domain, id)) expect(text).not.toContain(x);
      for (const e of partner.body.epcisBody.eventList) expect(e.eventID).toMatch(/^ni:\/\/\/sha-256;/);
      const chained = await api.get(`/v1/${domain}/batches/${id}/epcis?include=chain`);
      expect(chained.body.epcisBody.eventList.every((e: Record<string, unknown>) => e['trace:chain'])).toBe(true);

      const before = await stored();
      expect(await send(JSON.stringify(partner.body), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
      expect(await send(JSON.stringify(chained.body), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
      expect(await stored()).toEqual(before);
    }
    // A query answer holding the REST-recorded event (named by its event hash there too, no internal id) captured again stores nothing either.
    const withRest = await answer();
    const grainEvents = (await api.get(`/v1/agri/batches/${grain.body.id}/epcis`)).body.epcisBody.eventList as EpcisEvent[];
    expect(withRest.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID)).toEqual(expect.arrayContaining(grainEvents.map((e) => e.eventID)));
    expect(withRest.epcisBody.queryResults.resultsBody.eventList.filter((e) => e.eventID!.startsWith('urn:uuid:'))).toEqual([]);
    const before = await stored();
    expect(await send(JSON.stringify(withRest), 'application/ld+json')).toMatchObject({ success: true, errors: [] });
    expect(await stored()).toEqual(before);

    const food = (await api.get(`/v1/food/batches/${captured.id}/epcis`)).body;
    expect(food['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext1: A_NS, example: EX })]);
    expect(iris(food.epcisBody.eventList[0], food['@context'])).toEqual([`${A_NS}grade`, `${EX}crew`, `${EX}shift`]);

    const bad = await api.get(`/v1/food/batches/${captured.id}/epcis?include=everything`);
    expect([bad.status, bad.body.type, bad.headers.get('content-type')]).toEqual([400, expect.stringMatching(/validation$/), expect.stringMatching(/problem\+json/)]);
  }, 120_000);

  it('keeps namespaces an XML document declares on an event or inside it (not only on the root), in its hash and in answers', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const N9 = 'http://nine.example.com/ns/';
    const N8 = 'http://eight.example.com/ns/';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="${at(5)}">
  <EPCISBody><EventList>
    <ObjectEvent xmlns:ext9="${N9}">
      <eventTime>2026-11-25T08:00:00.000Z</eventTime>
      <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
      <epcList><epc>urn:epc:id:sscc:4012345.0000000088</epc></epcList>
      <action>OBSERVE</action>
      <ext9:shift>2</ext9:shift>
      <ext8:crew xmlns:ext8="${N8}"><ext8:lead>Wang</ext8:lead></ext8:crew>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>`;
    const read = epcisDocumentFromXml(xml).document!;
    const [event] = read.epcisBody.eventList;
    expect(event['@context']).toEqual({ ext9: N9, ext8: N8 });
    expect(await xsd.validate(xml, 'urn:epcglobal:epcis:xsd:2')).toEqual([]);
    expect(await send(xml, 'application/xml')).toMatchObject({ success: true, errors: [] });
    // By its EPC too: `since` reaches a second back, into what the test before may have recorded.
    const doc = await answer(`/v1/epcis/events?GE_recordTime=${encodeURIComponent(since)}&MATCH_epc=${encodeURIComponent('urn:epc:id:sscc:4012345.0000000088')}`);
    const [back] = doc.epcisBody.queryResults.resultsBody.eventList;
    expect(doc['@context']).toEqual([EPCIS_CONTEXT, expect.objectContaining({ ext9: N9, ext8: N8 })]);
    expect(iris(back, doc['@context'])).toEqual([`${N8}crew`, `${N8}lead`, `${N9}shift`]);
    // Hashed with those namespaces: the same event as JSON with them on the document is the same event.
    const { '@context': _own, ...plain } = event;
    expect(back.eventID).toBe(epcisEventHash(plain as EpcisEvent, { ext9: N9, ext8: N8 }));
    const before = await stored();
    expect(await send(JSON.stringify({ ...read, '@context': [EPCIS_CONTEXT, { ext9: N9, ext8: N8 }], epcisBody: { eventList: [plain] } }), 'application/ld+json')).toMatchObject({ success: true });
    expect(await stored()).toEqual(before);
  }, 60_000);

  it('every chain these documents were captured onto still verifies: stored namespaces give back the event hashes (own @context, renamed prefixes, re-captured exports)', async () => {
    const batches = [];
    for (const domain of ['agri', 'food']) {
      for (const { id } of await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}${domain}".batches ORDER BY id`)) batches.push([domain, id]);
    }
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const [domain, id] of batches) {
      const r = await api.get(`/v1/${domain}/batches/${id}/verify`);
      expect([domain, id, r.status, r.body.valid, r.body.brokenAt]).toEqual([domain, id, 200, true, undefined]);
    }
  });
});
