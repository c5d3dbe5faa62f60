import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { gatewayHeardRecall } from '../support/scan';
import { anOrg } from '../support/world';

const GTIN = '09506000134352';
const LIMIT = 5;

/**
 * Two gateway instances of one deployment (same schemas, same Redis), the
 * way distributed mode runs several behind a load balancer: they share one
 * rate-limit budget per client address and one scan cache, and a recall
 * handled by either instance invalidates what the other serves.
 */
describe('consumer scan across two instances sharing Redis', () => {
  let a: EmbeddedTestApp;
  let b: EmbeddedTestApp;

  beforeAll(async () => {
    const redis = process.env.REDIS_URL;
    if (!redis) throw new Error('REDIS_URL is required: this test is about the state two instances share in Redis');
    // One trusted proxy: the tests speak for several clients through X-Forwarded-For.
    const settings = { REDIS_URL: redis, SCAN_RATE_LIMIT: String(LIMIT), SCAN_RATE_WINDOW_SECONDS: '3600', TRUST_PROXY_HOPS: '1' };
    a = await startEmbeddedApp(settings);
    b = await startEmbeddedApp({ ...settings, DB_SCHEMA_PREFIX: a.prefix });
  });
  afterAll(async () => {
    await b?.app.close();
    await a?.close();
  });

  const scan = (t: EmbeddedTestApp, client: string, path = '/01/09506000134352/10/SHARED-1') =>
    fetch(`${t.url}${path}`, { headers: { accept: 'application/json', 'x-forwarded-for': client } });

  it('counts one budget per client address across both instances: 429 problem with Retry-After when spent', async () => {
    const client = '203.0.113.7';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await scan(i % 2 ? b : a, client, '/01/09506000134352/10/NONE')).status);
    expect(statuses).toEqual(Array(LIMIT).fill(404)); // counted even when the answer is a 404: probing costs budget
    for (const t of [a, b]) {
      const r = await scan(t, client);
      expect(r.status).toBe(429);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(await r.json()).toMatchObject({ status: 429, type: 'https://problems.trace.dev/rate-limited', retryAfter });
    }
    // Another address has its own budget.
    expect((await scan(b, '203.0.113.8', '/01/09506000134352/10/NONE')).status).toBe(404);
  });

  it('a recall handled by one instance invalidates the answer the other one cached', async () => {
    const farm = await anOrg(a, 'Shared Farm', 'producer', ['farm']);
    const regulator = a.as((await anOrg(a, 'Bureau', 'regulator', [])).id, 'regulator');
    await aProduct(farm.api, 'agri', GTIN, 'grain');
    const batch = (await farm.api.post('/v1/agri/batches', aBatch('SHARED-1', farm.locations.farm))).body;
    const client = '198.51.100.1';
    expect((await scan(b, client)).headers.get('x-cache')).toBe('miss');
    await scan(a, client);
    const cached = await scan(b, client);
    expect(cached.headers.get('x-cache')).toBe('hit');
    expect(((await cached.json()) as any).recall).toEqual({ active: false });

    const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: batch.id }], level: 2, reason: 'Aflatoxin B1 above the limit' });
    expect(recall.status).toBe(201);
    // Whichever instance consumed the batch's "recalled" chain event, both must now answer the recall.
    await gatewayHeardRecall(a.query, a.prefix, batch.id, 15_000);
    for (const t of [b, a]) {
      const r = await scan(t, client);
      expect(((await r.json()) as any).recall).toEqual({ active: true, level: 2, reason: 'Aflatoxin B1 above the limit' });
    }
  });
});
