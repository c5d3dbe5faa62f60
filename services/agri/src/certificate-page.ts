import { html, pageHead, trustedHtml, type SafeHtml } from '@trace/platform';
import { AGRI_CATEGORIES, CERTIFICATE_BASES, STANDARD_COMMITMENTS } from './agri.rules';

export type CertificateLang = 'zh' | 'en';

/** What the public verification answers (CertificateService.verify): the certificate as issued, no internal ids. */
export interface PublicCertificate {
  number: string;
  status: string;
  issuedAt: string;
  batch: { domain: string; gtin: string; lot: string; status: string; digitalLink: string };
  product: { gtin: string; name: string; category: string };
  quantity: { value: number; unit: string };
  producer: { name: string | null };
  origin: string;
  contact: string;
  commitments: string[];
  basis: string;
}

export interface CertificatePageLinks {
  /** This page in the other language. */
  otherLanguage: string;
  /** The absolute verification URL the printed QR code holds. */
  verifyUrl: string;
  /** The QR code of verifyUrl as an SVG document (generated, never data). */
  qrSvg: string;
}

// The wording of the form the Ministry's template prints (承诺达标合格证, 2025 rules); English for readers who ask for it.
const TEXT = {
  zh: {
    title: '承诺达标合格证',
    number: '编号',
    product: '食用农产品名称',
    quantity: '数量（重量）',
    origin: '产地',
    producer: '生产者盖章或签名',
    contact: '联系方式',
    date: '开具日期',
    pledge: '我承诺对生产销售的食用农产品：',
    commitments: {
      no_banned_substances: '不使用禁用农药兽药、停用兽药和非法添加物',
      withdrawal_periods_respected: '遵守农药安全间隔期、兽药休药期规定',
      residues_within_limits: '常规农药兽药残留不超标',
    } as Record<string, string>,
    truthful: '对承诺的真实性负责',
    basis: '承诺依据：',
    bases: { entrusted_test: '委托检测', self_test: '自我检测', internal_control: '内部质量控制' } as Record<string, string>,
    lot: '批号',
    scanToVerify: '扫码查验',
    valid: '合格证有效：与登记记录一致',
    revoked: '此合格证已失效',
    recalled: '该批次已被召回，请勿食用',
    held: '该批次因抽检正在暂停销售',
    printHint: '打印：使用浏览器的“打印”（A6 纸，一页）。',
    otherLanguage: 'English',
    site: '产品质量追溯',
    unknown: '—',
    notFoundTitle: '未找到该合格证',
    notFoundText: '没有这个编号的承诺达标合格证。请核对合格证上的编号，或扫描合格证上的二维码。',
    badNumberTitle: '合格证编号格式不正确',
    badNumberText: '承诺达标合格证编号形如 AC20261120-7K3QX9PM（AC、开具日期、短横线和 8 位字符）。',
  },
  en: {
    title: 'Commitment-to-compliance certificate',
    number: 'No.',
    product: 'Product',
    quantity: 'Quantity (weight)',
    origin: 'Origin',
    producer: 'Producer (seal or signature)',
    contact: 'Contact',
    date: 'Issued on',
    pledge: 'For the edible agricultural products I produce and sell, I commit to:',
    commitments: {
      no_banned_substances: 'No banned pesticides or veterinary drugs, no discontinued veterinary drugs, no illegal additives',
      withdrawal_periods_respected: 'Pesticide pre-harvest intervals and veterinary withdrawal periods respected',
      residues_within_limits: 'Residues of common pesticides and veterinary drugs within the limits',
    } as Record<string, string>,
    truthful: 'I am responsible for the truth of these commitments',
    basis: 'Basis of the commitment:',
    bases: { entrusted_test: 'Entrusted test', self_test: 'Own test', internal_control: 'Internal quality control' } as Record<string, string>,
    lot: 'Lot',
    scanToVerify: 'Scan to verify',
    valid: 'Valid certificate: matches the registry',
    revoked: 'This certificate is no longer valid',
    recalled: 'This lot has been recalled: do not eat it',
    held: 'This lot is on hold after a failed sample',
    printHint: "To print, use the browser's Print (A6 paper, one page).",
    otherLanguage: '中文',
    site: 'Product traceability',
    unknown: '—',
    notFoundTitle: 'Certificate not found',
    notFoundText: 'There is no commitment-to-compliance certificate with this number. Check the number on the certificate, or scan its QR code.',
    badNumberTitle: 'Not a certificate number',
    badNumberText: 'A certificate number looks like AC20261120-7K3QX9PM (AC, the day of issue, a dash and 8 characters).',
  },
} as const;

