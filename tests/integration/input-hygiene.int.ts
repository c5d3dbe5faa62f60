import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const VALIDATION = 'https://problems.trace.dev/validation';

/** Input that cannot be misread or reach the database raw (issue 18 item 6, issue 13 item 3). */
describe('input hygiene (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  const batchOf = (lot: string) => aBatch(lot, A.locations.farm);
  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Hygiene farm');
    await aProduct(A.api);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('hostile strings are a 400 naming the field, before any handler', () => {
    const hostile = ['NUL\u0000inside', 'lone \uD800 high', 'lone \uDC00 low', 'x'.repeat(70_000)];

    it('in a JSON body at any depth, also on the unauthenticated token endpoint', async () => {
      for (const s of hostile) {
        const token = await t.anonymous.post('/v1/auth/token', { clientId: s, clientSecret: 'whatever' });
        expect({ s: s.slice(0, 20), status: token.status, type: token.body.type }).toEqual({ s: s.slice(0, 20), status: 400, type: VALIDATION });
        expect(token.body.errors).toEqual([{ field: 'clientId', message: expect.any(String) }]);

        const lot = await A.api.post('/v1/agri/batches', batchOf(s));
        expect(lot.status).toBe(400);
        const attr = await A.api.post('/v1/agri/batches', { ...batchOf('H1'), attributes: { deep: [{ note: s }] } });
        expect({ status: attr.status, errors: attr.body.errors }).toEqual({ status: 400, errors: [{ field: 'attributes.deep.0.note', message: expect.any(String) }] });
        const product = await A.api.post('/v1/agri/products', { gtin: '09506000134376', name: s, category: 'vegetable' });
        expect(product.status).toBe(400);
        const org = await t.as('platform', 'admin').post('/v1/orgs', { name: s, kind: 'producer' });
        expect(org.status).toBe(400);
        const location = await A.api.post('/v1/locations', { name: 'Shed', kind: 'farm', address: s });
        expect(location.status).toBe(400);
      }
      // Nothing of it was stored.
      const [{ n }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.batches WHERE lot = 'H1'`);
      expect(n).toBe(0);
    });

    it('as an object key, in raw JSON escapes the client did not normalise', async () => {
      const raw = JSON.stringify(batchOf('H2')).replace('"attributes"', '"x"').replace('{', '{"attributes":{"k\\u0000ey":1},');
      const r = await A.api.post('/v1/agri/batches', raw);
      expect(r.status).toBe(400);
      expect(r.body.type).toBe(VALIDATION);
      const lone = JSON.stringify(batchOf('H3')).replace('"H3"', '"H\\ud83d3"');
      expect((await A.api.post('/v1/agri/batches', lone)).status).toBe(400);
    });

    it('in path and query parameters', async () => {
      expect((await t.anonymous.get('/01/09506000134352/10/A%00B')).status).toBe(400);
      expect((await A.api.get('/v1/agri/batches/%00')).status).toBe(400);
      expect((await t.anonymous.get('/v1/certificates/AB%00CD')).status).toBe(400);
      expect((await t.as('gov', 'regulator').get('/v1/exports/fsma204?gtin=%00')).status).toBe(400);
      // These reached PostgreSQL raw and answered 500 before.
      expect((await t.as('platform', 'admin').get('/v1/orgs/%00')).status).toBe(400);
      const query = await A.api.get('/v1/epcis/events?EQ_bizStep=%00');
      expect([query.status, query.body.errors]).toEqual([400, [{ field: 'query.EQ_bizStep', message: expect.stringMatching(/NUL/) }]]);
    });
  });

  describe('a missing or wrong-typed nested object is a 400 with its path, never a 5xx', () => {
    it('on batch registration, events and inspections', async () => {
      const input = { domain: 'agri', batchId: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d' };
      const cases: [string, unknown, string][] = [
        ['/v1/agri/batches', { ...batchOf('N1'), quantity: undefined }, 'quantity'],
        ['/v1/agri/batches', { ...batchOf('N2'), quantity: null }, 'quantity'],
        ['/v1/agri/batches', { ...batchOf('N3'), quantity: 12 }, 'quantity'],
        ['/v1/agri/batches', { ...batchOf('N4'), quantity: [] }, 'quantity'],
        ['/v1/agri/batches', { ...batchOf('N5'), quantity: 'ten kg' }, 'quantity'],
        ['/v1/agri/batches', { ...batchOf('N6'), inputs: [input] }, 'inputs.0.quantity'],
        ['/v1/agri/batches', { ...batchOf('N7'), inputs: [{ ...input, quantity: null }] }, 'inputs.0.quantity'],
        ['/v1/agri/batches', { ...batchOf('N8'), inputs: [null] }, 'inputs.0'],
        ['/v1/agri/batches', { ...batchOf('N9'), inputs: ['x'] }, 'inputs.0'],
        ['/v1/agri/batches', { ...batchOf('N13'), inputs: [[]] }, 'inputs'],
        ['/v1/agri/batches', { ...batchOf('N10'), inputs: {} }, 'inputs'],
        ['/v1/agri/batches', { ...batchOf('N11'), documents: [null] }, 'documents.0'],
        ['/v1/agri/batches', { ...batchOf('N12'), attributes: [] }, 'attributes'],
      ];
      for (const [path, body, field] of cases) {
        const r = await A.api.post(path, body);
        expect({ field, status: r.status, type: r.body.type }).toEqual({ field, status: 400, type: VALIDATION });
        expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const batch = await A.api.post('/v1/agri/batches', batchOf('N20'));
      expect(batch.status).toBe(201);
      const event = { bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm };
      const eventCases: [unknown, string][] = [
        [{ ...event, quantity: [] }, 'quantity'],
        [{ ...event, quantity: 5 }, 'quantity'],
        [{ ...event, sensors: [null] }, 'sensors.0'],
        [{ ...event, sensors: [{ type: 'temperature', value: 4, unit: 'Cel' }] }, 'sensors.0.time'],
        [{ ...event, documents: 'po' }, 'documents'],
      ];
      for (const [body, field] of eventCases) {
        const r = await A.api.post(`/v1/agri/batches/${batch.body.id}/events`, body);
        expect({ field, status: r.status, type: r.body.type }).toEqual({ field, status: 400, type: VALIDATION });
        expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const inspector = t.as('agency-1', 'inspector');
      const sample = { reportNo: 'R-N-1', sampledAt: '2026-11-21T08:00:00+08:00', agency: 'Lab', conclusion: 'pass' };
      for (const items of [undefined, null, [null], ['x'], {}]) {
        const r = await inspector.post(`/v1/agri/batches/${batch.body.id}/inspections`, { ...sample, items });
        expect({ items, status: r.status }).toEqual({ items, status: 400 });
      }
    });
  });

  describe('product categories are a closed list per domain', () => {
    it('GET /v1/{domain}/categories lists codes, zh/en names and the rules each brings', async () => {
      const agri = await t.anonymous.get('/v1/agri/categories');
      expect(agri.status).toBe(200);
      const codes = agri.body.items.map((c: { code: string }) => c.code);
      expect(codes).toEqual(expect.arrayContaining(['vegetable', 'fruit', 'tea', 'livestock', 'poultry', 'egg', 'aquatic', 'grain']));
      expect(agri.body.items.find((c: { code: string }) => c.code === 'vegetable')).toEqual({
        code: 'vegetable',
        name: { zh: '蔬菜', en: 'Vegetables' },
        rules: ['certificate-required'],
      });
      expect(agri.body.items.find((c: { code: string }) => c.code === 'grain').rules).toEqual([]);
      const drug = await t.anonymous.get('/v1/drug/categories');
      expect(drug.body.items.find((c: { code: string }) => c.code === 'vaccine').rules).toContain('batch-release-required');
      const goods = await t.anonymous.get('/v1/goods/categories');
      expect(goods.body.items.find((c: { code: string }) => c.code === 'toy').rules).toContain('ccc-required');
      for (const domain of ['food', 'material']) {
        const r = await t.anonymous.get(`/v1/${domain}/categories`);
        expect({ domain, status: r.status, some: r.body.items.length > 0 }).toEqual({ domain, status: 200, some: true });
        for (const c of r.body.items) expect(c).toEqual({ code: expect.stringMatching(/^[a-z_]+$/), name: { zh: expect.any(String), en: expect.any(String) }, rules: expect.any(Array) });
      }
      const docs = await t.anonymous.get('/docs-json');
      expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/agri/categories', '/v1/goods/categories']));
      // A list as every list: one page here, paged on request, unknown parameters refused.
      expect(agri.body.nextCursor).toBeNull();
      const first = await t.anonymous.get('/v1/agri/categories?limit=5');
      expect([first.body.items.length, first.body.nextCursor]).toEqual([5, codes[4]]);
      expect(first.headers.get('link')).toBe(`</v1/agri/categories?limit=5&cursor=${codes[4]}>; rel="next"`);
      const second = await t.anonymous.get(`/v1/agri/categories?limit=5&cursor=${codes[4]}`);
      expect(second.body.items.map((c: { code: string }) => c.code)).toEqual(codes.slice(5, 10));
      for (const q of ['?limit=0', '?limit=501', '?limit=x', '?cursor=nope', '?category=vegetable']) {
        expect({ q, status: (await t.anonymous.get(`/v1/agri/categories${q}`)).status }).toEqual({ q, status: 400 });
      }
    });

    it('a product of any other category is a 400 naming the allowed codes, so no rule is dodged by spelling', async () => {
      const r = await A.api.post('/v1/agri/products', { gtin: '09506000134383', name: 'Tomatoes', category: 'vegetables' });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('https://problems.trace.dev/category');
      expect(r.body.detail).toContain('vegetable, fruit, tea');
      expect(r.body.errors).toEqual([{ field: 'category', message: expect.stringContaining('grain') }]);
      expect((await A.api.post('/v1/food/products', { gtin: '09506000134383', name: 'Pills', category: 'vaccine' })).status).toBe(400);
      expect((await A.api.post('/v1/agri/products', { gtin: '09506000134383', name: 'Tomatoes', category: 'vegetable' })).status).toBe(201);
    });
  });

  describe('times carry their offset', () => {
    const noOffset = ['2026-12-05 07:00', '2026-01-01T08:00:00', '2026-01-01', '2026-01-01T08:00:00.000', '2026-02-30T08:00:00+08:00'];

    it('a time without an offset is a 400 on every write that takes one', async () => {
      const batch = await A.api.post('/v1/agri/batches', batchOf('T0'));
      expect(batch.status).toBe(201);
      const inspector = t.as('agency-1', 'inspector');
      for (const time of noOffset) {
        const writes: [string, unknown, string, typeof A.api][] = [
          ['/v1/agri/batches', { ...batchOf('T1'), producedAt: time }, 'producedAt', A.api],
          ['/v1/agri/batches', { ...batchOf('T2'), expiresAt: time }, 'expiresAt', A.api],
          [`/v1/agri/batches/${batch.body.id}/events`, { bizStep: 'storing', eventTime: time, locationId: A.locations.farm }, 'eventTime', A.api],
          [
            `/v1/agri/batches/${batch.body.id}/events`,
            { bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm, sensors: [{ type: 'temperature', value: 4, unit: 'Cel', time }] },
            'sensors.0.time',
            A.api,
          ],
          [
            `/v1/agri/batches/${batch.body.id}/inspections`,
            { reportNo: 'R-T-1', sampledAt: time, agency: 'Lab', items: [{ name: 'pb', value: 0.1, unit: 'mg/kg', limit: 0.2, result: 'pass' }], conclusion: 'pass' },
            'sampledAt',
            inspector,
          ],
          [
            '/v1/incidents',
            { domain: 'agri', gtin: '09506000134352', severity: 'other', occurredAt: time, awareAt: '2026-11-24T15:00:00+08:00', description: 'x' },
            'occurredAt',
            A.api,
          ],
        ];
        for (const [path, body, field, api] of writes) {
          const r = await api.post(path, body);
          expect({ time, field, status: r.status, fields: r.body.errors?.map((e: { field: string }) => e.field) }).toEqual({
            time,
            field,
            status: 400,
            fields: expect.arrayContaining([field]),
          });
        }
      }
      const r = await A.api.post('/v1/agri/batches', { ...batchOf('T3'), producedAt: '2026-12-05 07:00' });
      expect(r.body.detail).toMatch(/producedAt has no UTC offset/);
    });

    it('the offset given is kept and given back: API, scan JSON, EPCIS', async () => {
      const produced = '2026-11-20T06:30:00+08:00';
      const expires = '2027-05-20T00:00:00-05:00';
      const created = await A.api.post('/v1/agri/batches', { ...batchOf('T10'), producedAt: produced, expiresAt: expires });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ producedAt: produced, expiresAt: expires });
      const id = created.body.id;
      // 07:00 in Beijing is 23:00 UTC the day before: stored as that instant, not as 07:00 UTC.
      const event = await A.api.post(`/v1/agri/batches/${id}/events`, {
        bizStep: 'storing',
        eventTime: '2026-12-05T07:00:00+08:00',
        locationId: A.locations.farm,
        sensors: [{ type: 'temperature', value: 4, unit: 'Cel', time: '2026-12-05T06:59:00+08:00' }],
      });
      expect(event.status).toBe(201);
      expect(event.body.eventTime).toBe('2026-12-05T07:00:00+08:00');
      const [stored] = await t.query(`SELECT event_time, event_time_offset FROM ${t.prefix}agri.trace_events WHERE id = $1`, [event.body.id]);
      expect({ at: stored.event_time.toISOString(), offset: stored.event_time_offset }).toEqual({ at: '2026-12-04T23:00:00.000Z', offset: '+08:00' });

      expect((await A.api.get(`/v1/agri/batches/${id}`)).body).toMatchObject({ producedAt: produced, expiresAt: expires });
      const chain = (await A.api.get(`/v1/agri/batches/${id}/events`)).body;
      expect(chain.map((e: { eventTime: string }) => e.eventTime)).toEqual([produced, '2026-12-05T07:00:00+08:00']);
      expect(chain[1].sensors[0].time).toBe('2026-12-05T06:59:00+08:00');
      expect((await A.api.get(`/v1/agri/batches/${id}/verify`)).body.valid).toBe(true);

      const inspector = t.as('agency-1', 'inspector');
      const sample = await inspector.post(`/v1/agri/batches/${id}/inspections`, {
        reportNo: 'R-T-10',
        sampledAt: '2026-12-05T09:15:00+05:30',
        agency: 'Lab',
        items: [{ name: 'pb', value: 0.1, unit: 'mg/kg', limit: 0.2, result: 'pass' }],
        conclusion: 'pass',
      });
      expect(sample.status).toBe(201);
      expect((await A.api.get(`/v1/agri/batches/${id}/inspections`)).body[0].sampledAt).toBe('2026-12-05T09:15:00+05:30');

      const scan = await t.anonymous.get('/01/09506000134352/10/T10');
      expect(scan.status).toBe(200);
      expect(scan.body.history.map((h: { eventTime: string }) => h.eventTime)).toEqual(expect.arrayContaining([produced, '2026-12-05T07:00:00+08:00']));
      expect(JSON.stringify(scan.body)).toContain('2026-12-05T09:15:00+05:30');

      const epcis = await A.api.get(`/v1/agri/batches/${id}/epcis`);
      expect(epcis.status).toBe(200);
      const events = epcis.body.epcisBody.eventList;
      expect(events.map((e: { eventTime: string; eventTimeZoneOffset: string }) => [e.eventTime, e.eventTimeZoneOffset])).toEqual([
        [produced, '+08:00'],
        ['2026-12-05T07:00:00+08:00', '+08:00'],
        expect.anything(),
      ]);

      const incident = await A.api.post('/v1/incidents', {
        domain: 'agri',
        gtin: '09506000134352',
        lot: 'T10',
        severity: 'other',
        occurredAt: '2026-12-05T10:00:00+08:00',
        awareAt: '2026-12-05T11:30:00+09:00',
        description: 'Wilted leaves',
      });
      expect(incident.status).toBe(201);
      const listed = (await A.api.get(`/v1/incidents/${incident.body.id}`)).body;
      expect({ occurredAt: listed.occurredAt, awareAt: listed.awareAt }).toEqual({ occurredAt: '2026-12-05T10:00:00+08:00', awareAt: '2026-12-05T11:30:00+09:00' });
    });

    it('the offset is covered by the chain hash: rewriting it in the database breaks verify', async () => {
      const created = await A.api.post('/v1/agri/batches', { ...batchOf('T11'), producedAt: '2026-11-20T06:30:00+08:00' });
      const id = created.body.id;
      const event = await A.api.post(`/v1/agri/batches/${id}/events`, { bizStep: 'storing', eventTime: '2026-12-05T07:00:00+08:00', locationId: A.locations.farm });
      expect((await A.api.get(`/v1/agri/batches/${id}/verify`)).body.valid).toBe(true);
      const events = `"${t.prefix}agri".trace_events`;
      await t.query(`ALTER TABLE ${events} DISABLE TRIGGER trace_events_no_rewrite`);
      try {
        // The same instant shown at another offset: the time a reader sees changes, the instant does not.
        await t.query(`UPDATE ${events} SET event_time_offset = '+00:00' WHERE id = $1`, [event.body.id]);
      } finally {
        await t.query(`ALTER TABLE ${events} ENABLE TRIGGER trace_events_no_rewrite`);
      }
      const verify = (await A.api.get(`/v1/agri/batches/${id}/verify`)).body;
      expect({ valid: verify.valid, brokenAt: verify.brokenAt }).toEqual({ valid: false, brokenAt: { seq: 2, reason: 'hash_mismatch' } });
    });
  });
});
