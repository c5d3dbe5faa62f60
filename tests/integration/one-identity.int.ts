import { ServiceCredentials } from '@trace/platform';
import { eventually } from '@trace/testing';
import { HttpIdentityClaims, IdentityBackfill } from '@trace/trace-service';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, TEST_JWT_SECRET, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** API.md "Identity": one GTIN owner, one place for a lot, and a lot is never a serial, across all five domains. */
describe('one identity across all domains', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  let B: TestOrg;
  let regulator: Api;

  beforeAll(async () => {
    // No scan cache: every scan below must see the database as it is now.
    t = await startEmbeddedApp({ SCAN_CACHE_TTL_SECONDS: '0' });
    A = await anOrg(t, 'Sauce Works', 'processor', ['factory', 'farm']);
    B = await anOrg(t, 'Copycat Ltd', 'processor', ['factory', 'farm']);
    regulator = t.as('regulator-org', 'regulator');
  });
  afterAll(async () => {
    await t?.close();
  });

  const scanJson = async (path: string) => {
    const r = await fetch(`${t.url}${path}`, { headers: { accept: 'application/json' } });
    return { status: r.status, body: (await r.json()) as any };
  };
  const lotIn = (org: TestOrg, domain: string, gtin: string, lot: string) =>
    org.api.post(`/v1/${domain}/batches`, { ...aBatch(lot, domain === 'agri' ? org.locations.farm : org.locations.factory), gtin });
  /** An EPCIS document of one commissioning ObjectEvent naming `epc`. */
  const commissioned = (epc: string, quantity?: { gtin: string; lot: string }) => ({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-11-20T08:00:00.000Z',
    epcisBody: {
      eventList: [
        {
          type: 'ObjectEvent',
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
          eventTime: '2026-11-21T09:00:00.000+08:00',
          eventTimeZoneOffset: '+08:00',
          ...(quantity
            ? { quantityList: [{ epcClass: `https://id.gs1.org/01/${quantity.gtin}/10/${quantity.lot}`, quantity: 100, uom: 'KGM' }] }
            : { epcList: [epc] }),
          bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
        },
      ],
    },
  });
  /** Captures as `org` and waits for the job; answers the finished job. */
  const captureAs = async (org: TestOrg, doc: unknown) => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify(doc),
    });
    expect(r.status).toBe(202);
    const location = r.headers.get('location') as string;
    return eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };

  it('a GTIN belongs to one organisation in every domain: another one gets 409 gtin-taken, its owner may use it anywhere', async () => {
    const gtin = '06950000001016';
    expect((await A.api.post('/v1/agri/products', { gtin, name: 'Tomatoes', category: 'vegetable' })).status).toBe(201);
    for (const domain of ['agri', 'food']) {
      const taken = await B.api.post(`/v1/${domain}/products`, { gtin, name: 'Not mine', category: domain === 'agri' ? 'vegetable' : 'sauce' });
      expect([domain, taken.status, taken.body.type]).toEqual([domain, 409, 'https://problems.trace.dev/gtin-taken']);
    }
    expect((await A.api.post('/v1/food/products', { gtin, name: 'Tomato sauce', category: 'sauce' })).status).toBe(201);
    // The same owner still gets one product per domain.
    const again = await A.api.post('/v1/food/products', { gtin, name: 'Again', category: 'sauce' });
    expect([again.status, again.body.type]).toEqual([409, 'https://problems.trace.dev/duplicate-gtin']);

    // ... and a lot lives in one domain: the same GTIN + lot in another domain is a 409.
    expect((await lotIn(A, 'agri', gtin, 'L-1')).status).toBe(201);
    const twice = await lotIn(A, 'food', gtin, 'L-1');
    expect([twice.status, twice.body.type]).toEqual([409, 'https://problems.trace.dev/duplicate-lot']);
    expect((await lotIn(A, 'food', gtin, 'L-2')).status).toBe(201);
    expect((await scanJson(`/01/${gtin}/10/L-1`)).body.batch).toMatchObject({ domain: 'agri', lot: 'L-1' });
    expect((await scanJson(`/01/${gtin}/10/L-2`)).body.batch).toMatchObject({ domain: 'food', lot: 'L-2' });
  });

  it('scan hijack: another organisation cannot register a recalled lot in another domain to hide the recall', async () => {
    const gtin = '06950000001023';
    await aProduct(A.api, 'food', gtin, 'sauce');
    const lot = await lotIn(A, 'food', gtin, 'RECALLED-1');
    expect(lot.status).toBe(201);
    const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'food', batchId: lot.body.id }], level: 1, reason: 'Sudan red found' });
    expect(recall.status).toBe(201);
    await eventually(async () => (await scanJson(`/01/${gtin}/10/RECALLED-1`)).body.recall?.active === true, 30_000);

    // B tries the same GTIN + lot in agri, a domain the scan used to ask first.
    const product = await B.api.post('/v1/agri/products', { gtin, name: 'Fake sauce', category: 'vegetable' });
    expect([product.status, product.body.type]).toEqual([409, 'https://problems.trace.dev/gtin-taken']);
    const batch = await lotIn(B, 'agri', gtin, 'RECALLED-1');
    expect(batch.status).toBe(422); // no product of that GTIN in agri: nothing to register a lot of

    const scanned = await scanJson(`/01/${gtin}/10/RECALLED-1`);
    expect(scanned.status).toBe(200);
    expect(scanned.body).toMatchObject({
      batch: { domain: 'food', lot: 'RECALLED-1', status: 'recalled' },
      origin: { producer: { name: 'Sauce Works' } },
      recall: { active: true, level: 1, reason: 'Sudan red found' },
    });
  });

  it('nor can it bring a lot of that GTIN into being through EPCIS capture (only the GTIN owner creates its lots)', async () => {
    const gtin = '06950000001023'; // A's food product (above)
    const job = await captureAs(B, commissioned('', { gtin, lot: 'SQUAT-1' }));
    expect(job.success).toBe(false);
    expect(JSON.stringify(job.errors)).toContain('belongs to another organisation');
    expect(await t.query(`SELECT 1 FROM ${t.prefix}food.batches WHERE gtin = $1 AND lot = 'SQUAT-1'`, [gtin])).toEqual([]);
    expect((await scanJson(`/01/${gtin}/10/SQUAT-1`)).status).toBe(404);
    // The owner may.
    expect(await captureAs(A, commissioned('', { gtin, lot: 'SQUAT-1' }))).toMatchObject({ success: true });
    expect((await scanJson(`/01/${gtin}/10/SQUAT-1`)).body.batch).toMatchObject({ domain: 'food', lot: 'SQUAT-1' });
  });

  it('claims what was registered before claims existed (the migration lists it, the backfill drains it), then the scan finds it', async () => {
    const gtin = '06950000001054';
    await aProduct(A.api, 'food', gtin, 'sauce');
    expect((await lotIn(A, 'food', gtin, 'OLD-1')).status).toBe(201);
    // As a database from before claims: the gateway knows nothing, the domain's backlog lists its product and lot.
    await t.query(`DELETE FROM ${t.prefix}gateway.item_claims WHERE gtin = $1`, [gtin]);
    await t.query(`DELETE FROM ${t.prefix}gateway.gtin_claims WHERE gtin = $1`, [gtin]);
    await t.query(
      `INSERT INTO ${t.prefix}food.unclaimed_identities (gtin, kind, value, org_id) VALUES ($1, 'gtin', '', $2), ($1, 'lot', 'OLD-1', $2)`,
      [gtin, A.id],
    );
    expect((await scanJson(`/01/${gtin}/10/OLD-1`)).status).toBe(404);

    const drained = await Promise.all(t.app.get(IdentityBackfill, { strict: false, each: true }).map((b) => b.drain()));
    expect(drained.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await t.query(`SELECT 1 FROM ${t.prefix}food.unclaimed_identities`)).toEqual([]);
    expect((await scanJson(`/01/${gtin}/10/OLD-1`)).body.batch).toMatchObject({ domain: 'food', lot: 'OLD-1' });
    const taken = await B.api.post('/v1/goods/products', { gtin, name: 'Late copy', category: 'household_appliance' });
    expect([taken.status, taken.body.type]).toEqual([409, 'https://problems.trace.dev/gtin-taken']);
  });

  describe('a lot and a serial with the same text are two things', () => {
    const gtin = '06950000001030';
    const serialKey = (s: string) => `https://id.gs1.org/01/${gtin}/21/${s}`;
    const capture = async (doc: unknown) => expect(await captureAs(A, doc)).toMatchObject({ success: true });
    const epcisEvents = async (match: string) => {
      // A serial is an EPC, a lot a class; EPCIS ANDs its parameters, so each is asked for where it stands.
      const param = /\/21\//.test(match) ? 'MATCH_anyEPC' : 'MATCH_anyEPCClass';
      const r = await A.api.get(`/v1/epcis/events?${param}=${encodeURIComponent(match)}`);
      expect(r.status).toBe(200);
      return r.body.epcisBody.queryResults.resultsBody.eventList as any[];
    };

    beforeAll(async () => {
      await aProduct(A.api, 'food', gtin, 'sauce');
    });

    it('lot "2017" (REST) and serial "2017" (EPCIS) are two batches with two chains, scanned and queried apart', async () => {
      const lot = await lotIn(A, 'food', gtin, '2017');
      expect(lot.status).toBe(201);
      await capture(commissioned(serialKey('2017')));

      const rows = await t.query<{ item_kind: string; lot: string; chain_seq: number }>(
        `SELECT item_kind, lot, chain_seq FROM ${t.prefix}food.batches WHERE gtin = $1 AND lot = '2017' ORDER BY item_kind`,
        [gtin],
      );
      expect(rows).toEqual([
        { item_kind: 'lot', lot: '2017', chain_seq: 1 },
        { item_kind: 'serial', lot: '2017', chain_seq: 1 },
      ]);

      // The serialised item's own link (and QR code) names its serial, not the lot with the same text.
      const [serialRow] = await t.query<{ id: string }>(`SELECT id FROM ${t.prefix}food.batches WHERE gtin = $1 AND item_kind = 'serial' AND lot = '2017'`, [gtin]);
      expect((await A.api.get(`/v1/food/batches/${serialRow.id}`)).body).toMatchObject({ itemKind: 'serial', digitalLink: `/01/${gtin}/21/2017` });
      expect((await A.api.get(`/v1/food/batches/${lot.body.id}`)).body).toMatchObject({ itemKind: 'lot', digitalLink: `/01/${gtin}/10/2017` });
      const qr = await fetch(`${t.url}/v1/food/batches/${serialRow.id}/qr?format=svg`, { headers: { ...(await A.api.headers()) } });
      expect(qr.headers.get('x-digital-link')).toMatch(new RegExp(`/01/${gtin}/21/2017$`));

      const byLot = await scanJson(`/01/${gtin}/10/2017`);
      expect(byLot.status).toBe(200);
      expect(byLot.body.batch).toMatchObject({ lot: '2017', serial: null });
      expect(byLot.body.chain).toEqual({ valid: true, length: 1 });
      const bySerial = await scanJson(`/01/${gtin}/21/2017`);
      expect(bySerial.status).toBe(200);
      expect(bySerial.body.batch).toMatchObject({ lot: null, serial: '2017', domain: 'food' });
      expect(bySerial.body.chain).toEqual({ valid: true, length: 1 });
      expect(bySerial.body.history[0]).toMatchObject({ bizStep: 'commissioning' });
      expect(Date.parse(bySerial.body.history[0].eventTime)).toBe(Date.parse('2026-11-21T09:00:00+08:00'));

      // EPCIS matching: the serial names the captured event only; the lot its own (REST) event only.
      const serialEvents = await epcisEvents(serialKey('2017'));
      expect(serialEvents).toHaveLength(1);
      expect(serialEvents[0].epcList).toEqual([serialKey('2017')]);
      const lotEvents = await epcisEvents(`https://id.gs1.org/01/${gtin}/10/2017`);
      expect(lotEvents.length).toBeGreaterThan(0);
      expect(lotEvents.every((e) => !JSON.stringify(e).includes('/21/2017'))).toBe(true);
    });

    it('a lot made from a serialised item shows that item, by its serial, in what it was made from', async () => {
      await capture(commissioned(serialKey('S-IN-1')));
      const made = commissioned('');
      made.epcisBody.eventList = [
        {
          type: 'TransformationEvent',
          bizStep: 'commissioning',
          eventTime: '2026-11-22T09:00:00.000+08:00',
          eventTimeZoneOffset: '+08:00',
          inputEPCList: [serialKey('S-IN-1')],
          outputQuantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/MIX-1`, quantity: 10, uom: 'KGM' }],
          bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
        } as never,
      ];
      await capture(made);
      const scanned = await scanJson(`/01/${gtin}/10/MIX-1`);
      expect(scanned.status).toBe(200);
      expect(scanned.body.madeFrom).toEqual([expect.objectContaining({ domain: 'food', lot: null, serial: 'S-IN-1' })]);
    });

    it('an exported link naming another batch\'s id does not give a new batch that id (ids are the system\'s)', async () => {
      const [agriLot] = await t.query<{ id: string }>(`SELECT id FROM ${t.prefix}agri.batches WHERE lot = 'L-1'`);
      expect(agriLot).toBeDefined();
      const doc = commissioned('', { gtin, lot: 'CARRY-1' });
      const event = doc.epcisBody.eventList[0] as Record<string, unknown>;
      event['trace:chain'] = {
        domain: 'food', gtin, lot: 'CARRY-1', kind: 'lot', seq: 1, prevHash: '0'.repeat(64), hash: 'f'.repeat(64),
        content: { eventId: '4b0f2a52-7d1e-4c55-9a4e-1b2c3d4e5f60', batchId: agriLot.id, bizStep: 'commissioning' },
      };
      await capture(doc);
      const [made] = await t.query<{ id: string }>(`SELECT id FROM ${t.prefix}food.batches WHERE gtin = $1 AND lot = 'CARRY-1'`, [gtin]);
      expect(made.id).not.toBe(agriLot.id);
      // Lineage learned of the new lot as its own node; the agri lot's node is still the agri lot.
      await eventually(async () => (await t.query(`SELECT 1 FROM ${t.prefix}lineage.lineage_nodes WHERE batch_id = $1`, [made.id])).length > 0, 30_000);
      expect(await t.query(`SELECT domain, lot FROM ${t.prefix}lineage.lineage_nodes WHERE batch_id = $1`, [agriLot.id])).toEqual([{ domain: 'agri', lot: 'L-1' }]);
    });

    it('a lot may be registered after a serial with the same text was captured', async () => {
      await capture(commissioned(serialKey('2018')));
      const lot = await lotIn(A, 'food', gtin, '2018');
      expect(lot.status).toBe(201);
      expect((await scanJson(`/01/${gtin}/10/2018`)).body.batch).toMatchObject({ lot: '2018' });
      expect((await scanJson(`/01/${gtin}/21/2018`)).body.batch).toMatchObject({ lot: null, serial: '2018' });

      // Lineage keeps both, and the FSMA 204 export of traceability lot 2018 is the lot, not the serial.
      await eventually(async () => {
        const rows = await t.query(`SELECT serial FROM ${t.prefix}lineage.fsma_lots WHERE gtin = $1 AND lot = '2018' ORDER BY serial`, [gtin]);
        return rows.length === 2 ? rows : undefined;
      }, 30_000);
      const r = await fetch(`${t.url}/v1/exports/fsma204?gtin=${gtin}&lot=2018&format=csv`, { headers: { ...(await A.api.headers()) } });
      expect(r.status).toBe(200);
      const csv = await r.text();
      expect(csv).toContain('2026-11-20'); // the lot, produced on the 20th (aBatch)
      expect(csv).not.toContain('2026-11-21'); // the serial, commissioned on the 21st
    });
  });
});

/** Distributed mode: a domain service claims at the gateway's internal endpoints (IDENTITY_URL) with its service credential. */
describe('identity claims over HTTP (distributed mode)', () => {
  let t: EmbeddedTestApp;

  beforeAll(async () => {
    t = await startEmbeddedApp({ INTERNAL_HTTP: 'true' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('claims GTINs and items in the same table the embedded domains use, and locates them', async () => {
    const agri = new HttpIdentityClaims(t.url, new ServiceCredentials(TEST_JWT_SECRET), 'agri');
    const food = new HttpIdentityClaims(t.url, new ServiceCredentials(TEST_JWT_SECRET), 'food');
    const gtin = '06950000001047';
    expect(await agri.claimGtin({ gtin, orgId: 'org-a', domain: 'agri' })).toEqual({ granted: true, domain: 'agri' });
    expect(await food.claimGtin({ gtin, orgId: 'org-a', domain: 'food' })).toEqual({ granted: true, domain: 'food' });
    expect(await food.claimGtin({ gtin, orgId: 'org-b', domain: 'food' })).toEqual({ granted: false, domain: 'agri' });

    const lot = { gtin, kind: 'lot' as const, value: '2017', orgId: 'org-a' };
    const serial = { ...lot, kind: 'serial' as const };
    expect(await agri.claimItems([{ ...lot, domain: 'agri' }])).toEqual([{ granted: true, domain: 'agri' }]);
    // Again from the same domain (a retried registration): granted; from another domain: refused; a serial "2017" is another item.
    expect(await food.claimItems([{ ...lot, domain: 'food' }, { ...serial, domain: 'food' }, { ...lot, domain: 'agri' }])).toEqual([
      { granted: false, domain: 'agri' },
      { granted: true, domain: 'food' },
      { granted: true, domain: 'agri' },
    ]);
    expect(await agri.locate(gtin, 'lot', '2017')).toEqual({ domain: 'agri' });
    expect(await agri.locate(gtin, 'serial', '2017')).toEqual({ domain: 'food' });
    expect(await agri.locate(gtin, 'lot', 'nope')).toBeUndefined();
    // Many at once (a capture looks up every lot it would create in one round trip), one answer per item in order.
    expect(await agri.locateMany([{ gtin, kind: 'serial', value: '2017' }, { gtin, kind: 'lot', value: 'nope' }, { gtin, kind: 'lot', value: '2017' }])).toEqual([
      { domain: 'food' },
      undefined,
      { domain: 'agri' },
    ]);
    expect(await agri.locateMany([])).toEqual([]);
    const bad = await fetch(`${t.url}/internal/v1/identity/item-locations`, {
      method: 'POST',
      headers: { ...(await new ServiceCredentials(TEST_JWT_SECRET).header('agri')), 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ gtin: '123', kind: 'lot', value: 'x' }] }),
    });
    expect([bad.status, bad.headers.get('content-type')]).toEqual([400, expect.stringContaining('application/problem+json')]);
  });

  it('answers services only, and a gateway that does not answer refuses the registration (503), never lets it through', async () => {
    const anonymous = await t.anonymous.post('/internal/v1/identity/gtin-claims', { gtin: '06950000001047', orgId: 'x', domain: 'agri' });
    expect([anonymous.status, anonymous.body.type]).toEqual([403, 'https://problems.trace.dev/service-only']);
    const down = new HttpIdentityClaims('http://127.0.0.1:9', new ServiceCredentials(TEST_JWT_SECRET), 'agri');
    await expect(down.claimGtin({ gtin: '06950000001047', orgId: 'x', domain: 'agri' })).rejects.toMatchObject({ status: 503, rule: 'identity-unavailable' });
  });
});