// Inline only (the Content-Security-Policy allows inline style, no script, no other origin).
// On paper: the form alone on an A6 sheet (in millimetres: Chromium knows no 'A6'), black on white, as the paper certificate is filled in.
const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1a1a1a;background:#f4f5f7}
.wrap{max-width:34rem;margin:0 auto;padding:0 1rem 2rem}
.site{margin:0;padding:1rem 0 .5rem;color:#4a4f57;font-size:.9rem;display:flex;justify-content:space-between}
a{color:#0b57d0}
.verdict{padding:.75rem 1rem;border-radius:.5rem;margin:0 0 1rem;font-weight:600}
.verdict.ok{background:#dff3e4;color:#0f4d24}
.verdict.bad{background:#a4000f;color:#fff}
.cert{background:#fff;border:2px solid #1a1a1a;padding:1rem;margin:0}
.cert h1{margin:0 0 .25rem;text-align:center;font-size:1.4rem;letter-spacing:.2em}
.cert .no{margin:0 0 .5rem;text-align:center;font-size:.9rem}
.cert dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .75rem;margin:0 0 .5rem;border-top:1px solid #1a1a1a;padding-top:.5rem}
.cert dt{color:#3c4048}
.cert dd{margin:0;font-weight:600;word-break:break-word}
.cert p{margin:.35rem 0 .15rem}
.cert ul{list-style:none;margin:0;padding:0}
.cert li{display:flex;gap:.4rem;align-items:flex-start}
.cert input{margin:.3rem 0 0;flex:none;accent-color:#1a1a1a}
.cert .bases{display:flex;flex-wrap:wrap;gap:0 1rem}
.qr{display:flex;gap:.75rem;align-items:center;border-top:1px solid #1a1a1a;margin-top:.5rem;padding-top:.5rem}
.qr svg{width:7rem;height:7rem;flex:none}
.qr p{margin:0;font-size:.85rem;word-break:break-all}
.hint{color:#4a4f57;font-size:.9rem}
@page{size:105mm 148mm;margin:5mm}
@media print{
body{background:#fff;font-size:8pt;line-height:1.3}
.wrap{max-width:none;padding:0}
.screen{display:none}
.cert{border:1.5pt solid #000;padding:3mm;break-inside:avoid}
.cert h1{font-size:13pt}
.cert .no,.qr p{font-size:7.5pt}
.qr svg{width:24mm;height:24mm}
}
`;

const dateFormats: Record<CertificateLang, Intl.DateTimeFormat> = {
  zh: new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: 'long', day: 'numeric' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', year: 'numeric', month: 'long', day: 'numeric' }),
};

/** The day of issue as the form shows it: China's calendar day, whatever the server's zone. */
export const issueDay = (iso: string, lang: CertificateLang): string => dateFormats[lang].format(new Date(iso));

function head(lang: CertificateLang, title: string): SafeHtml {
  return pageHead(lang === 'zh' ? 'zh-CN' : 'en', title, STYLE);
}

function siteLine(lang: CertificateLang, otherLanguage: string): SafeHtml {
  const other = lang === 'zh' ? 'en' : 'zh-CN';
  return html`<p class="site screen"><span>${TEXT[lang].site}</span><a href="${otherLanguage}" lang="${other}" hreflang="${other}">${TEXT[lang].otherLanguage}</a></p>`;
}

/** A box of the form, ticked or not: a real (read-only) checkbox, so screen readers and print show its state. */
function tick(id: string, checked: boolean, label: string | SafeHtml): SafeHtml {
  return html`<li><input type="checkbox" id="${id}" disabled${checked ? trustedHtml(' checked') : ''}><label for="${id}">${label}</label></li>`;
}

function verdict(c: PublicCertificate, lang: CertificateLang): SafeHtml {
  const t = TEXT[lang];
  if (c.status !== 'valid') return html`<p class="verdict bad screen" role="alert">${t.revoked}</p>`;
  if (c.batch.status === 'recalled') return html`<p class="verdict bad screen" role="alert">${t.recalled}</p>`;
  if (c.batch.status === 'held') return html`<p class="verdict bad screen" role="status">${t.held}</p>`;
  return html`<p class="verdict ok screen" role="status">${t.valid}</p>`;
}

/**
 * The certificate's public verification page, which is also the page to
 * print: on screen a verdict above the form, on paper the form alone on one
 * A6 sheet (the size of the paper certificate), with the QR code that leads
 * back here. Server-rendered, no script, every datum escaped.
 */
export function renderCertificatePage(c: PublicCertificate, lang: CertificateLang, links: CertificatePageLinks): string {
  const t = TEXT[lang];
  const category = AGRI_CATEGORIES.find((k) => k.code === c.product.category)?.name[lang];
  const standard = new Set<string>(STANDARD_COMMITMENTS);
  const own = c.commitments.filter((x) => !standard.has(x));
  const qr = trustedHtml(links.qrSvg.trim().replace(/^<svg /, '<svg role="img" aria-labelledby="qr-caption" '));
  const page = html`${head(lang, `${t.title} ${c.number}`)}
<body>
<div class="wrap">
${siteLine(lang, links.otherLanguage)}
${verdict(c, lang)}
<main>
<article class="cert" aria-labelledby="cert-title">
<h1 id="cert-title">${t.title}</h1>
<p class="no">${t.number} <span lang="en">${c.number}</span></p>
<dl>
<dt>${t.product}</dt><dd>${c.product.name}${category ? html` (${category})` : null}</dd>
<dt>${t.quantity}</dt><dd>${c.quantity.value} ${c.quantity.unit}</dd>
<dt>${t.origin}</dt><dd>${c.origin}</dd>
<dt>${t.producer}</dt><dd>${c.producer.name ?? t.unknown}</dd>
<dt>${t.contact}</dt><dd>${c.contact || t.unknown}</dd>
<dt>${t.date}</dt><dd><time datetime="${c.issuedAt}">${issueDay(c.issuedAt, lang)}</time></dd>
</dl>
<p>${t.pledge}</p>
<ul class="commitments">
${STANDARD_COMMITMENTS.map((k) => tick(`c-${k}`, c.commitments.includes(k), t.commitments[k]))}
${own.map((text, i) => tick(`c-own-${i}`, true, text))}
${tick('c-truthful', true, t.truthful)}
</ul>
<p>${t.basis}</p>
<ul class="bases">
${CERTIFICATE_BASES.map((b) => tick(`b-${b}`, c.basis === b, t.bases[b]))}
</ul>
<div class="qr">${qr}<p id="qr-caption">${t.scanToVerify}<br>GTIN ${c.batch.gtin} · ${t.lot} ${c.batch.lot}<br><span lang="en">${links.verifyUrl}</span></p></div>
</article>
</main>
<p class="hint screen">${t.printHint}</p>
</div>
</body>
</html>
`;
  return page.value;
}

/** What a browser gets instead of a problem+json for an unknown (404) or malformed (400) number; the status stays the problem's. */
export function renderCertificateProblem(kind: 'not-found' | 'bad-number', lang: CertificateLang, otherLanguage: string): string {
  const t = TEXT[lang];
  const title = kind === 'not-found' ? t.notFoundTitle : t.badNumberTitle;
  return html`${head(lang, title)}
<body>
<div class="wrap">
${siteLine(lang, otherLanguage)}
<main><h1>${title}</h1><p>${kind === 'not-found' ? t.notFoundText : t.badNumberText}</p></main>
</div>
</body>
</html>
`.value;
}
