import { Controller, Get, type Type } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@trace/platform';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainName } from './domains';

/**
 * `GET /v1/{domain}/categories`: the domain's closed list of product
 * categories with their zh/en names and the rules each brings; registering a
 * product of any other category is a 400 naming these codes.
 */
export function createCategoryController(domain: DomainName, rules: DomainRules): Type<unknown> {
  const items = rules.categories ?? [];

  @ApiTags(domain)
  @Controller(`v1/${domain}/categories`)
  class CategoryController {
    @Get()
    @Public()
    @ApiOkResponse({
      description:
        '{ items: [{ code, name: { zh, en }, rules: [..] }] }: the closed list of product categories; rules are the problem types ' +
        'the category may be refused with (e.g. certificate-required, batch-release-required, ccc-required)',
    })
    list() {
      return { items };
    }
  }
  Object.defineProperty(CategoryController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}CategoryController` });
  return CategoryController;
}
