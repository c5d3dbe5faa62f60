import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { badRequest, CurrentPrincipal, Roles, type Principal } from '@trace/platform';
import { CalendarDayDto, FileIncidentReportDto, OpenIncidentDto } from './dto';
import { INCIDENT_STATUSES, IncidentService, type IncidentStatus } from './incident.service';

const MAX_LIMIT = 500;
const uuid = () => new ParseUUIDPipe({ version: '4' });

@ApiTags('incidents')
@ApiBearerAuth()
@Controller('v1/incidents')
export class IncidentController {
  constructor(@Inject(IncidentService) private readonly incidents: IncidentService) {}

  @Post()
  @Roles('operator', 'regulator')
  @ApiOperation({
    summary: 'Open a mandatory incident report (operators, hospitals, regulators)',
    description:
      'The responsible organisation is the producer (owner) of the batch named by domain, GTIN and lot. ' +
      'reportDueBy is 24:00 Asia/Shanghai of the N-th working day after the day of awareness, on the working-day calendar; ' +
      'N depends on the severity (death / serious injury: 2 by default).',
  })
  @ApiCreatedResponse({ description: '{ id, responsibleOrgId, reportDueBy, status: "awaiting_report" }' })
  @ApiBadRequestResponse({ description: 'Malformed body, bad GTIN check digit, awareAt in the future' })
  @ApiForbiddenResponse({ description: 'Not an operator or regulator' })
  @ApiUnprocessableEntityResponse({ description: 'No lot given (incident-lot-required) or no such batch (incident-unknown-batch)' })
  open(@Body() dto: OpenIncidentDto, @CurrentPrincipal() principal: Principal) {
    return this.incidents.open(dto, principal);
  }

  @Post(':id/reports')
  @Roles('operator')
  @ApiOperation({ summary: "The responsible organisation's report; on time → reported, after the due time → reported_late" })
  @ApiCreatedResponse({ description: '{ id, status, late, reportedAt, reportDueBy }' })
  @ApiForbiddenResponse({ description: 'Not the responsible organisation' })
  @ApiNotFoundResponse({ description: 'No such incident (or not visible to the caller)' })
  @ApiConflictResponse({ description: 'Already reported' })
  report(@Param('id', uuid()) id: string, @Body() dto: FileIncidentReportDto, @CurrentPrincipal() principal: Principal) {
    return this.incidents.fileReport(id, dto, principal);
  }

  @Get()
  @Roles('regulator')
  @ApiOperation({ summary: 'Incidents for the regulator, earliest due first' })
  @ApiQuery({ name: 'status', enum: INCIDENT_STATUSES, required: false })
  @ApiQuery({ name: 'limit', type: Number, required: false, description: `1..${MAX_LIMIT}, default 100` })
  @ApiOkResponse({ description: 'The incidents' })
  @ApiForbiddenResponse({ description: 'Not a regulator' })
  list(@Query('status') status?: string, @Query('limit') limitParam?: string) {
    if (status !== undefined && !(INCIDENT_STATUSES as readonly string[]).includes(status)) {
      throw badRequest('status', `status must be one of ${INCIDENT_STATUSES.join(', ')}`, [
        { field: 'status', message: `must be one of ${INCIDENT_STATUSES.join(', ')}` },
      ]);
    }
    const limit = limitParam === undefined ? 100 : /^\d{1,3}$/.test(limitParam) ? Number(limitParam) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw badRequest('limit', `limit must be an integer between 1 and ${MAX_LIMIT}`, [
        { field: 'limit', message: `must be an integer between 1 and ${MAX_LIMIT}` },
      ]);
    }
    return this.incidents.list(status as IncidentStatus | undefined, limit);
  }

  @Get(':id')
  @Roles('operator', 'regulator')
  @ApiOperation({ summary: 'One incident (regulators; the responsible or the reporting organisation)' })
  @ApiOkResponse({ description: 'The incident, with its report once filed' })
  @ApiNotFoundResponse({ description: 'No such incident (or not visible to the caller)' })
  get(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.incidents.get(id, principal);
  }
}

@ApiTags('incidents')
@ApiBearerAuth()
@Controller('v1/calendar')
export class CalendarController {
  constructor(@Inject(IncidentService) private readonly incidents: IncidentService) {}

  @Put(':date')
  @HttpCode(200)
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary: 'Set whether a day is a working day (regulator or admin)',
    description:
      'Report deadlines count working days on this calendar (public holidays, adjusted working weekend days). ' +
      'A change applies to incidents opened afterwards; due times already given stay as they were.',
  })
  @ApiOkResponse({ description: '{ day, working, note }' })
  @ApiBadRequestResponse({ description: 'Not a date YYYY-MM-DD, or a malformed body' })
  @ApiForbiddenResponse({ description: 'Not a regulator or admin' })
  upsert(@Param('date') date: string, @Body() dto: CalendarDayDto, @CurrentPrincipal() principal: Principal) {
    return this.incidents.upsertCalendarDay(date, dto.working, dto.note, principal);
  }
}
