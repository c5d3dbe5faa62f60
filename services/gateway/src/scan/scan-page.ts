import { html, pageHead, trustedHtml, type SafeHtml } from './html';
import { formatDateTime, formatDay, HTML_LANG, MESSAGES, words, type Lang } from './i18n';
import { regionName } from './regions';
import type { PublicPlace, ScanDocument } from './scan.service';

export interface PageLinks {
  /** This page in the other language. */
  otherLanguage: string;
  /** The linkset of this Digital Link (machine-readable links). */
  linkset: string;
}

// Inline only: the page must render with no network beyond this one response.
// Colours keep at least 4.5:1 contrast (WCAG AA); the recall banner is white on dark red (≈7:1).
const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1a1a1a;background:#f4f5f7}
.wrap{max-width:40rem;margin:0 auto;padding:0 1rem 2rem}
.recall{background:#a4000f;color:#fff;padding:1rem;border-bottom:6px solid #ffd400}
.recall h2{margin:0 0 .25rem;font-size:1.5rem;line-height:1.2;display:flex;gap:.5rem;align-items:center}
.recall p{margin:.25rem 0}
.held{background:#fff4ce;color:#3d2e00;padding:1rem;border-left:6px solid #8a6d00}
.held h2{margin:0;font-size:1.2rem}
header{padding:1rem 0 .5rem}
.site{margin:0;color:#4a4f57;font-size:.9rem;display:flex;justify-content:space-between}
.site a{color:#0b57d0}
h1{margin:.25rem 0;font-size:1.6rem;line-height:1.25}
.ids{margin:0;color:#3c4048;font-size:.95rem;word-break:break-all}
section{background:#fff;border-radius:.5rem;padding:1rem;margin:1rem 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.15rem;margin:0 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{color:#4a4f57}
dd{margin:0}
ol.journey{list-style:none;margin:0;padding:0;border-left:3px solid #0b57d0}
ol.journey li{position:relative;padding:0 0 .9rem 1rem}
ol.journey li::before{content:"";position:absolute;left:-.5rem;top:.35rem;width:.7rem;height:.7rem;border-radius:50%;background:#0b57d0}
ol.journey li.recalled::before{background:#a4000f}
.step{font-weight:600}
.when,.where{display:block;color:#3c4048;font-size:.95rem}
ul.plain{margin:0;padding-left:1.1rem}
.ok{color:#0f6b2f;font-weight:600}
.bad{color:#a4000f;font-weight:600}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.9rem;font-weight:600}
.badge.active{background:#dff3e4;color:#0f4d24}.badge.held{background:#fff4ce;color:#3d2e00}
.badge.recalled,.badge.destroyed{background:#a4000f;color:#fff}.badge.dispensed{background:#e3e7ee;color:#1a1a1a}
footer{color:#4a4f57;font-size:.85rem;padding:0 .25rem}
footer a,section a{color:#0b57d0}
`;

const WARNING_ICON = trustedHtml(
  '<svg aria-hidden="true" focusable="false" width="28" height="28" viewBox="0 0 24 24"><path fill="#ffd400" d="M12 2 1 21h22L12 2z"/><path fill="#a4000f" d="M11 9h2v6h-2zm0 8h2v2h-2z"/></svg>',
);
const CHECK_ICON = trustedHtml(
  '<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24"><path fill="#0f6b2f" d="M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z"/></svg>',
);

function place(p: PublicPlace | null, lang: Lang): SafeHtml | string {
  const m = MESSAGES[lang];
  if (!p) return m.unknown;
  const kind = words(m.placeKinds, p.kind);
  return html`${p.name} (${kind}${p.region ? html`, ${regionName(p.region, lang)}` : ''})`;
}

/** The category in the reader's words (from the domain's category list); the code only for a category the list lacks. */
function categoryName(product: NonNullable<ScanDocument['product']>, lang: Lang): string {
  return product.categoryName?.[lang] ?? words({}, product.category);
}

function recallBanner(doc: ScanDocument, lang: Lang): SafeHtml | null {
  const m = MESSAGES[lang];
  if (!doc.recall.active) return null;
  return html`<div class="recall" role="alert" id="recall" aria-labelledby="recall-title">
<div class="wrap">
<h2 id="recall-title">${WARNING_ICON}<span>${m.recallTitle}</span></h2>
${doc.recall.level ? html`<p><strong>${m.recallLevel(doc.recall.level)}</strong></p>` : null}
${doc.recall.reason ? html`<p>${m.reason}${doc.recall.reason}</p>` : null}
<p>${m.recallAdvice}</p>
</div>
</div>`;
}

function heldNotice(doc: ScanDocument, lang: Lang): SafeHtml | null {
  if (doc.batch.status !== 'held' || doc.recall.active) return null;
  const m = MESSAGES[lang];
  return html`<div class="held" role="status"><div class="wrap"><h2>${m.heldTitle}</h2><p>${m.heldText}</p></div></div>`;
}

function journey(doc: ScanDocument, lang: Lang): SafeHtml {
  const m = MESSAGES[lang];
  const steps = doc.history.map((h) => {
    const recalled = h.disposition === 'recalled';
    const name = recalled ? m.recalledStep : words(m.steps, h.bizStep);
    return html`<li${recalled ? trustedHtml(' class="recalled"') : ''}>
<span class="step">${name}</span>
<time class="when" datetime="${h.eventTime}">${formatDateTime(h.eventTime, lang)}</time>
<span class="where">${place(h.location, lang)}</span>
</li>`;
  });
  return html`<section aria-labelledby="journey-h"><h2 id="journey-h">${m.journey}</h2>
<p>${m.journeyIntro}</p>
<ol class="journey">${steps}</ol></section>`;
}

/** The certificate page opens in Chinese unless told otherwise: from an English scan page it is asked for in English. */
function inLanguage(link: string, lang: Lang): string {
  return lang === 'en' ? `${link}${link.includes('?') ? '&' : '?'}lang=en` : link;
}

function certificates(doc: ScanDocument, lang: Lang): SafeHtml {
  const m = MESSAGES[lang];
  const items = doc.certificates.map(
    (c) => html`<li>${words(m.certificateKinds, c.kind)} <span lang="en">${c.number}</span>, ${m.issued} ${formatDay(c.issuedAt, lang)}${
      c.verifyLink ? html` — <a href="${inLanguage(c.verifyLink, lang)}">${m.verify}</a>` : null
    }</li>`,
  );
  return html`<section aria-labelledby="cert-h"><h2 id="cert-h">${m.certificates}</h2>${
    items.length ? html`<ul class="plain">${items}</ul>` : html`<p>${m.noCertificates}</p>`
  }</section>`;
}

function inspections(doc: ScanDocument, lang: Lang): SafeHtml {
  const m = MESSAGES[lang];
  const items = doc.inspections.map((i) => {
    const pass = i.conclusion === 'pass';
    return html`<li><span class="${pass ? 'ok' : 'bad'}">${pass ? m.pass : m.fail}</span>${i.retest ? html` (${m.retest})` : null} — ${i.agency}, ${m.sampled} ${formatDay(i.sampledAt, lang)}, ${i.reportNo}</li>`;
  });
  return html`<section aria-labelledby="insp-h"><h2 id="insp-h">${m.inspections}</h2>${
    items.length ? html`<ul class="plain">${items}</ul>` : html`<p>${m.noInspections}</p>`
  }</section>`;
}

function madeFrom(doc: ScanDocument, lang: Lang): SafeHtml | null {
  if (!doc.madeFrom.length) return null;
  const m = MESSAGES[lang];
  const items = doc.madeFrom.map(
    (i) => html`<li>${i.product?.name ?? words(m.domains, i.domain)} — ${i.lot !== null ? `${m.lot} ${i.lot}` : `${m.serial} ${i.serial ?? ''}`}${
      i.origin ? html`, ${i.origin.producer?.name ?? m.unknown}, ${place(i.origin.location, lang)}` : null
    } <span class="badge ${i.status}">${words(m.statuses, i.status)}</span></li>`,
  );
  return html`<section aria-labelledby="from-h"><h2 id="from-h">${m.madeFrom}</h2><ul class="plain">${items}</ul></section>`;
}

/** The document up to `<body>`: language, phone viewport, not for search engines, the inline style. */
function head(lang: Lang, title: string): SafeHtml {
  return pageHead(HTML_LANG[lang], title, STYLE);
}

/** The site's name and the link to the same page in the other language. */
function siteLine(lang: Lang, otherLanguage: string): SafeHtml {
  const other = lang === 'zh' ? 'en' : 'zh-CN';
  return html`<p class="site"><span>${MESSAGES[lang].site}</span><a href="${otherLanguage}" lang="${other}" hreflang="${other}">${MESSAGES[lang].otherLanguage}</a></p>`;
}

/** The consumer's page: server-rendered, no script, no external asset; every datum escaped. */
export function renderScanPage(doc: ScanDocument, lang: Lang, links: PageLinks): string {
  const m = MESSAGES[lang];
  const b = doc.batch;
  const productName = doc.product?.name ?? words(m.domains, b.domain);
  const ident = b.lot !== null ? `${m.lot} ${b.lot}` : `${m.serial} ${b.serial ?? ''}`;
  const page = html`${head(lang, `${doc.recall.active ? `${m.recallTitle} · ` : ''}${productName} · ${ident} — ${m.titleSuffix}`)}
<body>
${recallBanner(doc, lang)}${heldNotice(doc, lang)}
<div class="wrap">
<header>
${siteLine(lang, links.otherLanguage)}
<h1>${productName}</h1>
<p class="ids">${m.gtin} ${b.gtin}${b.lot !== null ? html` · ${m.lot} ${b.lot}` : null}${b.serial ? html` · ${m.serial} ${b.serial}` : null}</p>
</header>
<main>
<section aria-labelledby="status-h"><h2 id="status-h">${m.status}</h2>
<dl>
<dt>${m.status}</dt><dd><span class="badge ${b.status}">${words(m.statuses, b.status)}</span></dd>
<dt>${m.product}</dt><dd>${words(m.domains, b.domain)}${doc.product ? html` · ${categoryName(doc.product, lang)}` : null}</dd>
<dt>${m.producedAt}</dt><dd><time datetime="${b.producedAt}">${formatDay(b.producedAt, lang)}</time></dd>
${b.expiresAt ? html`<dt>${m.expiresAt}</dt><dd><time datetime="${b.expiresAt}">${formatDay(b.expiresAt, lang)}</time></dd>` : null}
<dt>${m.chain}</dt><dd>${
    doc.chain.valid ? html`<span class="ok">${CHECK_ICON} ${m.chainValid(doc.chain.length)}</span>` : html`<span class="bad">${m.chainBroken}</span>`
  }</dd>
</dl>
</section>
<section aria-labelledby="origin-h"><h2 id="origin-h">${m.origin}</h2>
<dl>
<dt>${m.producer}</dt><dd>${doc.origin?.producer?.name ?? m.unknown}</dd>
<dt>${m.place}</dt><dd>${doc.origin ? place(doc.origin.location, lang) : m.unknown}</dd>
</dl>
</section>
${journey(doc, lang)}
${certificates(doc, lang)}
${inspections(doc, lang)}
${madeFrom(doc, lang)}
</main>
<footer><p>${m.dataLinks}: <a href="${links.linkset}" type="application/linkset+json">GS1 Digital Link linkset</a></p></footer>
</div>
</body>
</html>
`;
  return page.value;
}

/**
 * What a browser gets instead of a problem+json when the scan has no page to
 * show: an unknown batch (404) or a code that is not a Digital Link (400).
 * The same shell as the product page, in the reader's language, saying what
 * to do next; the status code stays the problem's.
 */
export function renderScanProblem(
  kind: 'not-found' | 'bad-link',
  lang: Lang,
  ids: { gtin?: string; lot?: string; serial?: string },
  otherLanguage: string,
): string {
  const m = MESSAGES[lang];
  const title = kind === 'not-found' ? m.notFoundTitle : m.badLinkTitle;
  const text = kind === 'not-found' ? m.notFoundText : m.badLinkText;
  const page = html`${head(lang, `${title} — ${m.titleSuffix}`)}
<body>
<div class="wrap">
<header>
${siteLine(lang, otherLanguage)}
<h1>${title}</h1>
${ids.gtin && (ids.lot || ids.serial)
  ? html`<p class="ids">${m.gtin} ${ids.gtin}${ids.lot ? html` · ${m.lot} ${ids.lot}` : null}${ids.serial ? html` · ${m.serial} ${ids.serial}` : null}</p>`
  : null}
</header>
<main><p>${text}</p></main>
</div>
</body>
</html>
`;
  return page.value;
}
