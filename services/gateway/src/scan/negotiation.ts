/**
 * HTTP details of the public resolver, pure so they can be unit-tested:
 * Accept-Language and the client address behind trusted proxies.
 */

import { parseQ } from '@trace/platform';

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
