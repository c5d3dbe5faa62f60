import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiList, CurrentPrincipal, listExample, parseListQuery, Roles, type Principal } from '@trace/platform';
import { INCOMING_ITEM_EXAMPLE, SEARCH_ITEM_EXAMPLE } from '../openapi-examples';
import { LineageListQuery } from './lists.query';

@ApiTags('search')
@ApiBearerAuth()
@Controller('v1/search')
export class SearchController {
  constructor(@Inject(LineageListQuery) private readonly lists: LineageListQuery) {}

  @Get()
  @Roles('operator', 'inspector', 'regulator')
  @ApiOperation({
    summary: 'Find batches of every domain by GTIN, lot or GS1 Digital Link',
    description:
      'Answered from the lineage read model (it follows every domain within seconds). Inspectors and regulators see every batch; ' +
      'an operator those its organisation owns, holds, held or was shipped. Digits that are a valid GTIN also match a lot written the same way.',
  })
  @ApiList({
    description: '{ items: [{ domain, batchId, gtin, lot, status, ownerOrgId, holderOrgId, quantity, registeredAt, digitalLink, href }], nextCursor }, newest first',
    example: listExample(SEARCH_ITEM_EXAMPLE),
    filters: [{ name: 'q', description: 'Required: a GTIN (8, 12, 13 or 14 digits), a lot, or a Digital Link such as /01/09506000134352/10/LOT-1' }],
  })
  search(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.lists.search(parseListQuery(query, ['q'] as const, { cursor: ['micros', 'uuid'] }), principal, { req, res });
  }
}

@ApiTags('shipments')
@ApiBearerAuth()
@Controller('v1/shipments')
export class IncomingShipmentsController {
  constructor(@Inject(LineageListQuery) private readonly lists: LineageListQuery) {}

  @Get('incoming')
  @Roles('operator')
  @ApiOperation({
    summary: "What is in transit to the caller's organisation, all domains",
    description:
      'One item per batch, latest shipment first: quantity is everything of the batch in transit to the organisation; fromOrgId, shippedAt and ' +
      'eventId are those of the latest shipment to it. An item goes when the organisation records receiving (or the shipment is voided). ' +
      'Answered from the lineage read model, within seconds of the shipment.',
  })
  @ApiList({ description: '{ items: [{ domain, batchId, gtin, lot, quantity: { value, unit }, fromOrgId, shippedAt, eventId }], nextCursor }', example: listExample(INCOMING_ITEM_EXAMPLE) })
  incoming(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.lists.incoming(parseListQuery(query, [] as never[], { cursor: ['micros', 'uuid'] }), principal, { req, res });
  }
}
