import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { formatDigitalLink, gs1LinkType, type Gs1LinkType } from '@trace/gs1';
import { DomainError, negotiate, Public, PLATFORM_CONFIG, publicBaseUrl, schemaOfExample, type PlatformConfig } from '@trace/platform';
import { LINKSET_EXAMPLE, SCAN_EXAMPLE } from '../openapi-examples';
import { LANGUAGES, type Lang } from './i18n';
import { linksetOf } from './linkset';
import { clientAddress, pageLanguage } from './negotiation';
import { ScanRateLimiter } from './rate-limit';
import { ScanCache, scanCacheKey } from './scan.cache';
import { renderScanPage, renderScanProblem } from './scan-page';
import { ScanService, withSerial, type ScanDocument } from './scan.service';

const VIEW_MEDIA = ['application/json', 'text/html'] as const;
const LINKSET_MEDIA = ['application/linkset+json', 'application/json'] as const;

/** What each GS1 link type selects from the scan document (a subset with the same field names). */
function selectView(doc: ScanDocument, type: Gs1LinkType | undefined): Partial<ScanDocument> {
  switch (type) {
    case 'recallStatus':
      return { recall: doc.recall };
    case 'certificationInfo':
      return { certificates: doc.certificates };
    case 'traceability':
      return { batch: doc.batch, origin: doc.origin, chain: doc.chain, history: doc.history, madeFrom: doc.madeFrom };
    default:
      return doc;
  }
}

/**
 * GS1 Digital Link resolver, the one anonymous surface of the system:
 * `/01/{gtin}/10/{lot}[/21/{serial}]` with GET and HEAD (OPTIONS and CORS
 * come from the app-wide CORS middleware). A browser gets the phone page,
 * an app JSON; `linkType` picks one view or (`all`) the linkset. Answers
 * come from the event-invalidated cache, behind a per-address rate limit.
 */
@ApiTags('scan')
@Controller('01')
export class ScanController {
  constructor(
    @Inject(ScanService) private readonly scans: ScanService,
    @Inject(ScanCache) private readonly cache: ScanCache,
    @Inject(ScanRateLimiter) private readonly limiter: ScanRateLimiter,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Get(['*path'])
  @Public()
  @ApiOperation({
    summary: 'Resolve a GS1 Digital Link',
    description:
      '/01/{gtin}/10/{lot}[/21/{serial}]: the lot; /01/{gtin}/21/{serial}: the serialised item (a lot and a serial with the same text are ' +
      'different items; batch.lot is null for a serialised item). ' +
      'text/html: the consumer page (zh or en from Accept-Language, or ?lang=); application/json: ' +
      '{ product, batch, origin, certificates, inspections, recall, chain, history, madeFrom }. ' +
      '?linkType=gs1:recallStatus → { recall }; gs1:certificationInfo → { certificates }; gs1:traceability → ' +
      '{ batch, origin, chain, history, madeFrom }; gs1:pip → the page or the whole document; all → application/linkset+json. ' +
      'Unknown link types get the default view. Query attributes (?17=YYMMDD, ?11=…) are validated.',
  })
  @ApiProduces('application/json', 'text/html', 'application/linkset+json')
  @ApiResponse({
    status: 200,
    description: 'The scan view selected by linkType and Accept: the JSON document (or the part a linkType selects), the page, or the linkset',
    content: {
      'application/json': { schema: schemaOfExample(SCAN_EXAMPLE), example: SCAN_EXAMPLE },
      'text/html': { schema: { type: 'string', description: 'The consumer page (zh or en)' } },
      'application/linkset+json': { schema: schemaOfExample(LINKSET_EXAMPLE), example: LINKSET_EXAMPLE },
    },
  })
  @ApiResponse({
    status: 304,
    description:
      'Not Modified: a cached answer (X-Cache: hit) carries a strong ETag; If-None-Match with it is answered 304 while the lot is unchanged ' +
      '(Cache-Control: no-cache, so clients revalidate on every scan and a recall shows at once)',
  })
  @ApiTooManyRequestsResponse({ description: 'Rate limit per client address, with Retry-After' })
  async scan(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Access-Control-Expose-Headers', 'Link, Retry-After, X-Cache');
    // Its problems too (bad link, rate limit) in the page's language: Chinese unless English is asked for.
    res.locals.problemLanguage = this.language(req);
    await this.limiter.take(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.TRUST_PROXY_HOPS));
    let ids: { gtin?: string; lot?: string; serial?: string } = {};
    try {
      const link = this.scans.parse(req.originalUrl);
      ids = { gtin: link.gtin, lot: link.lot, serial: link.serial };
      await this.resolve(req, res, link);
    } catch (err) {
      // A person with a phone gets a page that says what to do; programs keep the problem+json.
      if (!(err instanceof DomainError)) throw err;
      const kind = ({ 404: 'not-found', 400: 'bad-link' } as const)[err.status as 404 | 400];
      if (!kind || negotiate(req.headers.accept, VIEW_MEDIA) !== 'text/html') throw err;
      const lang = this.language(req);
      const [path] = req.originalUrl.split('?');
      res.setHeader('Vary', 'Accept, Accept-Language');
      // The batch may be registered a minute from now.
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Content-Language', lang === 'zh' ? 'zh-CN' : 'en');
      res
        .status(err.status)
        .type('text/html; charset=utf-8')
        .send(renderScanProblem(kind, lang, kind === 'not-found' ? ids : {}, `${path}?lang=${lang === 'zh' ? 'en' : 'zh'}`));
    }
  }

