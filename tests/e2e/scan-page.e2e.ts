import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { dropSchemas, eventually, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { chromiumFor, launchChromium } from '../support/browser';
import { aBatch, aProduct, Api } from '../support/api';

const SCREENSHOTS = resolve(__dirname, '../../.data/screenshots');
const SECRET = 'e2e-scan-page-secret-0123456789abcdef';
const GTIN = '09506000134352';
const LOT = 'TOM-2026-11';

const haveChromium = chromiumFor('tests/e2e/scan-page.e2e.ts');

/**
 * What a person sees when a phone opens the QR link of a recalled lot: the
 * real `npm start` process (on the test PostgreSQL), headless Debian
 * Chromium driven by playwright-core, JavaScript off, a phone-sized screen,
 * Chinese and English. Screenshots go to .data/screenshots/.
 */
(haveChromium ? describe : describe.skip)('scan page in a real browser', () => {
  const prefix = uniquePrefix('scanpage');
  let proc: ServiceProcess;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let context: BrowserContext | undefined;
  let url: string;

  beforeAll(async () => {
    proc = ServiceProcess.spawn(
      'embedded',
      'services/embedded/src/main.ts',
      { DATABASE_URL: testDatabaseUrl(), DB_SCHEMA_PREFIX: prefix, JWT_SECRET: SECRET, OUTBOX_POLL_MS: '50', DB_POOL_SIZE: '3' },
      await freePort(),
    );
    await proc.ready(90_000);
    const root = new Api(proc.url);
    const admin = root.as(SECRET, 'platform', 'admin');
    const org = async (name: string, kind: string, locationKind?: string, region?: string) => {
      const o = (await admin.post('/v1/orgs', { name, kind })).body;
      const role = kind === 'regulator' ? 'regulator' : kind === 'inspection_agency' ? 'inspector' : 'operator';
      const api = root.as(SECRET, o.id, role);
      const loc = locationKind ? (await api.post('/v1/locations', { name, kind: locationKind, region })).body.id : undefined;
      return { id: o.id as string, api, loc: loc as string };
    };
    const farm = await org('青山农场 Green Hill Farm', 'producer', 'farm', 'CN-37');
    const market = await org('城南超市 South Market', 'retailer', 'store', 'CN-11');
    const regulator = await org('市场监督管理局 Market Supervision Bureau', 'regulator');
    const lab = await org('省农产品质检中心 Provincial QA Centre', 'inspection_agency');

    const product = await farm.api.post('/v1/agri/products', { gtin: GTIN, name: '樱桃番茄 Cherry tomatoes', category: 'vegetable' });
    if (product.status !== 201) await aProduct(farm.api, 'agri', GTIN, 'vegetable');
    const batch = (await farm.api.post('/v1/agri/batches', aBatch(LOT, farm.loc))).body;
    await farm.api.post(`/v1/agri/batches/${batch.id}/certificate`, {
      commitments: ['no_banned_substances', 'residues_within_limits'], basis: 'self_test', contact: '13800138000', origin: '山东寿光 Shouguang',
    });
    const at = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    expect((await farm.api.post(`/v1/agri/batches/${batch.id}/events`, { bizStep: 'shipping', eventTime: at(30), locationId: farm.loc, toOrgId: market.id })).status).toBe(201);
    expect((await market.api.post(`/v1/agri/batches/${batch.id}/events`, { bizStep: 'receiving', eventTime: at(20), locationId: market.loc })).status).toBe(201);
    await lab.api.post(`/v1/agri/batches/${batch.id}/inspections`, {
      reportNo: 'SD-2026-0042', sampledAt: at(10), agency: '省农产品质检中心 Provincial QA Centre',
      items: [{ name: 'chlorpyrifos', value: 0.05, unit: 'mg/kg', limit: 0.02, result: 'fail' }], conclusion: 'fail',
    });
    const recall = await regulator.api.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: batch.id }], level: 1, reason: '毒死蜱残留超标 Chlorpyrifos residue above the limit' });
    expect(recall.status).toBe(201);
    url = `${proc.url}/01/${GTIN}/10/${LOT}`;
    await eventually(async () => (await root.get(`/01/${GTIN}/10/${LOT}?linkType=gs1:recallStatus`)).body.recall?.active === true, 30_000);

    browser = await launchChromium({
      // A phone, with JavaScript off: the page must not need it.
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      javaScriptEnabled: false,
    });
    context = browser.context;
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await proc?.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  async function open(acceptLanguage: string) {
    const page = await context!.newPage();
    await page.setExtraHTTPHeaders({ 'accept-language': acceptLanguage });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    // The page runs under the Content-Security-Policy every answer carries: nothing on it may be blocked.
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    // Nothing but the page itself (Chromium may ask for a favicon on its own).
    expect(requests.filter((r) => !r.endsWith('/favicon.ico'))).toEqual([url]);
    // Its inline style applied (a blocked <style> would leave the banner unstyled), and no violation reported.
    // (A string: this file compiles without the DOM library.)
    expect(await page.evaluate("getComputedStyle(document.querySelector('[role=alert]') ?? document.body).backgroundColor")).not.toBe('rgba(0, 0, 0, 0)');
    expect(violations).toEqual([]);
    return page;
  }

  it('shows the recall banner first and the journey, in Chinese', async () => {
    const page = await open('zh-CN,zh;q=0.9');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    const banner = page.getByRole('alert');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.innerText()).toContain('已召回');
    expect(await banner.innerText()).toContain('毒死蜱残留超标');
    // "Cannot be missed": at the very top of the screen, fully in view.
    const box = (await banner.boundingBox())!;
    expect(box.y).toBe(0);
    expect(box.height).toBeLessThan(844);

    const journey = page.getByRole('region', { name: '流通环节' });
    await journey.scrollIntoViewIfNeeded();
    const steps = journey.getByRole('listitem');
    expect(await steps.count()).toBe(5); // produced, shipped, received, held (failed sample), recalled
    expect(await steps.nth(1).innerText()).toMatch(/发货[\s\S]*青山农场/);
    expect(await steps.nth(2).innerText()).toMatch(/收货[\s\S]*城南超市/);
    expect(await steps.last().innerText()).toContain('召回');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain('樱桃番茄');
    expect(await page.getByRole('region', { name: '监督抽检' }).innerText()).toContain('不合格');
    // Category and regions in words (the category list's name, GB/T 2260 provinces), never their codes.
    expect(await page.getByRole('region', { name: '状态' }).innerText()).toMatch(/食用农产品 · 蔬菜/);
    expect(await page.getByRole('region', { name: '生产者与产地' }).innerText()).toContain('山东省');
    expect(await steps.nth(2).innerText()).toContain('北京市');
    expect(await page.locator('main').innerText()).not.toMatch(/CN-\d\d|vegetable/);
    await page.screenshot({ path: join(SCREENSHOTS, 'scan-recalled-zh.png'), fullPage: true });
    await page.close();
  });

  it('shows the same in English', async () => {
    const page = await open('en-GB,en;q=0.9');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const banner = page.getByRole('alert');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.innerText()).toContain('RECALLED');
    expect(await banner.innerText()).toContain('Recall level 1');
    const journey = page.getByRole('region', { name: 'Journey' });
    expect(await journey.getByRole('listitem').count()).toBe(5);
    expect(await journey.innerText()).toMatch(/Shipped[\s\S]*Received[\s\S]*Recalled/);
    for (const name of ['Producer and origin', 'Certificates', 'Inspections', 'Status']) {
      expect(await page.getByRole('region', { name }).isVisible()).toBe(true);
    }
    expect(await page.getByRole('region', { name: 'Status' }).innerText()).toContain('Intact');
    expect(await page.getByRole('region', { name: 'Status' }).innerText()).toContain('Farm produce · Vegetables');
    expect(await page.getByRole('region', { name: 'Producer and origin' }).innerText()).toContain('Shandong');
    expect(await journey.innerText()).toContain('Beijing');
    expect(await page.locator('main').innerText()).not.toMatch(/CN-\d\d|· vegetable/);
    await page.screenshot({ path: join(SCREENSHOTS, 'scan-recalled.png'), fullPage: true });
    await page.close();
  });
});
