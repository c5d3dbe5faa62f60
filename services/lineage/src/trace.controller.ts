import { Controller, DefaultValuePipe, Get, Inject, Param, ParseEnumPipe, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, badRequest, CurrentPrincipal, Roles, type Principal } from '@trace/platform';
import { TRACE_EXAMPLE } from './openapi-examples';
import { DOMAIN_NAMES } from './lineage-graph';
import { TraceNames } from './trace-names';
import { TraceQuery } from './trace.query';

enum Direction {
  upstream = 'upstream',
  downstream = 'downstream',
  both = 'both',
}

const DOMAINS = new Set<string>(DOMAIN_NAMES);
const DIRECTIONS = Object.values(Direction).join(', ');
/** Nest's own message is "enum string is expected": name the values a caller may send. */
const DIRECTION_PIPE = new ParseEnumPipe(Direction, {
  exceptionFactory: () =>
    badRequest('validation', `direction must be one of: ${DIRECTIONS}`, [{ field: 'direction', message: `must be one of: ${DIRECTIONS}` }]),
});
export const MAX_TRACE_DEPTH = 50;
export const DEFAULT_TRACE_DEPTH = 10;

@ApiTags('trace')
@ApiBearerAuth()
@Controller('v1/trace')
export class TraceController {
  constructor(
    @Inject(TraceQuery) private readonly query: TraceQuery,
    @Inject(TraceNames) private readonly names: TraceNames,
  ) {}

  @Get(':domain/:batchId')
  @Roles('inspector', 'regulator', 'operator')
  @ApiQuery({ name: 'direction', enum: Direction, required: false })
  @ApiQuery({ name: 'depth', type: Number, required: false, description: `1..${MAX_TRACE_DEPTH}, default ${DEFAULT_TRACE_DEPTH}` })
  @ApiJsonResponse(
    200,
    'Batches reachable from the batch within `depth` input edges, upstream (what it was made from), downstream ' +
      '(what was made from it) or both. Operators may trace only batches their organisation owns, holds or held. Nodes carry ' +
      'productName, holderName and locationName (an operator sees the names of its own locations only, else null); edges are the ' +
      'inputs (kind input, from the input batch to the output) and the shipments of each batch (kind shipment, from = to = the ' +
      'batch, with fromOrgId/fromOrgName, toOrgId/toOrgName, quantity, shippedAt; an operator sees those it sent or received).',
    TRACE_EXAMPLE,
  )
  async trace(
    @Param('domain') domain: string,
    @Param('batchId', new ParseUUIDPipe()) batchId: string,
    @Query('direction', new DefaultValuePipe('both'), DIRECTION_PIPE) direction: Direction,
    // Parsed here, not by ParseIntPipe: the global pipe turns "two" into NaN, which DefaultValuePipe then takes for "absent".
    @Query('depth') depthParam: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    if (!DOMAINS.has(domain)) throw badRequest('domain', `unknown domain ${domain}`);
    const depth = depthParam === undefined ? DEFAULT_TRACE_DEPTH : /^\d{1,3}$/.test(depthParam) ? Number(depthParam) : NaN;
    if (!(depth >= 1 && depth <= MAX_TRACE_DEPTH)) {
      throw badRequest('depth', `depth must be an integer between 1 and ${MAX_TRACE_DEPTH}`, [
        { field: 'depth', message: `must be an integer between 1 and ${MAX_TRACE_DEPTH}` },
      ]);
    }
    return this.names.name(await this.query.trace({ domain, batchId, direction, depth }, principal), principal);
  }
}
