import QRCode from 'qrcode';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const GTIN = '09506000134352';
const CHROME_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const PUBLIC_BASE_URL = 'https://id.example.cn';

/**
 * The consumer scan as a resolver and a page (embedded mode, in-memory cache):
 * GS1 Digital Link resolution rules, the server-rendered page in two
 * languages, escaping, what must not leak, the batch QR code, and the cache
 * that a recall invalidates for the very next scan.
 */
describe('consumer scan: resolver, page, QR, cache', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let shop: TestOrg;
  let regulator: Api;
  let tomatoes: { id: string };
  const contact = '13800138000';

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${t.url}${path}`, { method, headers });
  const json = async (path: string, headers: Record<string, string> = {}) => {
    const r = await get(path, { accept: 'application/json', ...headers });
    return { status: r.status, headers: r.headers, body: (await r.json()) as any };
  };
  const page = async (path: string, lang = 'zh-CN,zh;q=0.9,en;q=0.8') => {
    const r = await get(path, { accept: CHROME_ACCEPT, 'accept-language': lang });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  beforeAll(async () => {
    t = await startEmbeddedApp({ PUBLIC_BASE_URL });
    farm = await anOrg(t, 'Green Valley Farm', 'producer', ['farm']);
    shop = await anOrg(t, 'Corner Shop', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Market Supervision Bureau', 'regulator', [])).id, 'regulator');
    await aProduct(farm.api, 'agri', GTIN, 'vegetable');
    tomatoes = (await farm.api.post('/v1/agri/batches', aBatch('TOM-7', farm.locations.farm))).body;
    await farm.api.post(`/v1/agri/batches/${tomatoes.id}/certificate`, {
      commitments: ['no_banned_substances'], basis: 'self_test', contact, origin: 'Green Valley',
    });
    for (const [org, body] of [
      [farm, { bizStep: 'shipping', locationId: farm.locations.farm, toOrgId: shop.id }],
      [shop, { bizStep: 'receiving', locationId: shop.locations.store }],
    ] as const) {
      const r = await org.api.post(`/v1/agri/batches/${tomatoes.id}/events`, { eventTime: new Date().toISOString(), ...body });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('resolver', () => {
    it('negotiates: a browser gets the page, an app JSON, */* JSON; nothing acceptable is a 406 problem', async () => {
      const html = await get('/01/09506000134352/10/TOM-7', { accept: CHROME_ACCEPT });
      expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(html.headers.get('vary')).toMatch(/Accept, Accept-Language/);
      const any = await get('/01/09506000134352/10/TOM-7', { accept: '*/*' });
      expect(any.headers.get('content-type')).toMatch(/^application\/json/);
      const refused = await get('/01/09506000134352/10/TOM-7', { accept: 'image/png' });
      expect([refused.status, refused.headers.get('content-type')]).toEqual([406, 'application/problem+json; charset=utf-8']);
    });

    it('answers HEAD without a body and OPTIONS with CORS, and allows any origin', async () => {
      const head = await get('/01/09506000134352/10/TOM-7', { accept: 'application/json' }, 'HEAD');
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      const options = await fetch(`${t.url}/01/09506000134352/10/TOM-7`, {
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' },
      });
      expect(options.status).toBe(204);
      expect(options.headers.get('access-control-allow-origin')).toBe('*');
      expect(options.headers.get('access-control-allow-methods')).toMatch(/GET.*HEAD.*OPTIONS/);
      const cors = await get('/01/09506000134352/10/TOM-7', { accept: 'application/json', origin: 'https://shop.example' });
      expect(cors.headers.get('access-control-allow-origin')).toBe('*');
      expect(cors.headers.get('access-control-expose-headers')).toMatch(/Link/);
    });

    it('selects a view by linkType and gives the linkset (RFC 9264) for linkType=all', async () => {
      expect((await json('/01/09506000134352/10/TOM-7?linkType=gs1:recallStatus')).body).toEqual({ recall: { active: false } });
      const certs = (await json('/01/09506000134352/10/TOM-7?linkType=gs1:certificationInfo')).body;
      expect(Object.keys(certs)).toEqual(['certificates']);
      expect(certs.certificates).toEqual([expect.objectContaining({ kind: 'agri_compliance' })]);
      const trace = (await json('/01/09506000134352/10/TOM-7?linkType=https%3A%2F%2Fgs1.org%2Fvoc%2Ftraceability')).body;
      expect(Object.keys(trace).sort()).toEqual(['batch', 'chain', 'history', 'madeFrom', 'origin']);
      expect(trace.history.map((h: any) => h.bizStep)).toEqual(['commissioning', 'shipping', 'receiving']);
      // An unknown link type gets the default link, as GS1 resolvers do.
      expect((await json('/01/09506000134352/10/TOM-7?linkType=gs1:somethingElse')).body).toHaveProperty('product');

      const all = await get('/01/09506000134352/10/TOM-7?linkType=all', { accept: 'application/linkset+json, application/json;q=0.5' });
      expect(all.headers.get('content-type')).toMatch(/^application\/linkset\+json/);
      const anchor = `${PUBLIC_BASE_URL}/01/09506000134352/10/TOM-7`;
      expect(await all.json()).toEqual({
        linkset: [
          {
            anchor,
            'https://gs1.org/voc/defaultLink': [expect.objectContaining({ href: `${anchor}?linkType=gs1:pip`, type: 'text/html' })],
            'https://gs1.org/voc/pip': [expect.objectContaining({ href: `${anchor}?linkType=gs1:pip`, hreflang: ['zh-CN', 'en'] })],
            'https://gs1.org/voc/recallStatus': [expect.objectContaining({ href: `${anchor}?linkType=gs1:recallStatus` })],
            'https://gs1.org/voc/certificationInfo': [expect.objectContaining({ href: `${anchor}?linkType=gs1:certificationInfo` })],
            'https://gs1.org/voc/traceability': [expect.objectContaining({ href: `${anchor}?linkType=gs1:traceability` })],
          },
        ],
      });
      expect(all.headers.get('link')).toBe(`<${anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"`);
    });

    it('reads short GTINs and query-string attributes as the standard says', async () => {
      // GTIN-13 is the GTIN-14 without its leading zero.
      expect((await json('/01/9506000134352/10/TOM-7')).body.batch).toMatchObject({ gtin: GTIN, lot: 'TOM-7' });
      expect((await json('/01/09506000134352/10/TOM-7/21/SN-1?17=261231&11=261120')).body.batch).toMatchObject({ lot: 'TOM-7', serial: 'SN-1' });
      expect((await json('/01/09506000134352/10/TOM-7?17=261200')).status).toBe(200); // day 00: end of month
    });

    it('refuses malformed links with a readable 400 problem, and unknown lots with 404', async () => {
      const cases: [string, RegExp][] = [
        ['/01/09506000134353/10/TOM-7', /check digit/],
        ['/01/09506000134/10/TOM-7', /GTIN must have 8, 12, 13 or 14 digits/],
        ['/01/09506000134352/21/S/10/TOM-7', /order 22, 10, 21/],
        ['/01/09506000134352/10/TOM-7?17=261332', /17/],
        ['/01/09506000134352/10/TOM-7?10=X', /belongs in the path/],
        ['/01/09506000134352/10/TOM-7?99=X&99=Y', /more than once/],
        ['/01/09506000134352/10/%E0%A4%A', /decode|percent-encoding/],
        ['/01/09506000134352/10/TOM-7/', /empty segment/],
        ['/01/09506000134352', /lot/],
      ];
      for (const [path, reason] of cases) {
        const r = await json(path, { 'accept-language': 'en' });
        expect({ path, status: r.status, type: r.headers.get('content-type') }).toEqual({ path, status: 400, type: expect.stringContaining('application/problem+json') });
        expect({ path, detail: r.body.detail }).toEqual({ path, detail: expect.stringMatching(reason) });
      }
      const unknown = await json('/01/09506000134352/10/NOPE');
      expect([unknown.status, unknown.body.status]).toEqual([404, 404]);
    });

    it('answers its problems in Chinese unless English is asked for (the scan speaks to consumers in China)', async () => {
      const zh = await json('/01/09506000134353/10/TOM-7');
      expect([zh.status, zh.headers.get('content-language'), zh.body.title]).toEqual([400, 'zh-CN', '请求有误']);
      expect(zh.body.detail).toMatch(/^不是有效的 GS1 数字链接：.*check digit/);
      expect((await json('/01/09506000134352/10/NOPE')).body).toMatchObject({ title: '未找到', detail: '未找到该批次' });
      expect((await json('/01/09506000134353/10/TOM-7', { 'accept-language': 'en-GB,en;q=0.9' })).body.title).toBe('Bad Request');
      expect((await json('/01/09506000134353/10/TOM-7?lang=en')).body.title).toBe('Bad Request');
      // The rest of the API stays English unless asked.
      expect((await json('/v1/agri/batches/not-a-uuid')).body.title).not.toMatch(/[\u4e00-\u9fff]/);
    });
  });

  describe('page', () => {
    it('tells a person with a browser, in their language, that a lot is unknown or a code unreadable (same status codes)', async () => {
      const unknown = await page('/01/09506000134352/10/%3Cb%3ENOPE');
      expect([unknown.status, unknown.headers.get('content-type'), unknown.headers.get('content-language'), unknown.headers.get('cache-control')]).toEqual([
        404,
        'text/html; charset=utf-8',
        'zh-CN',
        'no-cache',
      ]);
      expect(unknown.text).toContain('<h1>未查到该产品的记录</h1>');
      expect(unknown.text).toContain('商品条码 09506000134352 · 批号 &lt;b&gt;NOPE');
      expect(unknown.text).not.toContain('<b>NOPE');
      expect(unknown.text).toContain('href="/01/09506000134352/10/%3Cb%3ENOPE?lang=en"');
      const english = await page('/01/09506000134352/10/NOPE', 'en-GB,en;q=0.9');
      expect([english.status, english.headers.get('content-language')]).toEqual([404, 'en']);
      expect(english.text).toContain('<h1>No record of this product</h1>');
      expect(english.text).toContain('ask the seller');

      const unreadable = await page('/01/09506000134353/10/TOM-7');
      expect([unreadable.status, unreadable.headers.get('content-type')]).toEqual([400, 'text/html; charset=utf-8']);
      expect(unreadable.text).toContain('<h1>无法识别该编码</h1>');
      // Programs still get the problem.
      expect((await json('/01/09506000134352/10/NOPE')).headers.get('content-type')).toContain('application/problem+json');
    });

    it('shows product, producer, origin, certificates and journey in Chinese by default and in English on request', async () => {
      const zh = await page('/01/09506000134352/10/TOM-7');
      expect(zh.status).toBe(200);
      expect(zh.headers.get('content-language')).toBe('zh-CN');
      expect(zh.text).toContain('<html lang="zh-CN">');
      for (const s of ['流通环节', '生产者与产地', 'Green Valley Farm', '承诺达标合格证', '发货', '收货', 'Corner Shop store', '记录完整性']) expect(zh.text).toContain(s);
      const en = await page('/01/09506000134352/10/TOM-7', 'en-GB,en;q=0.9');
      expect(en.text).toContain('<html lang="en">');
      for (const s of ['Journey', 'Producer and origin', 'Shipped', 'Received', 'Commitment-to-compliance certificate', 'Intact: all 3 records verified']) expect(en.text).toContain(s);
      expect((await page('/01/09506000134352/10/TOM-7?lang=en')).text).toContain('<html lang="en">');
    });

    it('needs no script and no other request: no <script>, no external src or stylesheet', async () => {
      const { text } = await page('/01/09506000134352/10/TOM-7');
      expect(text).not.toMatch(/<script|<link\s|<img|src=|url\(/i);
      expect(text).toMatch(/<main>[\s\S]*<\/main>/);
      expect(text).toMatch(/<h1>/);
    });

    it('renders a lot named <script> and a product named with markup as text', async () => {
      const evil = '<script>';
      await farm.api.post('/v1/agri/products', { gtin: '04012345000016', name: '<img src=x onerror=alert(1)>', category: 'vegetable' });
      const b = await farm.api.post('/v1/agri/batches', { ...aBatch(evil, farm.locations.farm), gtin: '04012345000016' });
      expect(b.status).toBe(201);
      const { status, text } = await page(`/01/04012345000016/10/${encodeURIComponent(evil)}`);
      expect(status).toBe(200);
      expect(text).not.toContain('<script>');
      expect(text).not.toContain('<img');
      expect(text).toContain('&lt;script&gt;');
      expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });
  });

  describe('privacy', () => {
    it('shows no internal ids, no contact phone, no quantities or free-form attributes, in JSON or on the page', async () => {
      const { body } = await json('/01/09506000134352/10/TOM-7');
      const { text } = await page('/01/09506000134352/10/TOM-7');
      const ids = [farm.id, shop.id, tomatoes.id, farm.locations.farm, shop.locations.store] as string[];
      for (const out of [JSON.stringify(body), text]) {
        for (const id of ids) expect(out).not.toContain(id);
        expect(out).not.toContain(contact);
        expect(out).not.toMatch(/ownerOrgId|orgId|locationId|attributes|quantity/);
      }
    });
  });

  describe('QR code', () => {
    const qr = async (api: Api | undefined, query: string, accept?: string) =>
      fetch(`${t.url}/v1/agri/batches/${tomatoes.id}/qr${query}`, { headers: { ...((await api?.headers()) ?? {}), ...(accept ? { accept } : {}) } });

    it('encodes the absolute Digital Link, as PNG or SVG by ?format= or Accept', async () => {
      const link = `${PUBLIC_BASE_URL}/01/09506000134352/10/TOM-7`;
      const png = await qr(farm.api, '?format=png');
      expect([png.status, png.headers.get('content-type'), png.headers.get('x-digital-link')]).toEqual([200, 'image/png', link]);
      expect(Buffer.from(await png.arrayBuffer()).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const svg = await qr(farm.api, '', 'image/svg+xml');
      expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      // Same symbol as encoding the link ourselves: the image carries exactly that URL.
      expect(await svg.text()).toBe(await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'Q', margin: 4 }));
      expect((await qr(farm.api, '?format=gif')).status).toBe(400);
      expect((await qr(farm.api, '', 'application/json')).status).toBe(406);
    });

    it('is for who may read the batch: holders, inspectors, regulators; not other operators or the public', async () => {
      expect((await qr(shop.api, '')).status).toBe(200); // holds it now
      expect((await qr(regulator, '?format=svg')).status).toBe(200);
      const outsider = await anOrg(t, 'Someone Else', 'retailer', ['store']);
      expect((await qr(outsider.api, '')).status).toBe(404);
      expect((await qr(undefined, '')).status).toBe(401);
    });
  });

  describe('cache', () => {
    it('serves repeated scans from the cache; a recall shows on the very next scan after it is announced', async () => {
      const path = '/01/09506000134352/10/TOM-7';
      await json(path);
      await json(path);
      const cached = await json(path);
      expect(cached.headers.get('x-cache')).toBe('hit');
      expect(cached.body.recall).toEqual({ active: false });

      const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: tomatoes.id }], level: 1, reason: 'Chlorpyrifos above the limit' });
      expect(recall.status).toBe(201);
      // The moment the gateway has received the batch's "recalled" chain event, the cache must already be invalid.
      const [announced] = await eventually(async () => {
        const rows = await t.query<{ event_id: string }>(
          `SELECT o.event_id FROM ${t.prefix}agri.outbox o
            WHERE o.message_key = $1 AND o.topic = 'trace.event.v1' AND o.created_at > now() - interval '1 minute'
              AND EXISTS (SELECT 1 FROM ${t.prefix}agri.trace_events e WHERE e.batch_id::text = $1 AND e.disposition = 'recalled')
            ORDER BY o.id DESC LIMIT 1`,
          [tomatoes.id],
        );
        return rows.length ? rows : undefined;
      });
      await eventually(async () => (await t.query(`SELECT 1 FROM ${t.prefix}gateway.inbox WHERE event_id = $1`, [announced.event_id])).length > 0);

      const next = await json(path);
      expect(next.headers.get('x-cache')).toBe('miss');
      expect(next.body.recall).toEqual({ active: true, level: 1, reason: 'Chlorpyrifos above the limit' });
      expect(next.body.batch.status).toBe('recalled');
      // And the recalled answer is cached in turn.
      expect((await json(path)).headers.get('x-cache')).toBe('hit');

      const { text } = await page(path, 'en');
      const banner = text.indexOf('role="alert"');
      expect(banner).toBeGreaterThan(0);
      expect(banner).toBeLessThan(text.indexOf('<main>'));
      expect(text).toContain('RECALLED');
      expect(text).toContain('Chlorpyrifos above the limit');
    });
  });
});
