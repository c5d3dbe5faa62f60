import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsUUID } from 'class-validator';
import { Internal, Nested, Public } from '@trace/platform';
import { DOMAIN_NAMES } from './lineage-graph';
import { LineageScopeQuery } from './scope.query';

/** 200,000 ids are 8 MB of JSON, inside the 20 MB body limit; a scope that large is 20 times the benchmark's. */
const MAX_HOLDINGS_BATCHES = 200_000;

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

/** The batches whose holdings a recall asks for: as many as a scope has (ten thousand is an ordinary recall). */
export class HoldingsRequestDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_HOLDINGS_BATCHES)
  @IsUUID(undefined, { each: true })
  batchIds: string[];
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

  /**
   * Who holds how much of each named batch ({ holdings }): a recall's whole
   * scope when it starts (the ids of the scope it was just given), the
   * batches that join it later, or one batch for an acknowledgement's ceiling.
   */
  @Post('holdings')
  @HttpCode(200)
  async holdings(@Body() body: HoldingsRequestDto) {
    return { holdings: await this.query.holdings(body.batchIds) };
  }
}
