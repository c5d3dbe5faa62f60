/**
 * A tiny HTML template helper (the scan page, the agri certificate page): every interpolated value is escaped unless it
 * is already SafeHtml (the result of another `html` template). There is no
 * way to interpolate raw text except `trustedHtml`, kept for constant markup
 * (inline SVG), so data from producers — a lot named `<script>` — always
 * renders as text.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text`; arrays are joined; null, undefined and false render nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Markup written by us (constants only), never data. */
export const trustedHtml = (markup: string): SafeHtml => new SafeHtml(markup);

/**
 * A page's document up to `<body>` (the scan page, the certificate page): its
 * language, a phone viewport, not for search engines, and its inline style
 * (the only style the pages' Content-Security-Policy allows).
 */
export function pageHead(htmlLang: string, title: string, style: string): SafeHtml {
  return html`<!doctype html>
<html lang="${htmlLang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${trustedHtml(style)}</style>
</head>`;
}
