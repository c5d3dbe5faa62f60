import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsUUID } from 'class-validator';
import { Internal, Nested, Public } from '@trace/platform';
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
 * HttpLineageScope): only with a service credential; not HTTP at all when
 * embedded. Not part of the public API.
 */
@ApiExcludeController()
@Internal()
@Public()
@Controller('internal/v1/lineage')
export class LineageScopeController {
  constructor(@Inject(LineageScopeQuery) private readonly query: LineageScopeQuery) {}

  @Post('scope')
  @HttpCode(200)
  scope(@Body() body: ScopeRequestDto) {
    return this.query.scope(body.roots);
  }

  /** How many batches the scope holds now ({ size }): an active recall's "has anything joined?", without the scope itself. */
  @Post('scope/size')
  @HttpCode(200)
  async size(@Body() body: ScopeRequestDto) {
    return { size: await this.query.size(body.roots) };
  }

  /** Who holds how much of every batch in the roots' scope ({ holdings }): a recall's holdings when it starts. */
  @Post('holdings')
  @HttpCode(200)
  async holdings(@Body() body: ScopeRequestDto) {
    return { holdings: await this.query.holdings(body.roots, true) };
  }

  /** The same for the named batches only: an acknowledgement's ceiling. */
  @Post('holdings/of')
  @HttpCode(200)
  async holdingsOf(@Body() body: ScopeRequestDto) {
    return { holdings: await this.query.holdings(body.roots, false) };
  }
}
