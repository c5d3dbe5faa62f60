import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiJsonResponse, ApiList, CurrentPrincipal, listExample, parseListQuery, Roles, type Principal } from '@trace/platform';
import { CASE_CLOSED_EXAMPLE, CASE_EXAMPLE } from './openapi-examples';
import { CASE_RESOLUTIONS, CloseCase, type CaseResolution } from './case-resolution';
import { CASE_STATUSES, CaseQuery } from './case.query';

export class CloseCaseDto {
  @ApiProperty({ example: 'dismissed', enum: CASE_RESOLUTIONS, description: 'recalled: a recall covers its batch (linked); cleared, dismissed: with a reason' })
  @IsIn(CASE_RESOLUTIONS)
  resolution: CaseResolution;

  @ApiPropertyOptional({ example: 'Sample mislabelled by the laboratory', description: 'Required for cleared and dismissed' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string;
}

@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CaseController {
  constructor(
    @Inject(CaseQuery) private readonly cases: CaseQuery,
    @Inject(CloseCase) private readonly closer: CloseCase,
  ) {}

  @Get()
  @Roles('regulator')
  @ApiOperation({
    summary: 'Cases for the regulator (regulator only)',
    description:
      'One case per failed supervision-sampling result, newest first: the batch (domain, batchId, gtin, lot, holderOrgId), ' +
      'the failed inspection (reportNo, agency, failingItems), its re-tests, status open/cleared and openedAt. ' +
      'Cases follow the inspection events within seconds.',
  })
  @ApiList({
    description: '{ items: [case], nextCursor }',
    example: listExample(CASE_EXAMPLE),
    filters: [{ name: 'status', description: 'open, or how it was resolved: cleared, recalled, dismissed', enum: CASE_STATUSES }],
  })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.cases.list(parseListQuery(query, ['status'] as const, { cursor: ['micros', 'uuid'], enums: { status: CASE_STATUSES } }), { req, res });
  }

  @Get(':id')
  @Roles('regulator')
  @ApiOperation({ summary: 'One case (regulator only)' })
  @ApiJsonResponse(200, 'The case', CASE_EXAMPLE)
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  @ApiNotFoundResponse({ description: 'No such case' })
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.cases.get(id);
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('regulator')
  @ApiOperation({
    summary: 'Close an open case with a resolution (regulator only)',
    description:
      'recalled: a recall already covers the batch (it is linked as resolution.recallId; POST /v1/cases/{id}/recall starts one and closes ' +
      'the case itself); cleared (e.g. a re-test outside the platform) and dismissed need a reason. A passing re-test clears a case on its own.',
  })
  @ApiJsonResponse(200, 'The case, with its resolution', CASE_CLOSED_EXAMPLE)
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  @ApiNotFoundResponse({ description: 'No such case' })
  @ApiConflictResponse({ description: 'The case is resolved already (case-not-open), or no recall covers its batch (no-recall)' })
  async close(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @Body() dto: CloseCaseDto, @CurrentPrincipal() principal: Principal) {
    await this.closer.close(id, dto, principal);
    return this.cases.get(id);
  }
}
