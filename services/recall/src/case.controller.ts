import { Controller, Get, Inject, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { badRequest, Roles } from '@trace/platform';
import { CASE_STATUSES, CaseQuery, type CaseStatus } from './case.query';

const MAX_LIMIT = 500;

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
  @ApiQuery({ name: 'status', enum: CASE_STATUSES, required: false })
  @ApiQuery({ name: 'limit', type: Number, required: false, description: `1..${MAX_LIMIT}, default 100` })
  @ApiOkResponse({ description: 'The cases' })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  list(@Query('status') status?: string, @Query('limit') limitParam?: string) {
    if (status !== undefined && !(CASE_STATUSES as readonly string[]).includes(status)) {
      throw badRequest('status', `status must be one of ${CASE_STATUSES.join(', ')}`, [
        { field: 'status', message: `must be one of ${CASE_STATUSES.join(', ')}` },
      ]);
    }
    const limit = limitParam === undefined ? 100 : /^\d{1,3}$/.test(limitParam) ? Number(limitParam) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw badRequest('limit', `limit must be an integer between 1 and ${MAX_LIMIT}`, [
        { field: 'limit', message: `must be an integer between 1 and ${MAX_LIMIT}` },
      ]);
    }
    return this.cases.list(status as CaseStatus | undefined, limit);
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
