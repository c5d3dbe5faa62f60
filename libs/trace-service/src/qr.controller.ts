import { Controller, Get, Inject, Param, ParseUUIDPipe, Query, Req, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import QRCode from 'qrcode';
import { formatDigitalLink } from '@trace/gs1';
import { ApiFileResponse, badRequest, CurrentPrincipal, DomainError, negotiate, PLATFORM_CONFIG, publicBaseUrl, Roles, type PlatformConfig, type Principal } from '@trace/platform';
import { BatchService } from './batch.service';
import type { DomainName } from './domains';

const FORMATS = { png: 'image/png', svg: 'image/svg+xml' } as const;
type QrFormat = keyof typeof FORMATS;

/** ?format= wins; else the image type the Accept header prefers (PNG when it does not care). */
function formatOf(format: string | undefined, accept: string | undefined): QrFormat {
  if (format !== undefined) {
    if (format === 'png' || format === 'svg') return format;
    throw badRequest('qr-format', 'format must be png or svg', [{ field: 'format', message: 'png or svg' }]);
  }
  const media = negotiate(accept, [FORMATS.png, FORMATS.svg]);
  if (!media) throw new DomainError(406, 'not-acceptable', 'The QR code comes as image/png or image/svg+xml (or ?format=png|svg)');
  return media === FORMATS.svg ? 'svg' : 'png';
}

/**
 * The QR code to print on a batch's packages: its GS1 Digital Link as an
 * absolute URL (PUBLIC_BASE_URL, else the origin the request came to).
 *
 * Who may fetch it: whoever may read the batch — operators of an
 * organisation that owns, holds or held it, inspectors and regulators. The
 * link it encodes is public (it is printed on the package), but the route
 * takes the internal batch id, which is not, and a 404 for a batch one may
 * not see keeps ids unguessable by probing.
 *
 * A factory, like the batch controllers, because the five domains share one
 * HTTP server in embedded mode.
 */
export function createQrController(domain: DomainName): Type<unknown> {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/batches`)
  class QrController {
    constructor(
      @Inject(BatchService) private readonly batches: BatchService,
      @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    ) {}

    @Get(':id/qr')
    @Roles('operator', 'inspector', 'regulator')
    @ApiOperation({ summary: "QR code of the batch's GS1 Digital Link (PNG or SVG)" })
    @ApiQuery({ name: 'format', required: false, enum: ['png', 'svg'], description: 'Overrides the Accept header; PNG by default' })
    @ApiProduces('image/png', 'image/svg+xml')
    @ApiFileResponse(200, 'The image; the X-Digital-Link header repeats the URL it encodes', { 'image/png': 'binary', 'image/svg+xml': 'text' })
    async qr(
      @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
      @Query('format') format: string | undefined,
      @CurrentPrincipal() principal: Principal,
      @Req() req: Request,
      @Res() res: Response,
    ): Promise<void> {
      const kind = formatOf(format, req.headers.accept);
      const batch = await this.batches.get(id, principal);
      const item = batch.itemKind === 'serial' ? { gtin: batch.gtin, serial: batch.lot } : { gtin: batch.gtin, lot: batch.lot };
      const link = formatDigitalLink(item, publicBaseUrl(this.config.PUBLIC_BASE_URL, req.protocol, req.get('host'), this.config.PUBLIC_HOSTS));
      // Quartile correction survives a scuffed or partly covered label; 4 modules of quiet zone as ISO 18004 asks.
      const options = { errorCorrectionLevel: 'Q' as const, margin: 4 };
      const body = kind === 'svg' ? await QRCode.toString(link, { ...options, type: 'svg' }) : await QRCode.toBuffer(link, { ...options, type: 'png', scale: 8 });
      res.setHeader('X-Digital-Link', link);
      res.setHeader('Cache-Control', 'private, max-age=3600');
      res.setHeader('Vary', 'Accept, Authorization');
      res.setHeader('Content-Disposition', `inline; filename="${domain}-${batch.gtin}-qr.${kind}"`);
      res.status(200).type(FORMATS[kind]).send(body);
    }
  }
  Object.defineProperty(QrController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}QrController` });
  return QrController;
}
