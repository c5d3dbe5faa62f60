import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { epcisEventHash, eventObjects, validateEpcis, type EpcisEvent } from '@trace/epcis';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';
import { epcisDocument } from '../support/epcis';

/** GS1's example documents (copied from ../shared/epcis, see tests/fixtures/epcis/SOURCE.md). */
const EXAMPLES = join(__dirname, '../fixtures/epcis/examples');
const examples = readdirSync(EXAMPLES)
  .sort()
  .map((f) => ({ file: f, doc: JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) }));
const eventsOf = (doc: any): EpcisEvent[] => doc.epcisBody.eventList ?? doc.epcisBody.queryResults.resultsBody.eventList;

async function capture(api: Api, doc: unknown, behaviour?: string) {
  const r = await fetch(`${api.baseUrl}/v1/epcis/capture`, {
    method: 'POST',
    headers: { ...(await api.headers()), 'content-type': 'application/ld+json', ...(behaviour ? { 'GS1-Capture-Error-Behaviour': behaviour } : {}) },
    body: typeof doc === 'string' ? doc : JSON.stringify(doc),
  });
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: r.status, body, location: r.headers.get('location'), contentType: r.headers.get('content-type') };
}

/** Captures and waits for the job to finish; returns the finished job. */
async function captured(api: Api, doc: unknown, behaviour?: string) {
  const r = await capture(api, doc, behaviour);
  expect(r.status).toBe(202);
  expect(r.location).toBe(`/v1/epcis/capture/${r.body.captureID}`);
  return eventually(async () => {
    const job = await api.get(r.location!);
    return job.status === 200 && !job.body.running ? job.body : undefined;
  }, 60_000);
}

async function queryAll(api: Api, qs: string) {
  const events: any[] = [];
  let path: string | undefined = `/v1/epcis/events?${qs}`;
  while (path) {
    const r = await api.get(path);
    expect(r.status).toBe(200);
    expect(validateEpcis(r.body)).toEqual([]);
    events.push(...r.body.epcisBody.queryResults.resultsBody.eventList);
    const link = r.headers.get('link');
    path = link ? /<([^>]+)>;\s*rel="next"/.exec(link)![1] : undefined;
  }
  return events;
}

