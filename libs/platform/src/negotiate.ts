/**
 * Proactive content negotiation (RFC 9110 12.5.1): which of the media types a
 * handler can produce the client prefers. Pure, shared by every service.
 */

interface Range {
  type: string;
  subtype: string;
  q: number;
}

export function parseQ(params: string[]): number {
  for (const p of params) {
    const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
    if (m) return Number(m[1]);
  }
  return 1;
}

function parseAccept(header: string): Range[] {
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.split(';');
    const m = /^\s*([a-z0-9!#$%&'*+.^_`|~-]+)\/([a-z0-9!#$%&'*+.^_`|~-]+)\s*$/i.exec(media);
    if (!m) continue;
    out.push({ type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), q: parseQ(params) });
  }
  return out;
}

/**
 * The offer the client prefers: highest q of the most specific matching
 * range; ties go to the earlier offer (the server's preference). Undefined
 * when the client accepts none of them. A missing or empty header accepts all.
 */
export function negotiate<T extends string>(accept: string | undefined, offers: readonly T[]): T | undefined {
  const ranges = accept && accept.trim() ? parseAccept(accept) : [{ type: '*', subtype: '*', q: 1 }];
  let best: { offer: T; q: number } | undefined;
  for (const offer of offers) {
    const [type, subtype] = offer.toLowerCase().split('/');
    let match: { specificity: number; q: number } | undefined;
    for (const r of ranges) {
      const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
      if (specificity >= 0 && (!match || specificity > match.specificity)) match = { specificity, q: r.q };
    }
    if (match && match.q > 0 && (!best || match.q > best.q)) best = { offer, q: match.q };
  }
  return best?.offer;
}