  private async resolve(req: Request, res: Response, link: ReturnType<ScanService['parse']>): Promise<void> {
    const { lot, serial } = link;
    const item = ScanService.itemOf(link);
    const wantsAll = link.linkType === 'all';
    // GS1 resolvers fall back to the default link for a link type they do not have.
    const type = link.linkType && !wantsAll ? gs1LinkType(link.linkType) : undefined;
    const media = negotiate(req.headers.accept, wantsAll ? LINKSET_MEDIA : VIEW_MEDIA);
    if (!media) {
      throw new DomainError(406, 'not-acceptable', `This link answers ${(wantsAll ? LINKSET_MEDIA : VIEW_MEDIA).join(', ')}`);
    }

    // A lot and a serial with the same text are different items: the kind is part of the key.
    const { value, hit } = await this.cache.get(scanCacheKey(item), () => this.scans.document(item));
    const doc = item.kind === 'lot' ? withSerial(value, serial) : value;
    const anchor = formatDigitalLink({ gtin: link.gtin, lot, serial }, publicBaseUrl(this.config.PUBLIC_BASE_URL, req.protocol, req.get('host'), this.config.PUBLIC_HOSTS));

    res.setHeader('Vary', 'Accept, Accept-Language');
    // Browsers and shared caches must ask again every time: a recall has to show on the very next scan.
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Cache', hit ? 'hit' : 'miss');
    res.setHeader('Link', `<${anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"`);

    if (wantsAll) {
      res.status(200).type(media).send(JSON.stringify(linksetOf(anchor)));
      return;
    }
    if (media === 'text/html') {
      const lang = this.language(req);
      const path = formatDigitalLink({ gtin: link.gtin, lot, serial });
      res.setHeader('Content-Language', lang === 'zh' ? 'zh-CN' : 'en');
      res.status(200).type('text/html; charset=utf-8').send(
        renderScanPage(doc, lang, { otherLanguage: `${path}?lang=${lang === 'zh' ? 'en' : 'zh'}`, linkset: `${path}?linkType=all` }),
      );
      return;
    }
    res.status(200).type('application/json').send(JSON.stringify(selectView(doc, type)));
  }

  /** ?lang= (the page's language switch) over Accept-Language; Chinese by default, the system's market. */
  private language(req: Request): Lang {
    return pageLanguage(req.query.lang, req.headers['accept-language'], LANGUAGES, 'zh');
  }
}
