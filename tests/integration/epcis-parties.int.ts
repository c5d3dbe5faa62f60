import { epcisEventHash, opaqueName, stripTraceExtensions, validateEpcis, type EpcisEvent } from '@trace/epcis';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/**
 * Issue 15 item 4: exports to partners carry no internal ids unless asked for. A REST shipping names
 * its shipper and receiver by their party GLNs (PGLN Digital Links) when the organisations have one,
 * and capture reads a PGLN back as the receiver; organisations and locations without a GLN are named by
 * stable opaque URNs in partner exports and query answers, and by `urn:uuid:` only with
 * `?include=chain`. The event hash stored when a link is written is the hash of the event as exported;
 * hashes given out before this change still find their events.
 */
const GRAIN = '09506000134352';
const FARM_GLN = '4012345000092';
const MILL_GLN = '4012345000108';
const PGLN = (gln: string) => `https://id.gs1.org/417/${gln}`;
const parties = (source: string, destination: string) => ({
  sourceList: [
    { type: 'possessing_party', source },
    { type: 'owning_party', source },
  ],
  destinationList: [
    { type: 'possessing_party', destination },
    { type: 'owning_party', destination },
  ],
});
const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
};
/** The CBV event hash of an event as exported (GS1's rule: without its eventID and recordTime-independent). */
const hashOf = (e: EpcisEvent) => {
  const { eventID: _id, ...rest } = stripTraceExtensions(e);
  return epcisEventHash(rest as EpcisEvent);
};

