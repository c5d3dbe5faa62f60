import { Controller, Get, Inject, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiList, parseListQuery, Roles } from '@trace/platform';
import { CASE_STATUSES, CaseQuery } from './case.query';

@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CaseController {
  constructor(@Inject(CaseQuery) private readonly cases: CaseQuery) {}

  @Get()
  @Roles('regulator')
  @ApiOperation({
    summary: 'Cases for the regulator (regulator only)',
    description:
      'One case per failed supervision-sampling result, newest first: the batch (domain, batchId, gtin, lot, holderOrgId), ' +
      'the failed inspection (reportNo, agency, failingItems), its re-tests, status open/cleared and openedAt. ' +
      'Cases follow the inspection events within seconds.',
  })
  @ApiList({ description: '{ items: [case], nextCursor }', filters: [{ name: 'status', description: 'open or cleared', enum: CASE_STATUSES }] })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.cases.list(parseListQuery(query, ['status'] as const, { cursor: ['micros', 'uuid'], enums: { status: CASE_STATUSES } }), { req, res });
  }

  @Get(':id')
  @Roles('regulator')
  @ApiOperation({ summary: 'One case (regulator only)' })
  @ApiOkResponse({ description: 'The case' })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  @ApiNotFoundResponse({ description: 'No such case' })
  get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string) {
    return this.cases.get(id);
  }
}