const objectEvent = (lot: string, gtin = '04012345123456', extra: Record<string, unknown> = {}) => ({
  type: 'ObjectEvent',
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  eventTime: '2026-11-20T08:00:00.000+08:00',
  eventTimeZoneOffset: '+08:00',
  quantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/${lot}`, quantity: 100, uom: 'KGM' }],
  bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
  ...extra,
});

describe('EPCIS 2.0 capture, query and export', () => {
  let t: EmbeddedTestApp;
  let partner: TestOrg;
  let other: TestOrg;
  let regulator: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    partner = await anOrg(t, 'EPCIS Partner', 'processor', ['factory']);
    other = await anOrg(t, 'Someone Else', 'producer', ['farm']);
    regulator = t.as('regulator-org', 'regulator');
    // Every trade item the examples name is a product of ours; the transformation's lot input in agri, the rest in food.
    const gtins = new Set<string>();
    for (const { doc } of examples) for (const e of eventsOf(doc)) for (const o of eventObjects(e)) if (o.ref.kind === 'trade-item') gtins.add(o.ref.gtin);
    for (const g of gtins) await aProduct(partner.api, g === '04012345111118' ? 'agri' : 'food', g, g === '04012345111118' ? 'grain' : 'flour');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('captures every GS1 example that validates, answers it from the query interface and exports it valid', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const hashes = new Set<string>();
    // Error declarations after the events they may name.
    const ordered = [...examples].sort((a, b) => Number(/error/i.test(a.file)) - Number(/error/i.test(b.file)));
    for (const { file, doc } of ordered) {
      expect({ file, errors: validateEpcis(doc) }).toEqual({ file, errors: [] });
      const job = await captured(partner.api, doc);
      expect({ file, success: job.success, errors: job.errors }).toEqual({ file, success: true, errors: [] });
      expect(job.progress).toEqual({ total: eventsOf(doc).length, done: eventsOf(doc).length });
    }
    const events = await queryAll(regulator, `GE_recordTime=${encodeURIComponent(since)}&perPage=7`);
    for (const e of events) hashes.add(`${epcisEventHash(e, { example: 'http://ns.example.com/epcis/' })}${e.errorDeclaration ? '!' : ''}`);
    // Each event once, though some examples repeat others (the query document, the error declaration's twin).
    expect(events.length).toBe(hashes.size);
    expect(events.length).toBeLessThan(examples.reduce((n, x) => n + eventsOf(x.doc).length, 0));
    for (const { file, doc } of examples) {
      for (const e of eventsOf(doc)) {
        const back = events.find((q) => q.type === e.type && new Date(q.eventTime).getTime() === new Date(e.eventTime).getTime() && q.bizStep === e.bizStep);
        expect({ file, found: !!back }).toEqual({ file, found: true });
      }
    }
    // The partner sees its own events; another organisation none of them.
    expect((await queryAll(partner.api, `GE_recordTime=${encodeURIComponent(since)}&perPage=1000`)).length).toBe(events.length);
    expect(await queryAll(other.api, `GE_recordTime=${encodeURIComponent(since)}`)).toEqual([]);

    // The chain view of a captured event: the EPCIS event kept whole, bizTransactions as documents, sensor readings.
    const [serial] = await t.query(`SELECT id FROM "${t.prefix}food".batches WHERE gtin = '10614141073464' AND lot = '2018'`);
    const chain = (await partner.api.get(`/v1/food/batches/${serial.id}/events`)).body;
    expect(chain.find((e: any) => e.bizStep === 'receiving')).toMatchObject({
      documents: expect.arrayContaining([{ type: 'desadv', id: 'urn:epcglobal:cbv:bt:0614141073467:1152' }]),
      epcis: expect.objectContaining({ 'example:myField': 'Example of a vendor/user extension' }),
    });
    const [sensed] = await t.query(`SELECT id FROM "${t.prefix}agri".batches WHERE gtin = '04012345111118' AND lot = '9876'`);
    const sensedChain = (await partner.api.get(`/v1/agri/batches/${sensed.id}/events`)).body;
    expect(sensedChain.some((e: any) => e.sensors?.length > 0 && e.epcis.sensorElementList)).toBe(true);

    for (const domain of ['food', 'agri']) {
      const batches = await t.query(`SELECT id FROM "${t.prefix}${domain}".batches`);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) {
        const r = await partner.api.get(`/v1/${domain}/batches/${b.id}/epcis`);
        expect(r.status).toBe(200);
        expect(validateEpcis(r.body)).toEqual([]);
        const v = await partner.api.get(`/v1/${domain}/batches/${b.id}/verify`);
        expect(v.body.valid).toBe(true);
      }
    }
  }, 120_000);

  it('answers the SimpleEventQuery filters', async () => {
    const q = async (qs: string) => queryAll(regulator, qs);
    const shipping = await q('EQ_bizStep=shipping&eventType=ObjectEvent');
    expect(shipping.length).toBeGreaterThan(0);
    expect(shipping.every((e) => e.bizStep === 'shipping' && e.type === 'ObjectEvent')).toBe(true);
    expect(await q('EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping&eventType=ObjectEvent')).toHaveLength(shipping.length);
    // URN and Digital Link forms of an EPC match the same events.
    const byUrn = await q('MATCH_epc=urn:epc:id:sgtin:0614141.107346.2018');
    const byDl = await q(`MATCH_epc=${encodeURIComponent('https://id.gs1.org/01/10614141073464/21/2018')}`);
    expect(byUrn.length).toBeGreaterThanOrEqual(2);
    expect(byDl).toEqual(byUrn);
    expect((await q('MATCH_anyEPC=urn:epc:id:sscc:0614141.1234567890')).map((e) => e.type)).toContain('AggregationEvent');
    expect((await q('EQ_disposition=in_transit')).every((e) => /in_transit/.test(e.disposition))).toBe(true);
    expect((await q('EQ_bizLocation=urn:epc:id:sgln:0012345.11111.0')).length).toBeGreaterThan(0);
    expect((await q('EQ_readPoint=urn:epc:id:sgln:0012345.11111.400')).length).toBeGreaterThan(0);
    const errors = await q('EXISTS_errorDeclaration');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.errorDeclaration)).toBe(true);
    // The declared shipping event stays, marked; the declaration is the event with its errorDeclaration.
    const declared = await q('MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017&EQ_bizStep=shipping');
    expect(declared.map((e) => [!!e.errorDeclaration, e['trace:erroneous'] ?? false])).toEqual(expect.arrayContaining([[false, true], [true, false]]));
    expect(await q('GE_eventTime=2005-04-04T00:00:00Z&LT_eventTime=2005-04-06T00:00:00Z&EQ_bizStep=receiving')).not.toHaveLength(0);
    expect(await q('eventType=AssociationEvent')).toHaveLength(2);
    for (const bad of ['foo=1', 'GE_eventTime=yesterday', 'perPage=0', 'nextPageToken=nope', 'eventType=Nothing']) {
      const r = await regulator.get(`/v1/epcis/events?${bad}`);
      expect(r.status).toBe(400);
      expect(r.body.errors.length).toBeGreaterThan(0);
    }
  });

  it('answers events recorded through the REST API too', async () => {
    await aProduct(other.api, 'agri', '09506000134352', 'grain');
    const batch = (await other.api.post('/v1/agri/batches', aBatch('REST-1', other.locations.farm))).body;
    await other.api.post(`/v1/agri/batches/${batch.id}/events`, {
      bizStep: 'storing', eventTime: new Date().toISOString(), locationId: other.locations.farm, documents: [{ type: 'po', id: 'PO-1' }],
    });
    const events = await queryAll(other.api, 'MATCH_epcClass=https://id.gs1.org/01/09506000134352/10/REST-1');
    expect(events.map((e) => [e.type, e.action, e.bizStep])).toEqual([
      ['ObjectEvent', 'ADD', 'commissioning'],
      ['ObjectEvent', 'OBSERVE', 'storing'],
    ]);
    expect(await queryAll(partner.api, 'MATCH_epcClass=https://id.gs1.org/01/09506000134352/10/REST-1')).toEqual([]);
  });

  it('rolls a document with a broken event back, or keeps the good events when asked to proceed', async () => {
    // A new lot of another organisation's product: refused (a GTIN of no domain would be a partner event, stored).
    await aProduct(other.api, 'food', '04012345000016', 'flour');
    const broken = epcisDocument([objectEvent('RB-1'), objectEvent('RB-2'), objectEvent('RB-3', '04012345000016')]);
    const rolledBack = await captured(partner.api, broken);
    expect(rolledBack.success).toBe(false);
    expect(rolledBack.errors).toEqual([expect.objectContaining({ eventIndex: 2, reason: expect.stringMatching(/another organisation/) })]);
    expect(await queryAll(regulator, 'MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/RB-1')).toEqual([]);

    const rolledBackDefault = await captured(partner.api, broken, 'rollback');
    expect(rolledBackDefault.success).toBe(false);

    const proceeded = await captured(partner.api, broken, 'proceed');
    expect(proceeded.success).toBe(false);
    expect(proceeded.errors).toEqual([expect.objectContaining({ eventIndex: 2 })]);
    expect(await queryAll(regulator, 'MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/RB-1')).toHaveLength(1);
    expect(await queryAll(regulator, 'MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/RB-2')).toHaveLength(1);
  }, 60_000);

  it('refuses a captured movement of a recalled batch as the API does (batch-recalled), and stores the rest', async () => {
    const observe = (lot: string, bizStep: string, disposition: string, minute: number) => {
      const { action: _a, quantityList: _q, ...rest } = objectEvent(lot) as Record<string, unknown>;
      return {
        ...rest,
        action: 'OBSERVE',
        bizStep,
        disposition,
        eventTime: new Date(Date.UTC(2026, 10, 21, 0, minute)).toISOString(),
        quantityList: [{ epcClass: `https://id.gs1.org/01/04012345123456/10/${lot}` }],
      };
    };
    const doc = epcisDocument([
      objectEvent('RC-1'),
      observe('RC-1', 'holding', 'recalled', 1),
      observe('RC-1', 'shipping', 'in_transit', 2),
      observe('RC-1', 'retail_selling', 'retail_sold', 3),
      observe('RC-1', 'storing', 'recalled', 4),
    ]);
    const job = await captured(partner.api, doc, 'proceed');
    expect(job.success).toBe(false);
    expect(job.errors).toEqual([
      expect.objectContaining({ eventIndex: 2, reason: expect.stringMatching(/batch is recalled and cannot be moved \(shipping\)/) }),
      expect.objectContaining({ eventIndex: 3, reason: expect.stringMatching(/batch is recalled and cannot be moved \(retail_selling\)/) }),
    ]);
    const stored = await queryAll(regulator, 'MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/RC-1');
    expect(stored.map((e) => e.bizStep).sort()).toEqual(['commissioning', 'holding', 'storing']);
  }, 60_000);

  it('stores the same event once, whether sent twice, in URN or in Digital Link form', async () => {
    const urn = epcisDocument([objectEvent('DUP-1', '04012345123456', { quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.DUP-1', quantity: 100, uom: 'KGM' }] })]);
    const dl = epcisDocument([objectEvent('DUP-1')]);
    expect((await captured(partner.api, urn)).success).toBe(true);
    expect((await captured(partner.api, urn)).success).toBe(true);
    expect((await captured(partner.api, dl)).success).toBe(true);
    const rows = await t.query(`SELECT e.epcis_hash FROM "${t.prefix}food".trace_events e JOIN "${t.prefix}food".batches b ON b.id = e.batch_id WHERE b.lot = 'DUP-1'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].epcis_hash).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  }, 60_000);

  it('takes a large document in one job, chunk after chunk, in both modes; the same document again is all duplicates', async () => {
    const big = (tag: string) => {
      const events: unknown[] = [];
      for (let i = 0; i < 100; i++) events.push(objectEvent(`${tag}${i}`));
      for (let n = 0; events.length < 1200; n++) {
        const { action: _a, quantityList: _q, ...rest } = objectEvent(`${tag}${n % 100}`) as Record<string, unknown>;
        events.push({ ...rest, action: 'OBSERVE', bizStep: 'storing', disposition: 'sellable_not_accessible', eventTime: new Date(Date.UTC(2026, 10, 20, 0, 0, n)).toISOString(),
          quantityList: [{ epcClass: `https://id.gs1.org/01/04012345123456/10/${tag}${n % 100}` }] });
      }
      return epcisDocument(events);
    };
    for (const [mode, tag] of [['rollback', 'BGR'], ['proceed', 'BGP']]) {
      const doc = big(tag);
      const job = await captured(partner.api, doc, mode);
      expect(job).toMatchObject({ success: true, errors: [], progress: { total: 1200, done: 1200 } });
      const again = await captured(partner.api, doc, mode);
      expect(again).toMatchObject({ success: true, errors: [] });
      const [{ n }] = await t.query(`SELECT count(*)::int AS n FROM "${t.prefix}food".trace_events e JOIN "${t.prefix}food".batches b ON b.id = e.batch_id WHERE b.lot LIKE $1`, [`${tag}%`]);
      expect(n).toBe(1200);
      const verify = await partner.api.get(`/v1/food/batches/${(await t.query(`SELECT id FROM "${t.prefix}food".batches WHERE lot = $1`, [`${tag}7`]))[0].id}/verify`);
      expect(verify.body).toMatchObject({ valid: true, length: 12 });
    }
  }, 120_000);

  it('finishes as failed a job whose process stopped beating (a restart mid-capture)', async () => {
    const [{ id }] = await t.query(
      `INSERT INTO "${t.prefix}epcis".capture_jobs (id, org_id, error_behaviour, total, created_at, heartbeat_at)
       VALUES (gen_random_uuid(), $1, 'proceed', 10, now() - interval '1 hour', now() - interval '1 hour') RETURNING id`,
      [partner.id],
    );
    const job = (await partner.api.get(`/v1/epcis/capture/${id}`)).body;
    expect(job).toMatchObject({ running: false, success: false, errors: [expect.objectContaining({ reason: expect.stringMatching(/^interrupted/) })] });
  });

  it('refuses what is not a valid EPCIS document with 400 problem+json naming the errors, never 5xx', async () => {
    const cases: unknown[] = [
      '{ not json',
      { type: 'EPCISDocument' },
      epcisDocument([{ ...objectEvent('BAD-1'), eventTime: 'yesterday' }]),
      epcisDocument([{ ...objectEvent('BAD-2'), action: 'JUMP' }]),
      [1, 2, 3],
      { type: 'ObjectEvent' },
    ];
    for (const c of cases) {
      const r = await capture(partner.api, c);
      expect(r.status).toBe(400);
      expect(r.contentType).toMatch(/application\/problem\+json/);
    }
    const schemaErrors = await capture(partner.api, epcisDocument([{ ...objectEvent('BAD-1'), eventTime: 'yesterday' }]));
    expect(schemaErrors.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: '/epcisBody/eventList/0/eventTime' })]));
    expect((await capture(partner.api, epcisDocument([objectEvent('H-1')]), 'sometimes')).status).toBe(400);
    expect((await capture(regulator, epcisDocument([objectEvent('H-2')]))).status).toBe(403);
    const h3 = (await capture(partner.api, epcisDocument([objectEvent('H-3')]))).body.captureID;
    expect((await other.api.get(`/v1/epcis/capture/${h3}`)).status).toBe(404);
    expect((await partner.api.get('/v1/epcis/capture')).body.map((j: any) => j.captureID)).toContain(h3);
    expect((await other.api.get('/v1/epcis/capture')).body.map((j: any) => j.captureID)).not.toContain(h3);
    expect((await partner.api.get('/v1/epcis/capture/not-a-uuid')).status).toBe(400);
  });

  it('round trip: a journey exported from one system and captured into a fresh one has identical chain hashes', async () => {
    // System A: a farm lot shipped to a processor, received, and made into a food lot (lineage across domains).
    const farm = await anOrg(t, 'RT Farm', 'producer', ['farm']);
    const maker = await anOrg(t, 'RT Maker', 'processor', ['factory']);
    await aProduct(farm.api, 'agri', '09506000134369', 'grain');
    await aProduct(maker.api, 'food', '04012345000023', 'flour');
    const grain = (await farm.api.post('/v1/agri/batches', { ...aBatch('RT-GRAIN', farm.locations.farm), gtin: '09506000134369' })).body;
    await farm.api.post(`/v1/agri/batches/${grain.id}/events`, {
      bizStep: 'shipping', eventTime: new Date().toISOString(), locationId: farm.locations.farm, toOrgId: maker.id,
      sensors: [{ type: 'temperature', value: 4.5, unit: 'Cel', time: new Date().toISOString() }],
    });
    await maker.api.post(`/v1/agri/batches/${grain.id}/events`, { bizStep: 'receiving', eventTime: new Date().toISOString(), locationId: maker.locations.factory });
    const flour = await maker.api.post('/v1/food/batches', {
      ...aBatch('RT-FLOUR', maker.locations.factory),
      gtin: '04012345000023',
      quantity: { value: 900, unit: 'kg' },
      inputs: [{ domain: 'agri', batchId: grain.id, quantity: { value: 1000, unit: 'kg' } }],
    });
    expect(flour.status).toBe(201);
    const grainDoc = (await maker.api.get(`/v1/agri/batches/${grain.id}/epcis?include=chain`)).body;
    const flourDoc = (await maker.api.get(`/v1/food/batches/${flour.body.id}/epcis?include=chain`)).body;
    expect(validateEpcis(grainDoc)).toEqual([]);
    expect(validateEpcis(flourDoc)).toEqual([]);
    const chainA = async (domain: string, id: string) => (await maker.api.get(`/v1/${domain}/batches/${id}/events`)).body.map((e: any) => e.hash);

    // System B: fresh schemas, another organisation with the same products.
    const fresh = await startEmbeddedApp();
    try {
      const importer = await anOrg(fresh, 'RT Importer', 'distributor', ['warehouse']);
      await aProduct(importer.api, 'agri', '09506000134369', 'grain');
      await aProduct(importer.api, 'food', '04012345000023', 'flour');
      expect(await captured(importer.api, grainDoc)).toMatchObject({ success: true, errors: [] });
      expect(await captured(importer.api, flourDoc)).toMatchObject({ success: true, errors: [] });
      // Ids are each system's own (issue 13): the same lots, under new ids, with the same chains.
      const idIn = async (domain: string, lot: string) =>
        (await fresh.query<{ id: string }>(`SELECT id FROM "${fresh.prefix}${domain}".batches WHERE lot = $1`, [lot]))[0].id;
      const grainHere = await idIn('agri', 'RT-GRAIN');
      const flourHere = await idIn('food', 'RT-FLOUR');
      expect([grainHere, flourHere]).not.toContain(grain.id);
      expect([grainHere, flourHere]).not.toContain(flour.body.id);
      for (const [domain, id, idHere] of [['agri', grain.id, grainHere], ['food', flour.body.id, flourHere]]) {
        const b = (await importer.api.get(`/v1/${domain}/batches/${idHere}/events`)).body;
        expect(b.map((e: any) => e.hash)).toEqual(await chainA(domain, id));
        const here = (await importer.api.get(`/v1/${domain}/batches/${idHere}/verify`)).body;
        const there = (await maker.api.get(`/v1/${domain}/batches/${id}/verify`)).body;
        expect(here).toEqual({ valid: true, length: there.length, head: there.head });
      }
      // The lineage edge came across as well, between this system's batches.
      const trace = await eventually(async () => {
        const r = await fresh.as('reg', 'regulator').get(`/v1/trace/food/${flourHere}?direction=upstream`);
        return r.status === 200 && r.body.nodes.some((n: any) => n.batchId === grainHere) ? r.body : undefined;
      });
      expect(trace.edges).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'input' })]));
      // A chain made of captured events (GS1's examples) crosses over just the same.
      const [serial] = await t.query(`SELECT id FROM "${t.prefix}food".batches WHERE gtin = '10614141073464' AND lot = '2018'`);
      const serialDoc = (await partner.api.get(`/v1/food/batches/${serial.id}/epcis?include=chain`)).body;
      await aProduct(importer.api, 'food', '10614141073464', 'flour');
      expect(await captured(importer.api, serialDoc)).toMatchObject({ success: true, errors: [] });
      const [serialHere] = await fresh.query<{ id: string }>(`SELECT id FROM "${fresh.prefix}food".batches WHERE gtin = '10614141073464' AND lot = '2018'`);
      const hashes = async (api: Api, id: string) => (await api.get(`/v1/food/batches/${id}/events`)).body.map((e: any) => e.hash);
      expect(await hashes(importer.api, serialHere.id)).toEqual(await hashes(partner.api, serial.id));
      expect((await hashes(partner.api, serial.id)).length).toBeGreaterThanOrEqual(3);
      // Exporting again from B gives the same events.
      const again = (await importer.api.get(`/v1/agri/batches/${grainHere}/epcis?include=chain`)).body;
      expect(again.epcisBody.eventList.map((e: any) => e['trace:chain'].hash)).toEqual(grainDoc.epcisBody.eventList.map((e: any) => e['trace:chain'].hash));
    } finally {
      await fresh.close();
    }
  }, 120_000);
});
