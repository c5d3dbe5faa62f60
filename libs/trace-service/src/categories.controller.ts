import { Controller, Get, Query, Req, Res, type Type } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiJsonResponse, badRequest, listExample, Public } from '@trace/platform';
import { CATEGORY_EXAMPLE } from './openapi-examples';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainName } from './domains';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/**
 * `GET /v1/{domain}/categories`: the domain's closed list of product
 * categories with their zh/en names and the rules each brings; registering a
 * product of any other category is a 400 naming these codes. A list as API.md
 * "Lists" says: `{ items, nextCursor }`, `?limit=` and `?cursor=` (the last
 * code of the previous page), `Link: rel="next"`, any other parameter a 400.
 */
export function createCategoryController(domain: DomainName, rules: DomainRules): Type<unknown> {
  const items = rules.categories ?? [];

  @ApiTags(domain)
  @Controller(`v1/${domain}/categories`)
  class CategoryController {
    @Get()
    @Public()
    @ApiQuery({ name: 'limit', required: false, description: `1-${MAX_LIMIT}, default ${DEFAULT_LIMIT}` })
    @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
    @ApiJsonResponse(
      200,
      '{ items: [{ code, name: { zh, en }, rules: [..] }], nextCursor }: the closed list of product categories; rules are the problem ' +
        'types a product of the category may be refused with (e.g. certificate-required, batch-release-required, ccc-required)',
      listExample(CATEGORY_EXAMPLE),
    )
    list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
      const unknown = Object.keys(query).filter((k) => k !== 'limit' && k !== 'cursor');
      if (unknown.length) {
        throw badRequest('unknown-parameter', `Unknown query parameter: ${unknown.join(', ')}`, unknown.map((field) => ({ field, message: 'is not a parameter of this list' })));
      }
      const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
      if (typeof query.limit === 'object' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw badRequest('invalid-parameter', `limit must be an integer from 1 to ${MAX_LIMIT}`, [{ field: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
      }
      let start = 0;
      if (query.cursor !== undefined) {
        const at = typeof query.cursor === 'string' ? items.findIndex((c) => c.code === query.cursor) : -1;
        if (at < 0) throw badRequest('invalid-parameter', 'cursor is not a cursor of this list', [{ field: 'cursor', message: 'not a cursor of this list' }]);
        start = at + 1;
      }
      const page = items.slice(start, start + limit);
      const nextCursor = start + limit < items.length ? page[page.length - 1].code : null;
      if (nextCursor) {
        const next = new URL(req.originalUrl, 'http://x');
        next.searchParams.set('cursor', nextCursor);
        res.setHeader('Link', `<${next.pathname}${next.search}>; rel="next"`);
      }
      return { items: page, nextCursor };
    }
  }
  Object.defineProperty(CategoryController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}CategoryController` });
  return CategoryController;
}
