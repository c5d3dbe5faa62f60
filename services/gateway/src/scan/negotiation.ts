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

/** Moved to the platform (the token endpoint and public look-ups count by it too). */
export { clientAddress } from '@trace/platform';

/** The scan page's language: ?lang= (the page's language switch) when it names one, else Accept-Language; `fallback` otherwise. */
export function pageLanguage<L extends string>(asked: unknown, acceptLanguage: string | undefined, supported: readonly L[], fallback: L): L {
  return typeof asked === 'string' && (supported as readonly string[]).includes(asked) ? (asked as L) : pickLanguage(acceptLanguage, supported, fallback);
}
