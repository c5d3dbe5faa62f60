import { Controller, Get, Header, Inject, NotAcceptableException, Req } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '@trace/platform';
import { ScanService } from './scan.service';

/**
 * GS1 Digital Link resolver: `/01/{gtin}/10/{lot}` (optionally `/21/{serial}`).
 * JSON for apps; the phone page arrives with the scan-page issue.
 */
@ApiTags('scan')
@Controller('01')
export class ScanController {
  constructor(@Inject(ScanService) private readonly scans: ScanService) {}

  @Get(['*path'])
  @Public()
  @Header('Vary', 'Accept')
  @ApiProduces('application/json')
  @ApiOkResponse({ description: '{ product, batch, origin, certificates, inspections, recall, chain, history, madeFrom }' })
  async scan(@Req() req: Request) {
    const accept = req.headers.accept ?? '*/*';
    if (!/application\/json|\*\/\*|application\/\*/.test(accept)) {
      throw new NotAcceptableException('Only application/json is served here for now');
    }
    return this.scans.scan(req.originalUrl);
  }
}