describe('EPCIS parties: PGLNs for organisations with a GLN, no internal id of ours in partner exports', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg; // GLN
  let mill: TestOrg; // GLN
  let plainFarm: TestOrg; // no GLN
  let plainMill: TestOrg; // no GLN

  const at = (minute: number) => new Date(Date.now() - (60 - minute) * 60_000).toISOString();
  const lot = async (org: TestOrg, name: string) => ok(await org.api.post('/v1/agri/batches', aBatch(name, org.locations.farm)));
  const ship = async (org: TestOrg, id: string, to: TestOrg, kg: number, minute: number) =>
    ok(await org.api.post(`/v1/agri/batches/${id}/events`, { bizStep: 'shipping', eventTime: at(minute), locationId: org.locations.farm, toOrgId: to.id, quantity: { value: kg, unit: 'kg' } }));
  const holdings = async (api: Api, id: string) => ok(await api.get(`/v1/agri/batches/${id}`), 200).holdings as { orgId: string; quantity: number; inTransit: number }[];
  const links = async () => (await t.query<{ hash: string }>(`SELECT hash FROM "${t.prefix}agri".trace_events ORDER BY batch_id, seq`)).map((r) => r.hash);
  const linkIds = async (batchId: string) => (await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 ORDER BY seq`, [batchId])).map((r) => r.id);
  const exportOf = async (api: Api, id: string, chain = false) => ok(await api.get(`/v1/agri/batches/${id}/epcis${chain ? '?include=chain' : ''}`), 200);
  const send = async (api: Api, doc: unknown) => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify(doc),
    });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    return eventually(async () => {
      const j = await api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const documentOf = (events: unknown[]) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  });

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Party Farm', 'producer', ['farm'], { gln: FARM_GLN });
    mill = await anOrg(t, 'Party Mill', 'processor', ['factory'], { gln: MILL_GLN });
    plainFarm = await anOrg(t, 'Plain Farm', 'producer', ['farm']);
    plainMill = await anOrg(t, 'Plain Mill', 'processor', ['factory']);
    await aProduct(farm.api, 'agri', GRAIN, 'grain');
    await aProduct(plainFarm.api, 'agri', '09506000134369', 'grain');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a shipping between organisations with GLNs is exported with their PGLNs; captured again it stores nothing; a new shipping to a PGLN ships to that receiver', async () => {
    const grain = await lot(farm, 'PGLN-1');
    const shipped = await ship(farm, grain.id, mill, 300, 3);
    const partner = await exportOf(farm.api, grain.id);
    expect(validateEpcis(partner)).toEqual([]);
    const events = partner.epcisBody.eventList as EpcisEvent[];
    const shipping = events.find((e) => e.bizStep === 'shipping')!;
    expect(shipping).toMatchObject(parties(PGLN(FARM_GLN), PGLN(MILL_GLN)));
    // No internal id of ours: not the organisations', the location's, the batch's nor the links'.
    const text = JSON.stringify(partner);
    expect(text).not.toContain('urn:uuid:');
    for (const id of [farm.id, mill.id, farm.locations.farm, grain.id, ...(await linkIds(grain.id))]) expect(text).not.toContain(id);
    // The hash stored when the link was written is the hash of the event as exported, and its eventID.
    for (const e of events) expect(e.eventID).toBe(hashOf(e));
    const [stored] = await t.query<{ epcis_hash: string }>(`SELECT epcis_hash FROM "${t.prefix}agri".native_event_hashes WHERE event_id = $1`, [shipped.id]);
    expect(stored.epcis_hash).toBe(shipping.eventID);
    // Query answers say the same; a PGLN in either form finds it by its receiver.
    const epcClass = `https://id.gs1.org/01/${GRAIN}/10/PGLN-1`;
    for (const receiver of [PGLN(MILL_GLN), 'urn:epc:id:pgln:4012345.00010']) {
      const answer = ok(await farm.api.get(`/v1/epcis/events?MATCH_epcClass=${encodeURIComponent(epcClass)}&EQ_destination_possessing_party=${encodeURIComponent(receiver)}`), 200);
      expect(answer.epcisBody.queryResults.resultsBody.eventList).toEqual([{ ...shipping, recordTime: expect.any(String) }]);
    }

    // The partner export captured again: nothing new, the same holdings.
    const before = { links: await links(), holdings: await holdings(farm.api, grain.id) };
    expect(await send(farm.api, partner)).toMatchObject({ success: true, errors: [] });
    expect({ links: await links(), holdings: await holdings(farm.api, grain.id) }).toEqual(before);
    expect(before.holdings).toEqual(expect.arrayContaining([{ orgId: mill.id, quantity: 0, inTransit: 300 }]));

    // The exported shipping as another system sends it back (a new event), and one naming the receiver by its PGLN
    // EPC URN: capture reads the PGLN as that organisation and ships to it.
    const { eventID: _id, recordTime: _rt, ...sent } = shipping;
    const urn = { ...sent, ...parties('urn:epc:id:pgln:4012345.00009', 'urn:epc:id:pgln:4012345.00010') };
    expect(
      await send(farm.api, documentOf([
        { ...sent, eventTime: at(4), quantityList: [{ epcClass, quantity: 50, uom: 'KGM' }] },
        { ...urn, eventTime: at(5), quantityList: [{ epcClass, quantity: 25, uom: 'KGM' }] },
      ])),
    ).toMatchObject({ success: true, errors: [] });
    expect(await holdings(farm.api, grain.id)).toEqual(
      expect.arrayContaining([
        { orgId: farm.id, quantity: 825, inTransit: 0 },
        { orgId: mill.id, quantity: 0, inTransit: 375 },
      ]),
    );
    const incoming = ok(await mill.api.get('/v1/shipments/incoming'), 200);
    expect(JSON.stringify(incoming)).toContain(grain.id);
  }, 120_000);

  it('organisations and locations without a GLN leak no internal id into a partner export (stable opaque names); include=chain names them by urn:uuid; either captured again stores nothing', async () => {
    const grain = ok(await plainFarm.api.post('/v1/agri/batches', { ...aBatch('OPAQUE-1', plainFarm.locations.farm), gtin: '09506000134369' }));
    await ship(plainFarm, grain.id, plainMill, 200, 6);
    const partner = await exportOf(plainFarm.api, grain.id);
    expect(validateEpcis(partner)).toEqual([]);
    const events = partner.epcisBody.eventList as EpcisEvent[];
    const text = JSON.stringify(partner);
    expect(text).not.toContain('urn:uuid:');
    expect(text).not.toContain('trace:chain');
    for (const id of [plainFarm.id, plainMill.id, plainFarm.locations.farm, grain.id, ...(await linkIds(grain.id))]) expect(text).not.toContain(id);
    const shipping = events.find((e) => e.bizStep === 'shipping')!;
    expect(shipping).toMatchObject(parties(opaqueName('party', plainFarm.id), opaqueName('party', plainMill.id)));
    expect(shipping.bizLocation).toEqual({ id: opaqueName('location', plainFarm.locations.farm as string) });
    expect(events.map((e) => e.eventID)).toEqual(events.map(hashOf));
    // Stable: the same names in the query answer, and a query by our id of the receiver still finds it.
    const answer = ok(
      await plainFarm.api.get(`/v1/epcis/events?EQ_bizStep=shipping&EQ_destination_possessing_party=${encodeURIComponent(`urn:uuid:${plainMill.id}`)}&MATCH_epcClass=${encodeURIComponent('https://id.gs1.org/01/09506000134369/10/OPAQUE-1')}`),
      200,
    );
    expect(answer.epcisBody.queryResults.resultsBody.eventList).toEqual([{ ...shipping, recordTime: expect.any(String) }]);
    // The round trip's form names them by our ids, as capture reads them back.
    const chained = await exportOf(plainFarm.api, grain.id, true);
    const chainedShipping = chained.epcisBody.eventList.find((e: EpcisEvent) => e.bizStep === 'shipping');
    expect(chainedShipping).toMatchObject({ ...parties(`urn:uuid:${plainFarm.id}`, `urn:uuid:${plainMill.id}`), bizLocation: { id: `urn:uuid:${plainFarm.locations.farm}` } });
    const before = await links();
    expect(await send(plainFarm.api, partner)).toMatchObject({ success: true, errors: [] });
    expect(await send(plainFarm.api, chained)).toMatchObject({ success: true, errors: [] });
    // …and the round trip's events without their links (what a partner could have kept of them).
    const bare = chained.epcisBody.eventList.map(({ eventID: _id, 'trace:chain': _link, ...e }: Record<string, unknown>) => e);
    expect(await send(plainFarm.api, documentOf(bare))).toMatchObject({ success: true, errors: [] });
    expect(await links()).toEqual(before);
  }, 120_000);

  it('links hashed before partner names: re-hashed by the migration, still found by the hash they were given, their old exports captured again store nothing', async () => {
    const grain = ok(await plainFarm.api.post('/v1/agri/batches', { ...aBatch('LEGACY-1', plainFarm.locations.farm), gtin: '09506000134369' }));
    await ship(plainFarm, grain.id, plainMill, 100, 7);
    const ids = await linkIds(grain.id);
    // What the export gave a partner before: the urn:uuid names (the round trip's form today), named by that event's hash.
    const legacy = ((await exportOf(plainFarm.api, grain.id, true)).epcisBody.eventList as EpcisEvent[]).map((e) => {
      const { 'trace:chain': _link, ...plain } = e as EpcisEvent & { 'trace:chain'?: unknown };
      return { ...plain, eventID: hashOf(plain as EpcisEvent) } as EpcisEvent;
    });
    const now = (await exportOf(plainFarm.api, grain.id)).epcisBody.eventList as EpcisEvent[];
    expect(legacy.map((e) => e.eventID)).not.toEqual(now.map((e) => e.eventID));
    await t.stop();
    // The schema as it was before migration TraceChainPartnerNames1765600071400: one hash table, holding the old hashes.
    const s = `"${t.prefix}agri"`;
    await t.query(`DROP TABLE ${s}.native_event_hashes`);
    await t.query(`ALTER TABLE ${s}.native_event_hashes_v1 RENAME TO native_event_hashes`);
    await t.query(`ALTER TABLE ${s}.native_event_hashes RENAME CONSTRAINT native_event_hashes_v1_pkey TO native_event_hashes_pkey`);
    await t.query(`ALTER INDEX ${s}.native_event_hashes_v1_hash_idx RENAME TO native_event_hashes_hash_idx`);
    for (const [n, id] of ids.entries()) {
      await t.query(`INSERT INTO ${s}.native_event_hashes (event_id, epcis_hash) VALUES ($1, $2)`, [id, legacy[n].eventID]);
    }
    await t.query(`DELETE FROM ${s}.migrations WHERE name = 'TraceChainPartnerNames1765600071400'`);
    t = await startEmbeddedApp({}, { prefix: t.prefix });
    plainFarm = { ...plainFarm, api: t.as(plainFarm.id, 'operator') };
    const api = plainFarm.api;
    await eventually(async () => ((await t.query(`SELECT 1 FROM ${s}.native_hash_pending`)).length === 0 ? true : undefined), 30_000);
    // Re-hashed under the new names: the stored hash is the exported event's hash again…
    const stored = await t.query<{ event_id: string; epcis_hash: string }>(`SELECT event_id, epcis_hash FROM ${s}.native_event_hashes WHERE event_id = ANY($1::uuid[])`, [ids]);
    expect(Object.fromEntries(stored.map((r) => [r.event_id, r.epcis_hash]))).toEqual(Object.fromEntries(ids.map((id, n) => [id, now[n].eventID])));
    expect(((await exportOf(api, grain.id)).epcisBody.eventList as EpcisEvent[]).map((e) => e.eventID)).toEqual(now.map((e) => e.eventID));
    // …and the old hashes still find the same events, by GET /events/{eventID} and EQ_eventID.
    for (const [n, e] of legacy.entries()) {
      const r = ok(await api.get(`/v1/epcis/events/${encodeURIComponent(e.eventID!)}`), 200);
      expect(r.epcisBody.queryResults.resultsBody.eventList.map((x: EpcisEvent) => x.eventID)).toEqual([now[n].eventID]);
    }
    const eq = ok(await api.get(`/v1/epcis/events?EQ_eventID=${encodeURIComponent(legacy.map((e) => e.eventID).join('|'))}`), 200);
    expect(eq.epcisBody.queryResults.resultsBody.eventList.map((x: EpcisEvent) => x.eventID).sort()).toEqual(now.map((e) => e.eventID).sort());
    // An old partner export captured again stores nothing.
    const before = await links();
    expect(await send(api, documentOf(legacy))).toMatchObject({ success: true, errors: [] });
    expect(await links()).toEqual(before);
  }, 180_000);
});
