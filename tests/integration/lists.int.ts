import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
const now = () => new Date().toISOString();

type Page = { status: number; body: { items: any[]; nextCursor: string | null }; headers: Headers };

/** Every page of a list, following nextCursor, checking that Link rel="next" says the same. */
async function allPages(api: Api, path: string): Promise<{ pages: number[]; items: any[] }> {
  const pages: number[] = [];
  const items: any[] = [];
  let next: string | null = path;
  while (next) {
    const r = (await api.get(next)) as Page;
    if (r.status !== 200) throw new Error(`${next}: ${r.status} ${JSON.stringify(r.body)}`);
    pages.push(r.body.items.length);
    items.push(...r.body.items);
    const link = r.headers.get('link');
    if (r.body.nextCursor === null) {
      expect(link).toBeNull();
      next = null;
    } else {
      const url = new URL(/^<([^>]+)>; rel="next"$/.exec(link ?? '')?.[1] ?? 'http://x/none', 'http://x');
      expect(url.searchParams.get('cursor')).toBe(r.body.nextCursor);
      next = `${url.pathname}${url.search}`;
    }
    if (pages.length > 50) throw new Error('no end to the pages');
  }
  return { pages, items };
}

/**
 * Lists and search (API.md "Lists"): `{ items, nextCursor }`, `?limit` and
 * `?cursor`, Link rel="next", filters, an unknown parameter a 400, and who
 * sees what, for every collection of the public API, in the embedded app.
 */
