import { request as httpRequest } from 'node:http';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * Issue 13, item 5: the smaller holes. Public look-ups are rate limited; no
 * link is built from an arbitrary Host header; every answer carries the
 * security headers; /metrics and /docs can be closed; a location is for its
 * organisation, its trading partners on a shared batch, inspectors and regulators.
 */
const GTIN = '09506000134352';
const ok = (r: { status: number; body: any }, status = 201) => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

/** A request with a Host header of our choosing (fetch will not send one). */
const withHost = (base: string, path: string, host: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest(new URL(base), { path, method: 'GET', headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });

async function org(t: EmbeddedTestApp, name: string, kind: string, locationKind?: string) {
  const id = ok(await t.as('platform', 'admin').post('/v1/orgs', { name, kind })).id as string;
  const api = t.as(id, 'operator');
  const loc = locationKind ? (ok(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id as string) : '';
  return { id, api, loc };
}

describe('trust boundaries (embedded, default settings)', () => {
  let t: EmbeddedTestApp;
  let farm: { id: string; api: Api; loc: string };
  let batchId: string;
  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await org(t, 'Host Farm', 'producer', 'farm');
    await aProduct(farm.api, 'agri', GTIN, 'grain');
    batchId = ok(await farm.api.post('/v1/agri/batches', aBatch('HOST-1', farm.loc))).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('an arbitrary Host header ends up in no link: not the Link header, not the linkset, not the QR code', async () => {
    const scan = await withHost(t.url, `/01/${GTIN}/10/HOST-1`, 'evil.example', { accept: 'application/json' });
    expect(scan.status).toBe(200);
    expect(String(scan.headers.link)).not.toContain('evil.example');
    expect(String(scan.headers.link)).toContain(`/01/${GTIN}/10/HOST-1`);
    const linkset = await withHost(t.url, `/01/${GTIN}/10/HOST-1?linkType=all`, 'evil.example', { accept: 'application/linkset+json' });
    expect(linkset.status).toBe(200);
    expect(linkset.body).not.toContain('evil.example');
    const qr = await withHost(t.url, `/v1/agri/batches/${batchId}/qr?format=svg`, 'evil.example', await farm.api.headers());
    expect(qr.status).toBe(200);
    expect(String(qr.headers['x-digital-link'])).not.toContain('evil.example');
    // This machine's own name still makes absolute links (development, npm start).
    const local = await withHost(t.url, `/01/${GTIN}/10/HOST-1`, `localhost:${new URL(t.url).port}`, { accept: 'application/json' });
    expect(String(local.headers.link)).toContain(`http://localhost:${new URL(t.url).port}/01/${GTIN}/10/HOST-1`);
  });

  it('every answer carries the security headers: JSON, problems, the scan page, the metrics', async () => {
    const answers = [
      await fetch(`${t.url}/health/ready`),
      await fetch(`${t.url}/v1/orgs/x`),
      await fetch(`${t.url}/no/such/route`),
      await fetch(`${t.url}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
      await fetch(`${t.url}/01/${GTIN}/10/HOST-1`, { headers: { accept: 'text/html' } }),
      await fetch(`${t.url}/metrics`),
    ];
    for (const r of answers) {
      const h = Object.fromEntries(['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy'].map((k) => [k, r.headers.get(k)]));
      expect({ url: r.url, h }).toEqual({
        url: r.url,
        h: {
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'content-security-policy': expect.stringContaining("default-src 'none'"),
        },
      });
    }
    // The scan page needs no script: the policy allows none.
    expect(answers[4].headers.get('content-type')).toContain('text/html');
    expect(answers[4].headers.get('content-security-policy')).not.toContain('script-src');
  });

  it('a location is for its organisation, its trading partners on a shared batch, inspectors and regulators', async () => {
    const shop = await org(t, 'Partner Shop', 'retailer', 'store');
    const stranger = await org(t, 'Stranger Shop', 'retailer', 'store');
    expect((await shop.api.get(`/v1/locations/${farm.loc}`)).status).toBe(404);
    expect((await stranger.api.get(`/v1/locations/${farm.loc}`)).status).toBe(404);
    expect((await farm.api.get(`/v1/locations/${farm.loc}`)).status).toBe(200);
    for (const role of ['inspector', 'regulator'] as const) {
      expect((await t.as('some-agency', role).get(`/v1/locations/${farm.loc}`)).status).toBe(200);
    }
    // The farm ships a batch to the shop: from then on they are trading partners, both ways; the stranger still is not.
    const batch = ok(await farm.api.post('/v1/agri/batches', aBatch('HOST-2', farm.loc)));
    const now = () => new Date().toISOString();
    ok(await farm.api.post(`/v1/agri/batches/${batch.id}/events`, { bizStep: 'shipping', eventTime: now(), locationId: farm.loc, toOrgId: shop.id }));
    await eventually(async () => (await shop.api.get(`/v1/locations/${farm.loc}`)).status === 200, 10_000);
    expect((await farm.api.get(`/v1/locations/${shop.loc}`)).status).toBe(200);
    expect((await stranger.api.get(`/v1/locations/${farm.loc}`)).status).toBe(404);
  });
});

describe('trust boundaries (embedded, production settings)', () => {
  let t: EmbeddedTestApp;
  const METRICS_TOKEN = 'scraper-token-0123456789';
  beforeAll(async () => {
    t = await startEmbeddedApp({ LOOKUP_RATE_LIMIT: '5', METRICS_TOKEN, DOCS_PUBLIC: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('certificate look-ups and drug code checks are rate limited per address (429 with Retry-After)', async () => {
    const certificates = [];
    for (let i = 0; i < 6; i++) certificates.push(await t.anonymous.get(`/v1/certificates/NO-SUCH-${i}`));
    expect(certificates.slice(0, 5).map((r) => r.status)).not.toContain(429);
    expect(certificates[5].status).toBe(429);
    expect(Number(certificates[5].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // One budget for the address's look-ups: the drug check is over it too.
    const verify = await t.anonymous.post('/v1/drug/verify', { code: '81234567890123456789' });
    expect(verify.status).toBe(429);
    expect(verify.body.type).toBe('https://problems.trace.dev/rate-limited');
  });

  it('METRICS_TOKEN closes /metrics to everyone without it, client tokens included', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: await t.as('platform', 'admin').headers() })).status).toBe(401);
    const scraped = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('http_request_duration_seconds');
  });

  it('DOCS_PUBLIC=false: the OpenAPI document and UI answer admins only', async () => {
    for (const path of ['/docs-json', '/docs']) {
      expect((await fetch(`${t.url}${path}`)).status).toBe(401);
      expect((await fetch(`${t.url}${path}`, { headers: await t.as('org-1', 'operator').headers() })).status).toBe(403);
    }
    const doc = await fetch(`${t.url}/docs-json`, { headers: await t.as('platform', 'admin').headers() });
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty(['/v1/orgs/{orgId}/clients/{clientId}/rotate']);
  });
});
