import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** The consumer scan (JSON): GS1 Digital Link in, a batch's story across domains out. */
describe('consumer scan JSON (GS1 Digital Link)', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let maker: TestOrg;
  let tomatoes: { id: string };
  const scan = (path: string, accept = 'application/json') => fetch(`${t.url}${path}`, { headers: { accept } });

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Green Valley Farm', 'producer', ['farm']);
    maker = await anOrg(t, 'Sauce Works', 'processor', ['factory']);
    await aProduct(farm.api, 'agri', '09506000134352', 'vegetable');
    await aProduct(maker.api, 'food', '04012345000016', 'sauce');
    tomatoes = (await farm.api.post('/v1/agri/batches', aBatch('TOM/2026-1', farm.locations.farm))).body;
    // Vegetables ship with their commitment-to-compliance certificate (agri rule).
    await farm.api.post(`/v1/agri/batches/${tomatoes.id}/certificate`, {
      commitments: ['no_banned_substances'], basis: 'self_test', contact: '13800138000', origin: 'Green Valley',
    });
    await farm.api.post(`/v1/agri/batches/${tomatoes.id}/events`, {
      bizStep: 'shipping', eventTime: new Date().toISOString(), locationId: farm.locations.farm, toOrgId: maker.id,
    });
    await maker.api.post(`/v1/agri/batches/${tomatoes.id}/events`, {
      bizStep: 'receiving', eventTime: new Date().toISOString(), locationId: maker.locations.factory,
    });
    const sauce = await maker.api.post('/v1/food/batches', {
      ...aBatch('SAUCE-9', maker.locations.factory),
      gtin: '04012345000016',
      quantity: { value: 200, unit: 'jar' },
      inputs: [{ domain: 'agri', batchId: tomatoes.id, quantity: { value: 100, unit: 'kg' } }],
    });
    expect(sauce.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows a food batch with its product, origin, valid chain, history and the agri lot it was made from', async () => {
    const r = await scan('/01/04012345000016/10/SAUCE-9');
    expect(r.status).toBe(200);
    const body: any = await r.json();
    expect(body).toMatchObject({
      product: { gtin: '04012345000016', category: 'sauce' },
      batch: { domain: 'food', lot: 'SAUCE-9', status: 'active' },
      origin: { location: { name: 'Sauce Works factory', kind: 'factory' }, producer: { name: 'Sauce Works' } },
      recall: { active: false },
      chain: { valid: true, length: 1 },
    });
    expect(body.history[0]).toMatchObject({ bizStep: 'transforming', location: { name: 'Sauce Works factory' } });
    expect(body.madeFrom).toEqual([
      expect.objectContaining({
        domain: 'agri',
        gtin: '09506000134352',
        lot: 'TOM/2026-1',
        quantityUsed: { value: 100, unit: 'kg' },
        origin: expect.objectContaining({ location: expect.objectContaining({ name: 'Green Valley Farm farm', kind: 'farm' }) }),
        chain: { valid: true, length: 4 },
      }),
    ]);
    // No stock quantities or private documents leak to the public.
    expect(body.batch.quantity).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/documents|sensors/);
  });

  it("shows the agri lot's certificate and its supervision samples", async () => {
    const inspector = t.as('agency', 'inspector');
    const sampled = await inspector.post(`/v1/agri/batches/${tomatoes.id}/inspections`, {
      reportNo: 'SCAN-R1',
      sampledAt: new Date().toISOString(),
      agency: 'County QA Lab',
      items: [{ name: 'chlorpyrifos', value: 0.01, unit: 'mg/kg', limit: 0.02, result: 'pass' }],
      conclusion: 'pass',
    });
    expect(sampled.status).toBe(201);
    const body: any = await (await scan('/01/09506000134352/10/TOM%2F2026-1')).json();
    expect(body.certificates).toEqual([
      { kind: 'agri_compliance', number: expect.stringMatching(/^AC\d{8}-/), issuedAt: expect.any(String), verifyLink: expect.stringMatching(/^\/v1\/certificates\//) },
    ]);
    expect(body.inspections).toEqual([
      { reportNo: 'SCAN-R1', agency: 'County QA Lab', sampledAt: expect.any(String), conclusion: 'pass', retest: false },
    ]);
    // The certificate's verification link works without a token.
    expect((await fetch(`${t.url}${body.certificates[0].verifyLink}`)).status).toBe(200);
  });

  it('accepts GTIN-13 in the link, percent-encoded lots and a serial', async () => {
    const r = await scan('/01/9506000134352/10/TOM%2F2026-1/21/ABC123');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ batch: { domain: 'agri', lot: 'TOM/2026-1', serial: 'ABC123' } });
  });

  it('answers 400 for a malformed link or a bad check digit, 404 for an unknown batch, without a token', async () => {
    for (const path of ['/01/09506000134353/10/L1', '/01/123/10/L1', '/01/09506000134352/21/S/10/L1', '/01/09506000134352']) {
      const r = await scan(path);
      expect({ path, status: r.status, type: r.headers.get('content-type') }).toEqual({
        path,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
      });
    }
    const unknown = await scan('/01/09506000134352/10/NOPE');
    expect(unknown.status).toBe(404);
  });
});
