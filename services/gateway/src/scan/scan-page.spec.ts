import { renderScanPage } from './scan-page';
import type { ScanDocument } from './scan.service';

const doc = (over: Partial<ScanDocument> = {}): ScanDocument => ({
  product: { gtin: '09506000134352', name: 'Tomatoes <b>', category: 'vegetable' },
  batch: { domain: 'agri', gtin: '09506000134352', lot: '<script>', status: 'active', producedAt: '2026-11-20T00:00:00Z', expiresAt: null, serial: null },
  origin: { at: '2026-11-20T00:00:00Z', location: { name: 'Farm "A"', kind: 'farm', region: 'CN-37', gln: null }, producer: { name: 'A & B' } },
  certificates: [],
  inspections: [{ reportNo: 'R1', agency: 'Lab', sampledAt: '2026-11-21T00:00:00Z', conclusion: 'fail', retest: false }],
  recall: { active: false },
  chain: { valid: true, length: 2 },
  history: [
    { seq: 1, bizStep: 'commissioning', disposition: 'active', eventTime: '2026-11-20T00:00:00Z', location: { name: 'Farm "A"', kind: 'farm', region: 'CN-37' } },
    { seq: 2, bizStep: 'cycle_counting', disposition: null, eventTime: '2026-11-21T00:00:00Z', location: null },
  ],
  madeFrom: [],
  ...over,
});
const links = { otherLanguage: '/01/09506000134352/10/%3Cscript%3E?lang=en', linkset: '/01/09506000134352/10/%3Cscript%3E?linkType=all' };

describe('renderScanPage', () => {
  it('names the category and the region in words in both languages, not by their codes', () => {
    const named = doc({ product: { gtin: '09506000134352', name: 'Tomatoes', category: 'vegetable', categoryName: { zh: '蔬菜', en: 'Vegetables' } } });
    const zh = renderScanPage(named, 'zh', links);
    expect(zh).toContain('食用农产品 · 蔬菜');
    expect(zh).toContain('农场, 山东省');
    expect(zh).not.toMatch(/CN-37|· vegetable/);
    const en = renderScanPage(named, 'en', links);
    expect(en).toContain('Farm produce · Vegetables');
    expect(en).toContain('farm, Shandong');
    expect(en).not.toContain('CN-37');
  });

  it('reads a category missing from the list as words', () => {
    expect(renderScanPage(doc({ product: { gtin: '09506000134352', name: 'x', category: 'dried_fruit' } }), 'en', links)).toContain('· dried fruit');
  });

  it('escapes every datum', () => {
    const out = renderScanPage(doc(), 'en', links);
    expect(out).not.toMatch(/<script|<b>/);
    expect(out).toContain('&lt;script&gt;');
    expect(out).toContain('Farm &quot;A&quot;');
    expect(out).toContain('A &amp; B');
  });

  it('has a language, one h1, landmarks and labelled sections; unknown steps read as words; missing places say so', () => {
    const out = renderScanPage(doc(), 'zh', links);
    expect(out).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    expect(out.match(/<h1>/g)).toHaveLength(1);
    expect(out).toMatch(/<main>[\s\S]*<\/main>/);
    expect(out).toMatch(/<header>[\s\S]*<\/header>/);
    for (const id of (out.match(/aria-labelledby="([^"]+)"/g) ?? []).map((m) => m.slice(17, -1))) expect(out).toContain(`id="${id}"`);
    expect(out).toContain('cycle counting');
    expect(out).toContain('未公开');
    expect(out).not.toContain('role="alert"');
  });

  it('opens with the recall banner when recalled, before anything else in the body', () => {
    const out = renderScanPage(doc({ recall: { active: true, level: 2, reason: 'Salmonella <i>' } }), 'en', links);
    const body = out.slice(out.indexOf('<body>'));
    expect(body.indexOf('role="alert"')).toBeLessThan(body.indexOf('<header>'));
    expect(body).toContain('Recall level 2');
    expect(body).toContain('Salmonella &lt;i&gt;');
    expect(out).toMatch(/<title>RECALLED/);
  });

  it('names a serialised item by its serial, with no lot', () => {
    const out = renderScanPage(doc({ batch: { ...doc().batch, lot: null, serial: '2017' } }), 'en', links);
    expect(out).toContain('Serial 2017');
    expect(out).not.toContain('Lot ');
    expect(out).toMatch(/<title>[^<]*Serial 2017/);
  });

  it('says the chain is broken when it does not verify', () => {
    expect(renderScanPage(doc({ chain: { valid: false, length: 2 } }), 'en', links)).toContain('Broken: the records of this batch do not verify');
  });

  it('links a certificate to its page in the language of the scan page', () => {
    const cert = { kind: 'commitment', number: 'CN-HG-1', issuedAt: '2026-11-20T08:00:00+08:00', verifyLink: '/v1/certificates/CN-HG-1' };
    const withCert = doc({ certificates: [cert] as ScanDocument['certificates'] });
    expect(renderScanPage(withCert, 'en', links)).toContain('href="/v1/certificates/CN-HG-1?lang=en"');
    expect(renderScanPage(withCert, 'zh', links)).toContain('href="/v1/certificates/CN-HG-1"');
  });
});
