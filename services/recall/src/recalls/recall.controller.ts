import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiJsonResponse, ApiList, CurrentPrincipal, listExample, parseListQuery, Roles, type Principal } from '@trace/platform';
import { ACKNOWLEDGEMENT_EXAMPLE, RECALL_EXAMPLE, RECALL_SUMMARY_EXAMPLE } from '../openapi-examples';
import { AcknowledgementDto, CreateRecallDto, RecallDetailsDto } from './dto';
import { RECALL_LIST_STATUSES, RecallListQuery } from './recall-list.query';
import { RecallService } from './recall.service';

const uuid = () => new ParseUUIDPipe({ version: '4' });

@ApiTags('recalls')
@ApiBearerAuth()
@Controller('v1/recalls')
export class RecallController {
  constructor(
    @Inject(RecallService) private readonly recalls: RecallService,
    @Inject(RecallListQuery) private readonly listing: RecallListQuery,
  ) {}

  @Get()
  @Roles('regulator', 'inspector', 'operator')
  @ApiOperation({
    summary: 'Recalls, newest first (regulators and inspectors: all; an operator: those in whose scope it holds or held something)',
  })
  @ApiList({
    description:
      '{ items: [{ id, status, level, reason, hazard, caseId, regulatorOrgId, createdAt, closedAt, deadlines: { startBy, completeBy }, batchCount }], nextCursor }; ' +
      'GET /v1/recalls/{id} gives the scope, acknowledgements and effectiveness',
    filters: [{ name: 'status', description: 'active or closed', enum: RECALL_LIST_STATUSES }],
    example: listExample(RECALL_SUMMARY_EXAMPLE),
  })
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, ['status'] as const, { cursor: ['micros', 'uuid'], enums: { status: RECALL_LIST_STATUSES } });
    return this.listing.list(q, principal, { req, res });
  }

  @Post()
  @HttpCode(201)
  @Roles('regulator')
  @ApiOperation({
    summary: 'Start a recall (regulator only)',
    description:
      'The scope is the named batches and every batch downstream of them, across all domains (from lineage). ' +
      'Deadlines follow the level (default: start within 24/48/72 h, complete within 10/20/30 working days). ' +
      'Within seconds every batch in scope reads status "recalled" in its own service and cannot be shipped or dispensed (409). ' +
      'While the recall is active its scope follows lineage: a batch found downstream later joins it (scope.batches[].addedAt). ' +
      'A root lineage has not heard of yet is waited for briefly (RECALL_LINEAGE_WAIT_MS) before the 422. ' +
      'scope.holdings lists who held how much of each batch when the recall started, in transit included ' +
      '([{ domain, batchId, orgId, quantity, inTransit, unit }]). A batch already under an active recall (named, or in its scope) ' +
      'is refused with 409 already-recalled and the existing recall\'s id (recallId); recalls start one at a time.',
  })
  @ApiJsonResponse(201, '{ id, status: "active", level, scope: { batches, holdings, organisations }, deadlines: { startBy, completeBy } }', RECALL_EXAMPLE)
  @ApiConflictResponse({ description: 'already-recalled: a named batch is under an active recall (recallId names it)' })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  @ApiUnprocessableEntityResponse({ description: 'A named batch is unknown (unknown-batch)' })
  create(@Body() dto: CreateRecallDto, @CurrentPrincipal() principal: Principal) {
    return this.recalls.create(dto, principal);
  }

  @Get(':id')
  @Roles('regulator', 'inspector', 'operator')
  @ApiOperation({
    summary: 'A recall with its acknowledgements, effectiveness and per-organisation progress',
    description:
      'Operators see only recalls in whose scope they held something. effectiveness (0..1) = (recovered + destroyed) / the quantity held in ' +
      'the supply chain when the recall started (per batch in scope: every holding, in transit included; per unit, averaged over units).',
  })
  @ApiJsonResponse(200, 'The recall, with its acknowledgements and effectiveness', RECALL_EXAMPLE)
  @ApiNotFoundResponse({ description: 'No such recall (or not one the operator is in)' })
  get(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.recalls.get(id, principal);
  }

  @Post(':id/acknowledgements')
  @HttpCode(201)
  @Roles('operator')
  @ApiOperation({
    summary: 'Acknowledge a recall for a batch the organisation holds: quantities recovered, destroyed, already sold',
    description:
      'recovered + destroyed + sold may not exceed what the organisation held of the batch when the recall started (in transit included) ' +
      'plus what it was given since (a return, a shipment sent later): above it is 422 exceeds-holding. Several holders of one batch each acknowledge their part.',
  })
  @ApiJsonResponse(201, 'The acknowledgement (a later one by the same organisation for the same batch replaces the quantities)', ACKNOWLEDGEMENT_EXAMPLE)
  @ApiForbiddenResponse({ description: 'not-in-scope: the organisation holds nothing in the recall; not-the-holder: none of this batch' })
  @ApiUnprocessableEntityResponse({ description: 'batch-not-in-scope, or exceeds-holding (more than the organisation held)' })
  @ApiConflictResponse({ description: 'The recall is closed' })
  acknowledge(@Param('id', uuid()) id: string, @Body() dto: AcknowledgementDto, @CurrentPrincipal() principal: Principal) {
    return this.recalls.acknowledge(id, dto, principal);
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('regulator')
  @ApiOperation({
    summary: 'Close a recall (regulator only); publishes recallClosed with the effectiveness reached',
    description:
      'The scope is compared with lineage first: batches that turned out to be downstream since the recall started ' +
      '(lineage learned of them late) join it, are marked recalled in their services, and the recall stays open (409 recall-scope-grew, with joined).',
  })
  @ApiJsonResponse(200, 'The closed recall', { ...RECALL_EXAMPLE, status: 'closed', closedAt: '2026-12-20T10:00:00.000Z' })
  @ApiConflictResponse({ description: 'Already closed (recall-closed), or the scope just grew (recall-scope-grew)' })
  close(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.recalls.close(id, principal);
  }
}

@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CaseRecallController {
  constructor(@Inject(RecallService) private readonly recalls: RecallService) {}

  @Post(':id/recall')
  @HttpCode(201)
  @Roles('regulator')
  @ApiOperation({ summary: 'Turn an open inspection case into a recall of its batch and everything downstream (regulator only)' })
  @ApiJsonResponse(201, 'The recall, as POST /v1/recalls answers', RECALL_EXAMPLE)
  @ApiNotFoundResponse({ description: 'No such case' })
  @ApiConflictResponse({ description: 'The case is not open, or already a recall' })
  recall(@Param('id', uuid()) id: string, @Body() dto: RecallDetailsDto, @CurrentPrincipal() principal: Principal) {
    return this.recalls.fromCase(id, dto, principal);
  }
}
