import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsUUID } from 'class-validator';
import { CurrentPrincipal, forbidden, isServicePrincipal, Nested, Roles, type Principal } from '@trace/platform';
import { DOMAIN_NAMES } from './lineage-graph';
import { LineageScopeQuery } from './scope.query';

export class ScopeRootDto {
  @IsIn(DOMAIN_NAMES)
  domain: string;

  @IsUUID()
  batchId: string;
}

export class ScopeRequestDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Nested(() => ScopeRootDto, { each: true })
  roots: ScopeRootDto[];
}

/**
 * What the recall service asks in distributed mode (libs/platform
 * HttpLineageScope): only for tokens a service signed for itself. Not part of
 * the public API.
 */
@ApiExcludeController()
@Controller('internal/v1/lineage')
export class LineageScopeController {
  constructor(@Inject(LineageScopeQuery) private readonly query: LineageScopeQuery) {}

  @Post('scope')
  @HttpCode(200)
  @Roles('admin')
  scope(@Body() body: ScopeRequestDto, @CurrentPrincipal() caller: Principal) {
    if (!isServicePrincipal(caller)) throw forbidden('service-only', 'Internal endpoints answer services only');
    return this.query.scope(body.roots);
  }

  /** How many batches the scope holds now ({ size }): an active recall's "has anything joined?", without the scope itself. */
  @Post('scope/size')
  @HttpCode(200)
  @Roles('admin')
  async size(@Body() body: ScopeRequestDto, @CurrentPrincipal() caller: Principal) {
    if (!isServicePrincipal(caller)) throw forbidden('service-only', 'Internal endpoints answer services only');
    return { size: await this.query.size(body.roots) };
  }

  /** Who holds how much of every batch in the roots' scope ({ holdings }): a recall's holdings when it starts. */
  @Post('holdings')
  @HttpCode(200)
  @Roles('admin')
  async holdings(@Body() body: ScopeRequestDto, @CurrentPrincipal() caller: Principal) {
    if (!isServicePrincipal(caller)) throw forbidden('service-only', 'Internal endpoints answer services only');
    return { holdings: await this.query.holdings(body.roots, true) };
  }

  /** The same for the named batches only: an acknowledgement's ceiling. */
  @Post('holdings/of')
  @HttpCode(200)
  @Roles('admin')
  async holdingsOf(@Body() body: ScopeRequestDto, @CurrentPrincipal() caller: Principal) {
    if (!isServicePrincipal(caller)) throw forbidden('service-only', 'Internal endpoints answer services only');
    return { holdings: await this.query.holdings(body.roots, false) };
  }
}
