/**
 * HTTP details of the public resolver, pure so they can be unit-tested:
 * content negotiation (RFC 9110 12.5.1), Accept-Language, and the client
 * address behind trusted proxies.
 */

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseQ(params: string[]): number {
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

/**
 * The supported language the reader prefers, from Accept-Language; any
 * Chinese tag (zh, zh-CN, zh-Hans, zh-TW) reads Chinese. `fallback` when
 * nothing matches.
 */
export function pickLanguage<L extends string>(header: string | undefined, supported: readonly L[], fallback: L): L {
  let best: { lang: L; q: number } | undefined;
  for (const part of (header ?? '').split(',')) {
    const [tag, ...params] = part.split(';');
    const primary = tag.trim().toLowerCase().split('-')[0];
    const q = parseQ(params);
    const lang = primary === '*' ? fallback : supported.find((s) => s === primary);
    if (lang && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? fallback;
}

/**
 * The address a request came from. Without trusted proxies the socket's
 * address, whatever X-Forwarded-For says (anyone can write that header);
 * behind `trustedHops` proxies, the entry that many hops before the socket
 * peer — each proxy appends the address it saw, so entries further left
 * are the client's to invent.
 */
export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string {
  const remote = normaliseIp(remoteAddress ?? 'unknown');
  if (trustedHops <= 0 || !forwardedFor) return remote;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const hops = [...chain, remote];
  return normaliseIp(hops[Math.max(0, hops.length - 1 - trustedHops)]);
}

/** IPv4-mapped IPv6 (::ffff:1.2.3.4) and plain IPv4 are one client. */
const normaliseIp = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
