import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@trace/platform';
import { BatchService, type DomainName } from './batch.service';
import { RegisterBatchDto } from './dto';

/**
 * One controller class per domain, made by this factory: in embedded mode the
 * five domains share one HTTP server, so each needs its own route prefix and
 * its own BatchService instance rather than a `:domain` parameter.
 */
export function createBatchController(domain: DomainName): Type<unknown> {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/batches`)
  class BatchController {
    constructor(@Inject(BatchService) private readonly batches: BatchService) {}

    @Post()
    @HttpCode(201)
    @Roles('operator')
    @ApiCreatedResponse({ description: 'The batch, with its digital link and chain head' })
    register(@Body() dto: RegisterBatchDto, @CurrentPrincipal() principal: Principal) {
      return this.batches.register(dto, principal);
    }

    @Get(':id')
    @ApiOkResponse({ description: 'The batch' })
    get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @CurrentPrincipal() principal: Principal) {
      return this.batches.get(id, principal);
    }
  }
  Object.defineProperty(BatchController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}BatchController` });
  return BatchController;
}
