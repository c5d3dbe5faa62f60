import { createHash } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { formatDigitalLink } from '@trace/gs1';
import { clientAddress, FastAnswers, headerBlock, negotiate, PLATFORM_CONFIG, publicBaseUrl, requestProtocol, type FastAnswer, type FastReply, type PlatformConfig } from '@trace/platform';
import { LANGUAGES, type Lang } from './i18n';
import { pageLanguage } from './negotiation';
import { ScanRateLimiter } from './rate-limit';
import { ScanCache, scanCacheKey, type CacheHit } from './scan.cache';
import { renderScanPage } from './scan-page';
import { ScanService, withSerial, type ScanDocument } from './scan.service';

const VIEW_MEDIA = ['application/json', 'text/html'] as const;
type View = 'json' | Lang;
/** How many rendered answers are kept (JSON and the page in each language of the most scanned lots). */
const RENDERED = 3000;
/** How many request URLs keep what they route to (a lot's cache key, or null: not a fast answer). */
const ROUTES = 10_000;
/** How many Accept, Accept-Language and Host values keep what they negotiate to. */
const HEADER_VALUES = 256;
/** How many origins (Link anchors) one rendered answer keeps a reply for. */
const ORIGINS = 8;

/** What a request URL routes to, worked out once per URL: the Digital Link parsed, its cache key. */
interface Route {
  key: string;
  /** ?lang= */
  asked?: string;
  /** The link's path (no origin) and the keys of its renderings. */
  path: string;
  views: Record<View, string>;
}

interface Rendered {
  stamp: string;
  body: Buffer;
  etag: string;
  /** The complete replies (200 and 304) by origin of the Link anchor: frozen, every header but the correlation id made once. */
  replies: Map<string, { ok: FastReply; notModified: FastReply }>;
}

/**
 * The consumer scan's hot path: a plain lot link (`/01/{gtin}/10/{lot}`,
 * at most `?lang=`) whose answer is in the scan cache is answered from bytes
 * rendered once per cached answer, with a strong ETag (304 when the client
 * has them), ahead of the whole HTTP stack (FastAnswers). The rate
 * limit counts it as any scan. Anything else — a miss, a serial, a link type,
 * query attributes, HEAD, a bad link, a spent rate limit, a cache outage —
 * goes to ScanController, which answers it as before (and fills the cache).
 * The headers are the controller's.
 *
 * What depends only on the URL (the parsed link), on a header's value
 * (negotiation) or on the cached answer (bytes, ETag, headers) is worked out
 * once and kept; with the cache and the rate limit in memory (embedded) a hit
 * is answered synchronously.
 */
@Injectable()
export class ScanFastPath implements FastAnswer, OnModuleInit {
  readonly route = '/01/*path';
  private readonly rendered = new Map<string, Rendered>();
  private readonly routes = new Map<string, Route | null>();
  private readonly media = new Map<string, (typeof VIEW_MEDIA)[number] | null>();
  private readonly languages = new Map<string, Lang>();
  private readonly origins = new Map<string, string>();

  constructor(
    @Inject(ScanService) private readonly scans: ScanService,
    @Inject(ScanCache) private readonly cache: ScanCache,
    @Inject(ScanRateLimiter) private readonly limiter: ScanRateLimiter,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(FastAnswers) private readonly answers: FastAnswers,
  ) {}

  onModuleInit() {
    if (this.cache.enabled) this.answers.add(this);
  }

  matches(method: string, url: string): boolean {
    return method === 'GET' && url.startsWith('/01/');
  }

  answer(req: IncomingMessage): FastReply | undefined | Promise<FastReply | undefined> {
    const route = remember(this.routes, req.url ?? '', ROUTES, (url) => this.routeOf(url));
    if (!route) return undefined;
    const accept = req.headers.accept ?? '';
    const media = remember(this.media, accept, HEADER_VALUES, (a) => negotiate(a, VIEW_MEDIA) ?? null);
    if (!media) return undefined;
    const hit = this.cache.peek<ScanDocument>(route.key);
    if (hit instanceof Promise) return hit.then((h) => h && this.count(req, route, media, h));
    return hit && this.count(req, route, media, hit);
  }

