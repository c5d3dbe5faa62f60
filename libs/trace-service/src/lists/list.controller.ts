import { Controller, Get, Inject, Query, Req, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { ApiList, CurrentPrincipal, listExample, parseListQuery, type Principal } from '@trace/platform';
import { BATCH_EXAMPLE, PRODUCT_EXAMPLE } from '../openapi-examples';
import type { DomainName } from '../domains';
import { BatchDoc } from '../holdings/holdings.openapi';
import { BATCH_LIST_FILTERS, BATCH_STATUSES, listBatches, listProducts, PRODUCT_LIST_FILTERS } from './list-batches';

const TIME = 'RFC 3339 with offset (write + as %2B in a query string), e.g. 2026-12-01T00:00:00%2B08:00';

/** `GET /v1/{domain}/batches` and `GET /v1/{domain}/products`, one pair per domain (embedded mode serves all five from one server). */
export function createListControllers(domain: DomainName): Type<unknown>[] {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/batches`)
  class BatchListController {
    constructor(@Inject(DataSource) private readonly ds: DataSource) {}

    @Get()
    @ApiOperation({
      summary: `Batches of ${domain}, in id order`,
      description:
        'Inspectors and regulators see every batch; an operator those its organisation holds, held or has in transit to it. ' +
        'Each item is the batch as GET /v1/{domain}/batches/{id} gives it, without holdings. The order is the batch id (stable, not ' +
        'chronological; filter by producedFrom/producedTo for a time window). An operator\'s page may be short, even empty, with a ' +
        'nextCursor when its walk over what the organisation holds stopped early (10,000 batches a page): follow nextCursor until null.',
    })
    @ApiList({
      description: '{ items: [batch], nextCursor }',
      item: BatchDoc,
      example: listExample({ ...BATCH_EXAMPLE, remaining: { value: 1200, unit: 'kg' } }),
      filters: [
        { name: 'gtin', description: 'GTIN-8/12/13/14 (check digit checked), matched as GTIN-14' },
        { name: 'lot', description: 'The lot (or a serialised item\'s serial), exactly' },
        { name: 'status', description: 'The batch status', enum: BATCH_STATUSES },
        { name: 'holderOrgId', description: 'An organisation holding some of it now (received, not in transit)' },
        { name: 'producedFrom', description: `producedAt at or after; ${TIME}` },
        { name: 'producedTo', description: `producedAt at or before; ${TIME}` },
      ],
    })
    list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
      const q = parseListQuery(query, BATCH_LIST_FILTERS, { cursor: ['uuid'], enums: { status: BATCH_STATUSES } });
      return listBatches(this.ds, q, principal, { req, res });
    }
  }

  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/products`)
  class ProductListController {
    constructor(@Inject(DataSource) private readonly ds: DataSource) {}

    @Get()
    @ApiOperation({ summary: `Products of ${domain}, newest first (the catalogue: every signed-in caller)` })
    @ApiList({
      description: '{ items: [{ id, gtin, name, category, ownerOrgId, attributes, createdAt }], nextCursor }',
      example: listExample(PRODUCT_EXAMPLE),
      filters: [{ name: 'gtin', description: 'GTIN-8/12/13/14 (check digit checked), matched as GTIN-14' }],
    })
    list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
      return listProducts(this.ds, parseListQuery(query, PRODUCT_LIST_FILTERS, { cursor: ['micros', 'uuid'] }), { req, res });
    }
  }

  const title = `${domain[0].toUpperCase()}${domain.slice(1)}`;
  Object.defineProperty(BatchListController, 'name', { value: `${title}BatchListController` });
  Object.defineProperty(ProductListController, 'name', { value: `${title}ProductListController` });
  return [BatchListController, ProductListController];
}
