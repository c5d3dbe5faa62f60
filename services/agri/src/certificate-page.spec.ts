import { issueDay, renderCertificatePage, renderCertificateProblem, type PublicCertificate } from './certificate-page';

const certificate: PublicCertificate = {
  number: 'AC20261205-7K3QX9PM',
  status: 'valid',
  issuedAt: '2026-12-04T17:30:00.000Z', // 01:30 on 5 December in China
  batch: { domain: 'agri', gtin: '09506000134352', lot: 'TOM-<b>1</b>', status: 'active', digitalLink: '/01/09506000134352/10/TOM-%3Cb%3E1%3C%2Fb%3E' },
  product: { gtin: '09506000134352', name: '樱桃番茄 <script>alert(1)</script>', category: 'vegetable' },
  quantity: { value: 500, unit: 'kg' },
  producer: { name: '青山农场' },
  origin: '山东寿光',
  contact: '13800138000',
  commitments: ['no_banned_substances', 'residues_within_limits', '不使用膨大剂'],
  basis: 'entrusted_test',
};
const links = {
  otherLanguage: '/v1/certificates/AC20261205-7K3QX9PM?lang=en',
  verifyUrl: 'http://localhost:8080/v1/certificates/AC20261205-7K3QX9PM',
  qrSvg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 33 33"><path d="M0 0h1"/></svg>\n',
};

describe('certificate page', () => {
  it('fills in the form of the paper certificate, in Chinese by default', () => {
    const page = renderCertificatePage(certificate, 'zh', links);
    expect(page).toContain('<html lang="zh-CN">');
    for (const text of ['承诺达标合格证', '食用农产品名称', '樱桃番茄', '（蔬菜）'.replace('（', ' (').replace('）', ')'), '500 kg', '山东寿光', '青山农场', '13800138000', '2026年12月5日']) {
      expect(page).toContain(text);
    }
  });

  it('ticks exactly the commitments and the basis given, and keeps own wording as a ticked line', () => {
    const page = renderCertificatePage(certificate, 'zh', links);
    const box = (id: string) => new RegExp(`<input type="checkbox" id="${id}" disabled( checked)?>`).exec(page)?.[1] === ' checked';
    expect(box('c-no_banned_substances')).toBe(true);
    expect(box('c-residues_within_limits')).toBe(true);
    expect(box('c-withdrawal_periods_respected')).toBe(false);
    expect(box('c-own-0')).toBe(true);
    expect(page).toContain('不使用膨大剂');
    expect(box('c-truthful')).toBe(true);
    expect(box('b-entrusted_test')).toBe(true);
    expect(box('b-self_test')).toBe(false);
    expect(box('b-internal_control')).toBe(false);
  });

  it('embeds the QR code as inline SVG with a caption naming the URL it holds, and prints on one A6 sheet', () => {
    const page = renderCertificatePage(certificate, 'en', links);
    expect(page).toContain('<svg role="img" aria-labelledby="qr-caption" xmlns="http://www.w3.org/2000/svg"');
    expect(page).toContain(links.verifyUrl);
    expect(page).toContain('@page{size:105mm 148mm'); // A6 (Chromium does not know the name A6)
    expect(page).toContain('@media print');
    expect(page).not.toMatch(/<script|<link|src=/i);
  });

  it('escapes everything producers typed', () => {
    const page = renderCertificatePage(certificate, 'en', links);
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('TOM-&lt;b&gt;1&lt;/b&gt;');
  });

  it('says when the lot is recalled or the certificate no longer valid', () => {
    expect(renderCertificatePage({ ...certificate, batch: { ...certificate.batch, status: 'recalled' } }, 'zh', links)).toContain('该批次已被召回');
    expect(renderCertificatePage({ ...certificate, status: 'revoked' }, 'en', links)).toContain('no longer valid');
    expect(renderCertificatePage(certificate, 'en', links)).toContain('Valid certificate');
  });

  it('dates the certificate by the calendar day in China', () => {
    expect(issueDay('2026-12-04T17:30:00.000Z', 'en')).toBe('5 December 2026');
  });

  it('has a page for an unknown or malformed number', () => {
    expect(renderCertificateProblem('not-found', 'zh', '/x?lang=en')).toContain('未找到该合格证');
    expect(renderCertificateProblem('bad-number', 'en', '/x?lang=zh')).toContain('AC20261120-7K3QX9PM');
  });
});
