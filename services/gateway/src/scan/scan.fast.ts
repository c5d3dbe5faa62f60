import { createHash } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { formatDigitalLink } from '@trace/gs1';
import { clientAddress, FastAnswers, negotiate, PLATFORM_CONFIG, publicBaseUrl, requestProtocol, type FastAnswer, type FastReply, type PlatformConfig } from '@trace/platform';
import { LANGUAGES, type Lang } from './i18n';
import { pageLanguage } from './negotiation';
import { ScanRateLimiter } from './rate-limit';
import { ScanCache, scanCacheKey } from './scan.cache';
import { renderScanPage } from './scan-page';
import { ScanService, withSerial, type ScanDocument } from './scan.service';

const VIEW_MEDIA = ['application/json', 'text/html'] as const;
/** How many rendered answers are kept (JSON and the page in each language of the most scanned lots). */
const RENDERED = 3000;

interface Rendered {
  stamp: string;
  body: Buffer;
  etag: string;
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
 */
@Injectable()
export class ScanFastPath implements FastAnswer, OnModuleInit {
  readonly route = '/01/*path';
  private readonly rendered = new Map<string, Rendered>();

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

  async answer(req: IncomingMessage): Promise<FastReply | undefined> {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    let asked: string | undefined;
    if (q >= 0) {
      const params = new URLSearchParams(url.slice(q + 1));
      for (const name of params.keys()) if (name !== 'lang') return undefined;
      if (params.getAll('lang').length > 1) return undefined;
      asked = params.get('lang') ?? undefined;
    }
    let link: ReturnType<ScanService['parse']>;
    try {
      link = this.scans.parse(url);
    } catch {
      return undefined; // the controller's problem (page or problem+json)
    }
    if (link.lot === undefined || link.serial !== undefined || link.linkType !== undefined) return undefined;
    const media = negotiate(req.headers.accept, VIEW_MEDIA);
    if (!media) return undefined;
    const key = scanCacheKey(ScanService.itemOf(link));
    const hit = await this.cache.peek<ScanDocument>(key);
    if (!hit) return undefined;
    // Counted only when answered here (the controller counts the rest); throws when the budget is spent, and the controller answers the 429.
    await this.limiter.take(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.TRUST_PROXY_HOPS));

    const lang: Lang | undefined = media === 'text/html' ? pageLanguage(asked, req.headers['accept-language'], LANGUAGES, 'zh') : undefined;
    const path = formatDigitalLink({ gtin: link.gtin, lot: link.lot });
    const bytes = this.bytes(`${key}\n${lang ?? 'json'}`, hit.stamp, () => {
      const doc = withSerial(hit.value, undefined);
      if (!lang) return JSON.stringify(doc);
      return renderScanPage(doc, lang, { otherLanguage: `${path}?lang=${lang === 'zh' ? 'en' : 'zh'}`, linkset: `${path}?linkType=all` });
    });
    const anchor = formatDigitalLink({ gtin: link.gtin, lot: link.lot }, publicBaseUrl(this.config.PUBLIC_BASE_URL, requestProtocol(req), req.headers.host, this.config.PUBLIC_HOSTS));
    const headers: Record<string, string> = {
      'Access-Control-Expose-Headers': 'Link, Retry-After, X-Cache',
      Vary: 'Accept, Accept-Language',
      // Browsers and shared caches must ask again every time (a recall shows on the very next scan): the ETag makes asking cheap.
      'Cache-Control': 'no-cache',
      'X-Cache': 'hit',
      Link: `<${anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"`,
      ETag: bytes.etag,
    };
    if (lang) headers['Content-Language'] = lang === 'zh' ? 'zh-CN' : 'en';
    if (notModified(req.headers['if-none-match'], bytes.etag)) return { status: 304, headers };
    headers['Content-Type'] = lang ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8';
    return { status: 200, headers, body: bytes.body };
  }

  /** The bytes of one rendering of a cached answer, made once per `stamp` (a new cached answer renders anew). */
  private bytes(key: string, stamp: string, render: () => string): Rendered {
    const kept = this.rendered.get(key);
    if (kept?.stamp === stamp) return kept;
    const body = Buffer.from(render());
    const made = { stamp, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
    this.rendered.delete(key);
    if (this.rendered.size >= RENDERED) this.rendered.delete(this.rendered.keys().next().value as string);
    this.rendered.set(key, made);
    return made;
  }
}

/** If-None-Match (a list of entity tags, or *) names this one; weak comparison, as RFC 9110 asks for GET. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