  /** Counted only when answered here (the controller counts the rest); throws when the budget is spent, and the controller answers the 429. */
  private count(req: IncomingMessage, route: Route, media: (typeof VIEW_MEDIA)[number], hit: CacheHit<ScanDocument>): FastReply | Promise<FastReply> {
    const counted = this.limiter.takeNow(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.TRUST_PROXY_HOPS));
    if (counted instanceof Promise) return counted.then(() => this.reply(req, route, media, hit));
    return this.reply(req, route, media, hit);
  }

  private reply(req: IncomingMessage, route: Route, media: (typeof VIEW_MEDIA)[number], hit: CacheHit<ScanDocument>): FastReply {
    let lang: Lang | undefined;
    if (media === 'text/html') {
      const acceptLanguage = req.headers['accept-language'];
      lang = remember(this.languages, `${route.asked ?? ''}\n${acceptLanguage ?? ''}`, HEADER_VALUES, () => pageLanguage(route.asked, acceptLanguage, LANGUAGES, 'zh'));
    }
    const rendered = this.bytes(route.views[lang ?? 'json'], hit.stamp, () => {
      const doc = withSerial(hit.value, undefined);
      if (!lang) return JSON.stringify(doc);
      return renderScanPage(doc, lang, { otherLanguage: `${route.path}?lang=${lang === 'zh' ? 'en' : 'zh'}`, linkset: `${route.path}?linkType=all` });
    });
    const protocol = requestProtocol(req);
    const host = req.headers.host;
    const origin = remember(this.origins, `${protocol}\n${host ?? ''}`, HEADER_VALUES, () =>
      publicBaseUrl(this.config.PUBLIC_BASE_URL, protocol, host, this.config.PUBLIC_HOSTS),
    );
    let replies = rendered.replies.get(origin);
    if (!replies) {
      replies = replyPair(rendered, lang, `${origin}${route.path}`);
      if (rendered.replies.size >= ORIGINS) rendered.replies.clear();
      rendered.replies.set(origin, replies);
    }
    return notModified(req.headers['if-none-match'], rendered.etag) ? replies.notModified : replies.ok;
  }

  /** What `url` routes to when it is a plain lot link (at most ?lang=), else null: the controller answers it. */
  private routeOf(url: string): Route | null {
    const q = url.indexOf('?');
    let asked: string | undefined;
    if (q >= 0) {
      const params = new URLSearchParams(url.slice(q + 1));
      for (const name of params.keys()) if (name !== 'lang') return null;
      if (params.getAll('lang').length > 1) return null;
      asked = params.get('lang') ?? undefined;
    }
    try {
      const link = this.scans.parse(url);
      if (link.lot === undefined || link.serial !== undefined || link.linkType !== undefined) return null;
      const key = scanCacheKey(ScanService.itemOf(link));
      const path = formatDigitalLink({ gtin: link.gtin, lot: link.lot });
      return { key, asked, path, views: { json: `${key}\njson`, zh: `${key}\nzh`, en: `${key}\nen` } };
    } catch {
      return null; // the controller's problem (page or problem+json)
    }
  }

  /** The bytes of one rendering of a cached answer, made once per `stamp` (a new cached answer renders anew). */
  private bytes(key: string, stamp: string, render: () => string): Rendered {
    const kept = this.rendered.get(key);
    if (kept?.stamp === stamp) return kept;
    const body = Buffer.from(render());
    const made: Rendered = { stamp, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`, replies: new Map() };
    this.rendered.delete(key);
    if (this.rendered.size >= RENDERED) this.rendered.delete(this.rendered.keys().next().value as string);
    this.rendered.set(key, made);
    return made;
  }
}

/** The 200 and the 304 of one rendering, with `anchor` (the link with its origin) in the Link header. */
function replyPair(rendered: Rendered, lang: Lang | undefined, anchor: string): { ok: FastReply; notModified: FastReply } {
  const headers: Record<string, string> = {
    'Access-Control-Expose-Headers': 'Link, Retry-After, X-Cache',
    Vary: 'Accept, Accept-Language',
    // Browsers and shared caches must ask again every time (a recall shows on the very next scan): the ETag makes asking cheap.
    'Cache-Control': 'no-cache',
    'X-Cache': 'hit',
    Link: `<${anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"`,
    ETag: rendered.etag,
  };
  if (lang) headers['Content-Language'] = lang === 'zh' ? 'zh-CN' : 'en';
  const ok = { ...headers, 'Content-Type': lang ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8' };
  return {
    ok: Object.freeze({ status: 200, headers: ok, body: rendered.body, block: headerBlock(200, ok, rendered.body) }),
    notModified: Object.freeze({ status: 304, headers, block: headerBlock(304, headers, undefined) }),
  };
}

/** `map`'s value for `key`, else `make(key)`'s, kept; past `max` entries the oldest goes. */
function remember<V>(map: Map<string, V>, key: string, max: number, make: (key: string) => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make(key);
    if (map.size >= max) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }
  return value;
}

/** If-None-Match (a list of entity tags, or *) names this one; weak comparison, as RFC 9110 asks for GET. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
