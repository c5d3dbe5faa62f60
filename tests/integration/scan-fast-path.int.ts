import { eventually } from '@trace/testing';
import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const GTIN = '09506000134352';
const LINK = `/01/${GTIN}/10/FAST-1`;
const HTML = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

/**
 * A cached scan is answered from pre-rendered bytes ahead of the middleware
 * chain (ScanFastPath): the same bytes and headers as the controller's answer
 * (security headers included), a strong ETag, 304 for a client that has them,
 * a new ETag once an event changes the lot, and the scan rate limit as before.
 */
describe('consumer scan: cached answers from ready bytes', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let batchId: string;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });
  /** Scans until the answer comes from the cache (the first scan learns the lot's batches, the next ones cache). */
  const untilHit = (path: string, headers: Record<string, string>) =>
    eventually(async () => {
      const r = await get(path, headers);
      expect(r.headers.get('x-cache')).toBe('hit');
      return r;
    });

  beforeAll(async () => {
    t = await startEmbeddedApp({ SCAN_RATE_LIMIT: '100' });
    farm = await anOrg(t, 'Fast Farm', 'producer', ['farm']);
    await aProduct(farm.api, 'agri', GTIN, 'vegetable');
    const b = await farm.api.post('/v1/agri/batches', aBatch('FAST-1', farm.locations.farm));
    expect(b.status).toBe(201);
    batchId = b.body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a hit with the bytes and headers of a miss, a strong ETag, and 304 to If-None-Match', async () => {
    const miss = await get(LINK, { accept: 'application/json' });
    expect([miss.status, miss.headers.get('x-cache')]).toEqual([200, 'miss']);
    const missBody = await miss.text();
    const hit = await untilHit(LINK, { accept: 'application/json' });
    expect(await hit.text()).toBe(missBody);
    for (const name of ['content-type', 'vary', 'cache-control', 'link', 'access-control-expose-headers', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy']) {
      expect([name, hit.headers.get(name)]).toEqual([name, miss.headers.get(name)]);
    }
    expect(hit.headers.get('access-control-allow-origin')).toBe('*');
    expect(hit.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const etag = hit.headers.get('etag') as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/); // strong: byte for byte the same answer

    const again = await get(LINK, { accept: 'application/json', 'if-none-match': etag });
    expect([again.status, await again.text(), again.headers.get('etag')]).toEqual([304, '', etag]);
    expect(again.headers.get('content-security-policy')).toBe(miss.headers.get('content-security-policy'));
    const other = await get(LINK, { accept: 'application/json', 'if-none-match': '"something-else"' });
    expect(other.status).toBe(200);
  });

  it('renders the page per language once, the same page the controller renders', async () => {
    for (const lang of ['zh', 'en'] as const) {
      const headers = { accept: HTML, 'accept-language': lang === 'zh' ? 'zh-CN,zh;q=0.9' : 'en-GB,en;q=0.9' };
      const first = await get(LINK, headers);
      const hit = await untilHit(LINK, headers);
      const page = await hit.text();
      expect(hit.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(hit.headers.get('content-language')).toBe(lang === 'zh' ? 'zh-CN' : 'en');
      expect(page).toContain(`<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"`);
      if (first.headers.get('x-cache') === 'miss') expect(page).toBe(await first.text());
      // ?lang= wins over Accept-Language, as on the page's language switch.
      const switched = await untilHit(`${LINK}?lang=${lang === 'zh' ? 'en' : 'zh'}`, headers);
      expect(switched.headers.get('content-language')).toBe(lang === 'zh' ? 'en' : 'zh-CN');
    }
  });

  it('gives a new ETag and the new answer once an event changes the lot', async () => {
    const before = await untilHit(LINK, { accept: 'application/json' });
    const etag = before.headers.get('etag') as string;
    const event = await farm.api.post(`/v1/agri/batches/${batchId}/events`, { bizStep: 'inspecting', eventTime: new Date().toISOString(), locationId: farm.locations.farm });
    expect(event.status).toBe(201);
    // The client's copy is stale from the event on: a full answer, then a new tag for the new bytes.
    const changed = await eventually(async () => {
      const r = await get(LINK, { accept: 'application/json', 'if-none-match': etag });
      expect(r.status).toBe(200);
      return r.text();
    });
    expect(changed).not.toBe(await before.text());
    const after = await untilHit(LINK, { accept: 'application/json' });
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(await after.text()).toBe(changed);
  });

  it('counts hits against the scan rate limit', async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 150 && !refused; i++) {
      const r = await get(LINK, { accept: 'application/json' });
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(200);
    }
    expect(refused?.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('answers /health/live ahead of the chain, with the security headers', async () => {
    const r = await get('/health/live');
    expect([r.status, await r.text()]).toEqual([200, '{"status":"ok"}']);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('x-correlation-id')).toBeTruthy();
  });
});
