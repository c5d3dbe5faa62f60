import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import QRCode from 'qrcode';
import { DomainError, negotiate, PLATFORM_CONFIG, preferredLanguage, Public, publicBaseUrl, RateLimitedLookup, schemaOfExample, type PlatformConfig } from '@trace/platform';
import { PUBLIC_CERTIFICATE_EXAMPLE } from './openapi-examples';
import { renderCertificatePage, renderCertificateProblem, type CertificateLang } from './certificate-page';
import { CertificateService } from './certificates';

const MEDIA = ['application/json', 'text/html'] as const;

/** ?lang= (the page's switch) over Accept-Language; Chinese unless the reader prefers and accepts English, as on the scan page. */
function languageOf(req: Request): CertificateLang {
  const asked = req.query.lang;
  if (asked === 'zh' || asked === 'en') return asked;
  const header = req.headers['accept-language'];
  return header && preferredLanguage(header) === 'en' && /(^|,)\s*en\b/i.test(header) ? 'en' : 'zh';
}

/**
 * Public verification of a commitment-to-compliance certificate: what the
 * scan page's "verify" link and the QR code on the paper certificate open.
 * A program (Accept: application/json, or anything without text/html) gets
 * the certificate as JSON; a browser gets the certificate page, which is also
 * the print-ready form (A6, with its QR code).
 */
@ApiTags('certificates')
@Controller('v1/certificates')
export class CertificateVerificationController {
  constructor(
    @Inject(CertificateService) private readonly certificates: CertificateService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Get(':number')
  @Public()
  @RateLimitedLookup()
  @ApiOperation({
    summary: 'Verify a commitment-to-compliance certificate (承诺达标合格证)',
    description:
      'Anyone may verify. application/json: { number, status, issuedAt, batch, product, quantity, producer, origin, contact, commitments, basis, qrLink } ' +
      '(no internal ids). text/html: the certificate page in Chinese or English (Accept-Language, ?lang=zh|en), print-ready: on paper the form ' +
      'alone on one A6 sheet with its QR code (which encodes this URL). A browser asking for an unknown or malformed number gets a page with the ' +
      "problem's status; programs get problem+json.",
  })
  @ApiQuery({ name: 'lang', required: false, enum: ['zh', 'en'], description: 'Language of the HTML page (overrides Accept-Language)' })
  @ApiProduces('application/json', 'text/html')
  @ApiResponse({
    status: 200,
    description: 'The certificate as issued, JSON or the print-ready page',
    content: {
      'application/json': { schema: schemaOfExample(PUBLIC_CERTIFICATE_EXAMPLE), example: PUBLIC_CERTIFICATE_EXAMPLE },
      'text/html': { schema: { type: 'string', description: 'The certificate page (zh or en), print-ready' } },
    },
  })
  @ApiTooManyRequestsResponse({ description: 'Too many look-ups from this address (LOOKUP_RATE_LIMIT a minute); Retry-After says when to try again' })
  async verify(@Param('number') number: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const media = negotiate(req.headers.accept, MEDIA);
    if (!media) throw new DomainError(406, 'not-acceptable', `A certificate is answered as ${MEDIA.join(' or ')}`);
    res.setHeader('Vary', 'Accept, Accept-Language');
    // A certificate can lose its validity and its batch be recalled: never served from a stale copy.
    res.setHeader('Cache-Control', 'no-cache');
    if (media === 'application/json') {
      res.status(200).type('application/json').send(JSON.stringify(await this.certificates.verify(number)));
      return;
    }
    const lang = languageOf(req);
    const path = `/v1/certificates/${encodeURIComponent(number)}`;
    const otherLanguage = `${path}?lang=${lang === 'zh' ? 'en' : 'zh'}`;
    res.setHeader('Content-Language', lang === 'zh' ? 'zh-CN' : 'en');
    let certificate: Awaited<ReturnType<CertificateService['verify']>>;
    try {
      certificate = await this.certificates.verify(number);
    } catch (err) {
      const kind = err instanceof DomainError ? ({ 404: 'not-found', 400: 'bad-number' } as const)[err.status as 404 | 400] : undefined;
      if (!kind) throw err;
      res.status((err as DomainError).status).type('text/html; charset=utf-8').send(renderCertificateProblem(kind, lang, otherLanguage));
      return;
    }
    // The printed code must open this page from any phone: an absolute URL (PUBLIC_BASE_URL, else an allowed Host).
    const verifyUrl = `${publicBaseUrl(this.config.PUBLIC_BASE_URL, req.protocol, req.get('host'), this.config.PUBLIC_HOSTS)}${path}`;
    // Medium correction and a 2-module margin: the code is small on an A6 sheet and the form's border frames it.
    const qrSvg = await QRCode.toString(verifyUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    res.status(200).type('text/html; charset=utf-8').send(renderCertificatePage(certificate, lang, { otherLanguage, verifyUrl, qrSvg }));
  }
}