describe('lists and search', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg; // a farm: the agri batches
  let B: TestOrg; // another producer: food batches, none of A's
  let R: TestOrg; // a retailer A ships to
  let regulator: Api;
  let inspector: Api;
  let admin: Api;
  const agri: { id: string; lot: string }[] = [];
  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const ids = (items: { id?: string; batchId?: string }[]) => items.map((i) => i.id ?? i.batchId);
  const byId = (list: string[]) => [...list].sort();

  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'List Farm', 'producer', ['farm']);
    B = await anOrg(t, 'Other Producer', 'producer', ['factory']);
    R = await anOrg(t, 'List Shop', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'List Bureau', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'List Lab', 'inspection_agency', [])).id, 'inspector');
    admin = t.as('platform', 'admin');
    await aProduct(A.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(B.api, 'food', FOOD_GTIN, 'noodles');
    for (let i = 1; i <= 7; i++) {
      const lot = `LIST-A-${i}`;
      // Produced a day apart: the producedFrom/producedTo filters pick some.
      const body = ok(await A.api.post('/v1/agri/batches', { ...aBatch(lot, A.locations.farm), producedAt: `2026-11-0${i}T08:00:00+08:00` }));
      agri.push({ id: body.id, lot });
    }
    for (const lot of ['LIST-B-1', 'LIST-B-2']) ok(await B.api.post('/v1/food/batches', { ...aBatch(lot, B.locations.factory), gtin: FOOD_GTIN }));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('pages a domain list over several pages with no duplicates or gaps, in id order, Link rel="next" on every page but the last', async () => {
    for (const who of [A.api, regulator]) {
      const { pages, items } = await allPages(who, `/v1/agri/batches?limit=3&gtin=${AGRI_GTIN}`);
      expect(pages).toEqual([3, 3, 1]);
      expect(ids(items)).toEqual(byId(agri.map((b) => b.id)));
    }
    const { items } = await allPages(A.api, '/v1/agri/batches?limit=2');
    expect(ids(items)).toEqual(byId(agri.map((b) => b.id)));
    expect(items.find((b: { lot: string }) => b.lot === 'LIST-A-7')).toMatchObject({
      domain: 'agri', gtin: AGRI_GTIN, status: 'active', quantity: { value: 1200, unit: 'kg' }, remaining: { value: 1200, unit: 'kg' },
    });
    const first = (await A.api.get('/v1/agri/batches')) as Page;
    expect([first.body.items.length, first.body.nextCursor]).toEqual([7, null]);
  });

  it('filters batches by gtin, lot, status and producedFrom/To; any other parameter, a bad value or a forged cursor is a 400', async () => {
    const list = async (qs: string) => ids(((await A.api.get(`/v1/agri/batches?${qs}`)) as Page).body.items);
    expect(await list('lot=LIST-A-2')).toEqual([agri[1].id]);
    expect(await list('gtin=9506000134352')).toHaveLength(7); // GTIN-13, matched as GTIN-14
    expect(await list('status=held')).toEqual([]);
    expect(await list(`producedFrom=${encodeURIComponent('2026-11-03T00:00:00+08:00')}&producedTo=${encodeURIComponent('2026-11-05T23:00:00+08:00')}`)).toEqual(
      byId([agri[4].id, agri[3].id, agri[2].id]),
    );
    for (const [qs, field, type] of [
      ['colour=red', 'colour', 'unknown-parameter'],
      ['status=lost', 'status', 'invalid-parameter'],
      ['gtin=09506000134353', 'gtin', 'invalid-parameter'],
      ['producedFrom=2026-11-03', 'producedFrom', 'invalid-parameter'],
      ['limit=0', 'limit', 'invalid-parameter'],
      ['limit=501', 'limit', 'invalid-parameter'],
      ['cursor=not-a-cursor', 'cursor', 'invalid-parameter'],
      [`cursor=${Buffer.from(JSON.stringify(['x'])).toString('base64url')}`, 'cursor', 'invalid-parameter'],
      ['lot=a&lot=b', 'lot', 'invalid-parameter'],
    ]) {
      const r = await A.api.get(`/v1/agri/batches?${qs}`);
      expect([qs, r.status, r.headers.get('content-type'), r.body.type]).toEqual([qs, 400, expect.stringContaining('application/problem+json'), problem(type)]);
      expect(r.body.errors).toEqual([expect.objectContaining({ field })]);
    }
    expect((await A.api.get('/v1/agri/batches?limit=500')).status).toBe(200);
  });

  it('shows an operator only what its organisation holds or held; inspectors and regulators everything', async () => {
    expect(ids(((await B.api.get('/v1/agri/batches')) as Page).body.items)).toEqual([]);
    // Filtered by GTIN or lot the list walks that filter's batches instead, and still shows none of A's.
    expect(ids(((await B.api.get(`/v1/agri/batches?gtin=${AGRI_GTIN}`)) as Page).body.items)).toEqual([]);
    expect(ids(((await B.api.get('/v1/agri/batches?lot=LIST-A-1')) as Page).body.items)).toEqual([]);
    expect(((await B.api.get('/v1/food/batches')) as Page).body.items.map((b: { lot: string }) => b.lot).sort()).toEqual(['LIST-B-1', 'LIST-B-2']);
    expect(((await A.api.get('/v1/food/batches')) as Page).body.items).toEqual([]);
    for (const who of [regulator, inspector]) {
      expect(ids(((await who.get('/v1/agri/batches?gtin=09506000134352')) as Page).body.items)).toHaveLength(7);
    }
    // Products are the catalogue: anyone signed in reads them.
    const products = (await B.api.get(`/v1/agri/products?gtin=${AGRI_GTIN}`)) as Page;
    expect(products.body).toEqual({ items: [expect.objectContaining({ gtin: AGRI_GTIN, ownerOrgId: A.id, category: 'grain' })], nextCursor: null });
    expect((await B.api.get('/v1/agri/products?name=x')).status).toBe(400);
    expect((await t.anonymous.get('/v1/agri/batches')).status).toBe(401);
  });

  it('search finds batches of every domain by GTIN, lot or Digital Link, from lineage, for those who may see them', async () => {
    const search = async (api: Api, q: string) => {
      const r = (await api.get(`/v1/search?q=${encodeURIComponent(q)}`)) as Page;
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return r.body.items;
    };
    // Lineage follows the domains' events: wait until it has all nine batches.
    await eventually(async () => (await search(regulator, AGRI_GTIN)).length === 7 && (await search(regulator, FOOD_GTIN)).length === 2, 10_000);
    expect(await search(regulator, 'LIST-A-3')).toEqual([
      expect.objectContaining({ domain: 'agri', batchId: agri[2].id, gtin: AGRI_GTIN, lot: 'LIST-A-3', status: 'active', ownerOrgId: A.id }),
    ]);
    expect(ids(await search(inspector, `https://id.example.com/01/${AGRI_GTIN}/10/LIST-A-4`))).toEqual([agri[3].id]);
    expect(ids(await search(A.api, '/01/9506000134352/10/LIST-A-5'))).toEqual([agri[4].id]);
    expect(await search(B.api, 'LIST-A-3')).toEqual([]);
    expect(await search(B.api, AGRI_GTIN)).toEqual([]);
    expect((await search(B.api, FOOD_GTIN)).map((b: { domain: string }) => b.domain)).toEqual(['food', 'food']);
    const { pages, items } = await allPages(regulator, `/v1/search?q=${AGRI_GTIN}&limit=2`);
    expect(pages).toEqual([2, 2, 2, 1]);
    expect(ids(items)).toEqual(agri.map((b) => b.id).reverse());
    expect((await regulator.get('/v1/search')).status).toBe(400);
    expect((await regulator.get('/v1/search?q=x&domain=agri')).body.type).toBe(problem('unknown-parameter'));
    expect((await regulator.get(`/v1/search?q=${encodeURIComponent('/01/09506000134353/10/X')}`)).status).toBe(400);
  });

  it('incoming shipments: the receiver sees what is in transit to it, across domains, until it records receiving', async () => {
    const [lot] = [agri[0]];
    const shipped = ok(
      await A.api.post(`/v1/agri/batches/${lot.id}/events`, {
        bizStep: 'shipping',
        eventTime: now(),
        locationId: A.locations.farm,
        toOrgId: R.id,
        quantity: { value: 400, unit: 'kg' },
      }),
    );
    const incoming = async (api: Api) => ((await api.get('/v1/shipments/incoming')) as Page).body.items;
    await eventually(async () => (await incoming(R.api)).length === 1, 10_000);
    expect(await incoming(R.api)).toEqual([
      { domain: 'agri', batchId: lot.id, gtin: AGRI_GTIN, lot: lot.lot, quantity: { value: 400, unit: 'kg' }, fromOrgId: A.id, shippedAt: expect.any(String), eventId: shipped.id },
    ]);
    expect(await incoming(B.api)).toEqual([]);
    expect(await incoming(A.api)).toEqual([]);
    expect((await regulator.get('/v1/shipments/incoming')).status).toBe(403);
    expect((await R.api.get('/v1/shipments/incoming?from=x')).status).toBe(400);
    // What is on its way to R is R's to see, in the domain list and in search.
    expect(ids(((await R.api.get('/v1/agri/batches')) as Page).body.items)).toEqual([lot.id]);
    expect(ids(((await R.api.get(`/v1/agri/batches?gtin=${AGRI_GTIN}`)) as Page).body.items)).toEqual([lot.id]);
    expect(ids(((await R.api.get(`/v1/search?q=${lot.lot}`)) as Page).body.items)).toEqual([lot.id]);

    ok(await R.api.post(`/v1/agri/batches/${lot.id}/events`, { bizStep: 'receiving', eventTime: now(), locationId: R.locations.store }));
    await eventually(async () => (await incoming(R.api)).length === 0, 10_000);
    expect(ids(((await R.api.get(`/v1/agri/batches?holderOrgId=${R.id}`)) as Page).body.items)).toEqual([lot.id]);
    // The farm still holds the other 800 kg of it, and all of the six others.
    expect(ids(((await A.api.get(`/v1/agri/batches?holderOrgId=${A.id}`)) as Page).body.items)).toHaveLength(7);
  });

  it('recalls: regulators and inspectors see all, an operator those in whose scope it holds something; status filter', async () => {
    const recall = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: agri[1].id }], level: 2, reason: 'Aflatoxin above the limit' }));
    const recalls = async (api: Api, qs = '') => {
      const r = (await api.get(`/v1/recalls${qs}`)) as Page;
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return ids(r.body.items);
    };
    for (const who of [regulator, inspector, A.api]) expect(await recalls(who, '?status=active')).toEqual([recall.id]);
    expect(await recalls(B.api)).toEqual([]);
    expect(await recalls(R.api)).toEqual([]);
    expect(await recalls(regulator, '?status=closed')).toEqual([]);
    expect(((await regulator.get('/v1/recalls')) as Page).body).toMatchObject({
      items: [{ id: recall.id, status: 'active', level: 2, reason: 'Aflatoxin above the limit', batchCount: 1 }],
      nextCursor: null,
    });
    expect((await regulator.get('/v1/recalls?status=open')).status).toBe(400);
    expect((await regulator.get('/v1/recalls?level=2')).status).toBe(400);
    ok(await regulator.post(`/v1/recalls/${recall.id}/close`, {}), 200);
    expect(await recalls(A.api, '?status=closed')).toEqual([recall.id]);
    expect(await recalls(A.api, '?status=active')).toEqual([]);
  });

  it('incidents: an operator lists those it reported or must report; cases and incidents take only their parameters', async () => {
    const opened = ok(
      await R.api.post('/v1/incidents', {
        domain: 'agri',
        gtin: AGRI_GTIN,
        lot: agri[0].lot,
        severity: 'minor_injury',
        occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
        awareAt: now(),
        description: 'A stone in a bag of wheat',
      }),
    );
    const incidents = async (api: Api, qs = '') => {
      const r = (await api.get(`/v1/incidents${qs}`)) as Page;
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return ids(r.body.items);
    };
    expect(await incidents(R.api)).toEqual([opened.id]); // reported it
    expect(await incidents(A.api, '?status=awaiting_report')).toEqual([opened.id]); // must report it
    expect(await incidents(A.api, '?status=reported')).toEqual([]);
    expect(await incidents(B.api)).toEqual([]);
    expect(await incidents(regulator, '?limit=500')).toContain(opened.id);
    expect((await A.api.get('/v1/incidents?severity=minor_injury')).body.type).toBe(problem('unknown-parameter'));
    expect((await inspector.get('/v1/incidents')).status).toBe(403);

    const cases = (await regulator.get('/v1/cases')) as Page;
    expect(cases.body).toEqual({ items: [], nextCursor: null });
    expect((await regulator.get('/v1/cases?batchId=x')).body.type).toBe(problem('unknown-parameter'));
  });

  it('locations (an operator its own) and organisations (admins and regulators, by kind)', async () => {
    const locations = async (api: Api) => ((await api.get('/v1/locations')) as Page).body.items.map((l: { id: string }) => l.id);
    expect(await locations(A.api)).toEqual([A.locations.farm]);
    expect(await locations(R.api)).toEqual([R.locations.store]);
    expect(await locations(regulator)).toEqual(expect.arrayContaining([A.locations.farm, B.locations.factory, R.locations.store]));
    expect((await A.api.get('/v1/locations?orgId=x')).status).toBe(400);

    const retailers = (await allPages(regulator, '/v1/orgs?kind=retailer&limit=1')).items;
    expect(retailers).toEqual([{ id: R.id, name: 'List Shop', kind: 'retailer' }]);
    const everyone = (await allPages(admin, '/v1/orgs?limit=2')).items.map((o: { id: string }) => o.id);
    expect(everyone).toEqual(expect.arrayContaining([A.id, B.id, R.id]));
    expect(new Set(everyone).size).toBe(everyone.length);
    expect((await A.api.get('/v1/orgs')).status).toBe(403);
    expect((await admin.get('/v1/orgs?kind=alien')).status).toBe(400);
  });

  it('documents every list: its query parameters and the { items, nextCursor } response', async () => {
    const doc = (await t.anonymous.get('/docs-json')).body;
    const lists: Record<string, string[]> = {
      '/v1/agri/batches': ['gtin', 'lot', 'status', 'holderOrgId', 'producedFrom', 'producedTo', 'limit', 'cursor'],
      '/v1/food/products': ['gtin', 'limit', 'cursor'],
      '/v1/search': ['q', 'limit', 'cursor'],
      '/v1/shipments/incoming': ['limit', 'cursor'],
      '/v1/recalls': ['status', 'limit', 'cursor'],
      '/v1/incidents': ['status', 'limit', 'cursor'],
      '/v1/cases': ['status', 'limit', 'cursor'],
      '/v1/locations': ['limit', 'cursor'],
      '/v1/orgs': ['kind', 'limit', 'cursor'],
    };
    for (const [path, params] of Object.entries(lists)) {
      const get = doc.paths[path]?.get;
      expect([path, (get?.parameters ?? []).filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort()]).toEqual([path, [...params].sort()]);
      expect([path, get.responses['200'].content['application/json'].schema.required]).toEqual([path, ['items', 'nextCursor']]);
      expect(get.responses['400']).toBeDefined();
    }
    expect(doc.paths['/v1/agri/batches'].get.responses['200'].content['application/json'].schema.properties.items.items.$ref).toMatch(/BatchDoc$/);
  });

  // After the others: it adds 12,000 food batches of B (written straight to its tables, as the benchmark does).
  it("an operator's filtered list walks what it holds a chunk at a time, bounded per page, with no duplicates or gaps", async () => {
    const WALK_GTIN = '04012345000023';
    await t.query(
      `INSERT INTO ${t.prefix}food.batches (id, domain, gtin, lot, quantity_value, quantity_unit, quantity_initial, owner_org_id, holder_org_id,
                                            location_id, status, produced_at, chain_seq, chain_head)
       SELECT gen_random_uuid(), 'food', $1, 'WALK-' || i, 10, 'kg', 10, $2, $2, $3,
              CASE WHEN i % 1000 = 7 THEN 'held' ELSE 'active' END, now(), 1, repeat('0', 64)
         FROM generate_series(0, 11999) i`,
      [WALK_GTIN, B.id, B.locations.factory],
    );
    await t.query(
      `INSERT INTO ${t.prefix}food.batch_custody (batch_id, org_id) SELECT id, owner_org_id FROM ${t.prefix}food.batches WHERE gtin = $1`,
      [WALK_GTIN],
    );
    const held = (await t.query<{ id: string }>(`SELECT id::text FROM ${t.prefix}food.batches WHERE gtin = $1 AND status = 'held' ORDER BY id`, [WALK_GTIN])).map((r) => r.id);
    expect(held).toHaveLength(12);
    // 12 held among 12,002: pages of up to 5, some short (a walk stops after 10,000 batches), all of them once, in order.
    const walked = await allPages(B.api, '/v1/food/batches?status=held&limit=5');
    expect(ids(walked.items)).toEqual(held);
    // Nothing matches: the first page stops after 10,000 batches, empty but with a next page; the next one ends it.
    const first = (await B.api.get('/v1/food/batches?status=recalled')) as Page;
    expect([first.body.items, typeof first.body.nextCursor]).toEqual([[], 'string']);
    const rest = (await B.api.get(`/v1/food/batches?status=recalled&cursor=${first.body.nextCursor}`)) as Page;
    expect(rest.body).toEqual({ items: [], nextCursor: null });
    // By GTIN the walk goes over that GTIN's batches: all 12,000 in pages of 500.
    const byGtin = await allPages(B.api, `/v1/food/batches?gtin=${WALK_GTIN}&limit=500`);
    expect(byGtin.pages).toHaveLength(24);
    expect(new Set(ids(byGtin.items)).size).toBe(12_000);
    expect(ids(((await A.api.get(`/v1/food/batches?gtin=${WALK_GTIN}`)) as Page).body.items)).toEqual([]);
  });

  // Last: it adds a batch (a serialised item) that the counts above do not expect.
  it('search by Digital Link tells a lot from a serial with the same text; text alone finds both', async () => {
    const serialKey = `https://id.gs1.org/01/${AGRI_GTIN}/21/LIST-A-3`;
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await A.api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify({
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
              epcList: [serialKey],
              bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
            },
          ],
        },
      }),
    });
    expect(r.status).toBe(202);
    const search = async (q: string) => ((await regulator.get(`/v1/search?q=${encodeURIComponent(q)}`)) as Page).body.items;
    const serial = await eventually(async () => (await search(serialKey)).find((b: { itemKind: string }) => b.itemKind === 'serial'), 30_000);
    expect(serial).toMatchObject({ domain: 'agri', lot: 'LIST-A-3', itemKind: 'serial', digitalLink: `/01/${AGRI_GTIN}/21/LIST-A-3` });
    expect(await search(serialKey)).toHaveLength(1);
    expect(await search(`/01/${AGRI_GTIN}/10/LIST-A-3`)).toEqual([expect.objectContaining({ batchId: agri[2].id, itemKind: 'lot', digitalLink: `/01/${AGRI_GTIN}/10/LIST-A-3` })]);
    expect(ids(await search('LIST-A-3')).sort()).toEqual([agri[2].id, serial.batchId].sort());
  });
});
