import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { chromiumFor, launchChromium } from '../support/browser';
import { aBatch, Api } from '../support/api';

const OUT = resolve(__dirname, '../../.data/screenshots');
const SECRET = 'e2e-certificate-page-secret-0123456789ab';
const GTIN = '09506000134352';
const LOT = 'CERT-2026-12';

const haveChromium = chromiumFor('tests/e2e/certificate-page.e2e.ts');

/** Pages of a PDF Chromium wrote (it writes each page object uncompressed, `/Type /Page`). */
const pagesOf = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-z])/g) ?? []).length;

/**
 * A consumer follows the certificate link on the scan page and gets the
 * certificate (承诺达标合格证) as a page; a producer prints it. The real
 * `npm start` process, headless Debian Chromium, JavaScript off.
 */
(haveChromium ? describe : describe.skip)('certificate page in a real browser', () => {
  const prefix = uniquePrefix('certpage');
  let proc: ServiceProcess;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let context: BrowserContext | undefined;
  let root: Api;
  let number: string;

  beforeAll(async () => {
    proc = ServiceProcess.spawn(
      'embedded',
      'services/embedded/src/main.ts',
      { DATABASE_URL: testDatabaseUrl(), DB_SCHEMA_PREFIX: prefix, JWT_SECRET: SECRET, OUTBOX_POLL_MS: '50', DB_POOL_SIZE: '3' },
      await freePort(),
    );
    await proc.ready(90_000);
    root = new Api(proc.url);
    const admin = root.as(SECRET, 'platform', 'admin');
    const org = (await admin.post('/v1/orgs', { name: '青山农场 Green Hill Farm', kind: 'producer' })).body;
    const farm = root.as(SECRET, org.id, 'operator');
    const loc = (await farm.post('/v1/locations', { name: '青山农场一号棚', kind: 'farm', region: 'CN-37' })).body.id;
    expect((await farm.post('/v1/agri/products', { gtin: GTIN, name: '樱桃番茄', category: 'vegetable' })).status).toBe(201);
    const batch = (await farm.post('/v1/agri/batches', aBatch(LOT, loc))).body;
    const issued = await farm.post(`/v1/agri/batches/${batch.id}/certificate`, {
      commitments: ['no_banned_substances', 'residues_within_limits'],
      basis: 'self_test',
      contact: '13800138000',
      origin: '山东寿光',
    });
    expect(issued.status).toBe(201);
    number = issued.body.number;

    browser = await launchChromium({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
    });
    context = browser.context;
    mkdirSync(OUT, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await proc?.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  it('a program gets the certificate as JSON from the same link, without internal ids', async () => {
    const r = await root.get(`/v1/certificates/${number}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toMatchObject({ number, status: 'valid', product: { name: '樱桃番茄' }, contact: '13800138000', basis: 'self_test' });
    expect(r.body.batch.id).toBeUndefined();
    expect(r.headers.get('vary')).toContain('Accept');
    // An unknown number: problem+json for a program, a page (same status) for a browser.
    const unknown = `/v1/certificates/AC20261205-ZZZZZZZZ`;
    expect((await root.get(unknown)).headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const page = await fetch(`${proc.url}${unknown}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('未找到该合格证');
  });

  it('opens from the scan page, shows the filled-in form under the CSP, and prints on one A6 page', async () => {
    const page = await context!.newPage();
    await page.setExtraHTTPHeaders({ 'accept-language': 'zh-CN,zh;q=0.9' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));

    expect((await page.goto(`${proc.url}/01/${GTIN}/10/${LOT}`))?.status()).toBe(200);
    const certificates = page.getByRole('region', { name: '证书' });
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/v1/certificates/${number}`)), certificates.getByRole('link', { name: '核验' }).click()]);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toMatch(/^text\/html/);
    expect(response.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(page.url()).toBe(`${proc.url}/v1/certificates/${number}`);

    const form = page.getByRole('article', { name: '承诺达标合格证' });
    await form.waitFor({ state: 'visible' });
    const text = await form.innerText();
    for (const expected of [number, '樱桃番茄', '蔬菜', '1200 kg', '山东寿光', '青山农场', '13800138000']) expect(text).toContain(expected);
    expect(await page.getByRole('status').innerText()).toContain('合格证有效');
    expect(await page.getByLabel('不使用禁用农药兽药、停用兽药和非法添加物').isChecked()).toBe(true);
    expect(await page.getByLabel('遵守农药安全间隔期、兽药休药期规定').isChecked()).toBe(false);
    expect(await page.getByLabel('自我检测').isChecked()).toBe(true);
    expect(await page.getByLabel('委托检测').isChecked()).toBe(false);
    // The QR code is drawn inline (no request for an image) and leads back to this page.
    const qr = form.getByRole('img');
    expect((await qr.boundingBox())!.width).toBeGreaterThan(50);
    expect(await page.locator('#qr-caption').innerText()).toContain(`${proc.url}/v1/certificates/${number}`);
    // Its inline style applied, nothing blocked, nothing fetched beyond the two pages.
    expect(await page.evaluate("getComputedStyle(document.querySelector('.cert')).borderTopStyle")).toBe('solid');
    expect(violations).toEqual([]);
    expect(requests.filter((r) => !r.endsWith('/favicon.ico'))).toEqual([`${proc.url}/01/${GTIN}/10/${LOT}`, `${proc.url}/v1/certificates/${number}`]);
    await page.screenshot({ path: join(OUT, 'certificate-zh.png'), fullPage: true });

    // Printed: the page's own @page size (A6: 105 × 148 mm = 297.6 × 419.5 pt), the form alone on one sheet.
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    writeFileSync(join(OUT, 'certificate-zh.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pagesOf(pdf)).toBe(1);
    const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(pdf.toString('latin1'));
    // (Chromium rounds the box to whole points.)
    expect(Math.abs(Number(box?.[1]) - 297.6)).toBeLessThanOrEqual(1);
    expect(Math.abs(Number(box?.[2]) - 419.5)).toBeLessThanOrEqual(1);
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('status').isVisible()).toBe(false);
    expect(await form.isVisible()).toBe(true);
    await page.close();
  });

  it('is in English when the reader asks for it', async () => {
    const page = await context!.newPage();
    await page.setExtraHTTPHeaders({ 'accept-language': 'en-GB,en;q=0.9' });
    expect((await page.goto(`${proc.url}/v1/certificates/${number}`))?.status()).toBe(200);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const form = page.getByRole('article', { name: 'Commitment-to-compliance certificate' });
    expect(await form.innerText()).toContain('Vegetables');
    expect(await page.getByLabel('Own test').isChecked()).toBe(true);
    const pdf = await page.pdf({ preferCSSPageSize: true });
    expect(pagesOf(pdf)).toBe(1);
    await page.close();
  });
});
