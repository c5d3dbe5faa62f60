import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Put, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiJsonResponse, ApiList, CurrentPrincipal, listExample, parseListQuery, Roles, type Principal } from '@trace/platform';
import { CALENDAR_DAY_EXAMPLE, CALENDAR_EXAMPLE, INCIDENT_EXAMPLE, INCIDENT_OPENED_EXAMPLE, INCIDENT_REPORT_FILED_EXAMPLE } from '../openapi-examples';
import { CalendarService } from './calendar.service';
import { CalendarDayDto, CalendarYearDto, FileIncidentReportDto, OpenIncidentDto } from './dto';
import { INCIDENT_STATUSES, IncidentService } from './incident.service';

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
  @ApiJsonResponse(201, '{ id, responsibleOrgId, reportDueBy, status: "awaiting_report" }', INCIDENT_OPENED_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Malformed body, bad GTIN check digit, awareAt in the future' })
  @ApiForbiddenResponse({ description: 'Not an operator or regulator' })
  @ApiUnprocessableEntityResponse({ description: 'No lot given (incident-lot-required) or no such batch (incident-unknown-batch)' })
  open(@Body() dto: OpenIncidentDto, @CurrentPrincipal() principal: Principal) {
    return this.incidents.open(dto, principal);
  }

  @Post(':id/reports')
  @Roles('operator')
  @ApiOperation({ summary: "The responsible organisation's report; on time → reported, after the due time → reported_late" })
  @ApiJsonResponse(201, '{ id, status, late, reportedAt, reportDueBy }', INCIDENT_REPORT_FILED_EXAMPLE)
  @ApiForbiddenResponse({ description: 'Not the responsible organisation' })
  @ApiNotFoundResponse({ description: 'No such incident (or not visible to the caller)' })
  @ApiConflictResponse({ description: 'Already reported' })
  report(@Param('id', uuid()) id: string, @Body() dto: FileIncidentReportDto, @CurrentPrincipal() principal: Principal) {
    return this.incidents.fileReport(id, dto, principal);
  }

  @Get()
  @Roles('regulator', 'operator')
  @ApiOperation({ summary: 'Incidents, earliest due first (regulators: all; an operator: those its organisation reported or must report)' })
  @ApiList({
    description: '{ items: [incident as GET /v1/incidents/{id} gives it], nextCursor }',
    example: listExample(INCIDENT_EXAMPLE),
    filters: [{ name: 'status', description: 'overdue counts by the clock, whether or not the sweep has recorded it yet', enum: INCIDENT_STATUSES }],
  })
  @ApiForbiddenResponse({ description: 'Neither a regulator nor an operator' })
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, ['status'] as const, { cursor: ['micros', 'uuid'], enums: { status: INCIDENT_STATUSES } });
    return this.incidents.list(q, principal, { req, res });
  }

  @Get(':id')
  @Roles('operator', 'regulator')
  @ApiOperation({ summary: 'One incident (regulators; the responsible or the reporting organisation)' })
  @ApiJsonResponse(200, 'The incident, with its report once filed', INCIDENT_EXAMPLE)
  @ApiNotFoundResponse({ description: 'No such incident (or not visible to the caller)' })
  get(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.incidents.get(id, principal);
  }
}

@ApiTags('incidents')
@ApiBearerAuth()
@Controller('v1/calendar')
export class CalendarController {
  constructor(@Inject(CalendarService) private readonly calendar: CalendarService) {}

  @Get()
  @ApiOperation({
    summary: 'The working-day calendar of a year (any signed-in caller)',
    description:
      'Every day of the year as report and recall deadlines count it: { year, workingDays, holidays, makeUpWorkingDays, days: [{ day, working, note }] }. ' +
      'holidays are weekdays that are not working days, makeUpWorkingDays weekend days that are (调休); a day never set counts Monday–Friday.',
  })
  @ApiQuery({ name: 'year', required: true, example: 2027 })
  @ApiJsonResponse(200, 'The year: its working days, the holidays and make-up working days that differ from Monday–Friday, and every day', CALENDAR_EXAMPLE)
  @ApiBadRequestResponse({ description: 'year missing or not a year from 2000 to 2100 (invalid-parameter)' })
  year(@Query('year') year: string) {
    return this.calendar.year(year);
  }

  @Put('years/:year')
  @HttpCode(200)
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary: "Load a year's calendar as published: holidays and make-up working days (regulator or admin)",
    description:
      'Replaces the whole year in one transaction: every day back to Monday–Friday, then the holidays off and the make-up days on. ' +
      'Applies to deadlines computed afterwards; those already given stay. Answers as GET /v1/calendar?year=.',
  })
  @ApiJsonResponse(200, 'The year as loaded (as GET /v1/calendar answers)', CALENDAR_EXAMPLE)
  @ApiBadRequestResponse({ description: 'A day outside the year, not a date, or listed twice' })
  @ApiForbiddenResponse({ description: 'Not a regulator or admin' })
  loadYear(@Param('year') year: string, @Body() dto: CalendarYearDto, @CurrentPrincipal() principal: Principal) {
    return this.calendar.loadYear(year, dto, principal);
  }

  @Put(':date')
  @HttpCode(200)
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary: 'Set whether a day is a working day (regulator or admin)',
    description:
      'Report deadlines count working days on this calendar (public holidays, adjusted working weekend days). ' +
      'A change applies to incidents opened afterwards; due times already given stay as they were.',
  })
  @ApiJsonResponse(200, '{ day, working, note }', CALENDAR_DAY_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Not a date YYYY-MM-DD, or a malformed body' })
  @ApiForbiddenResponse({ description: 'Not a regulator or admin' })
  upsert(@Param('date') date: string, @Body() dto: CalendarDayDto, @CurrentPrincipal() principal: Principal) {
    return this.calendar.upsertDay(date, dto.working, dto.note, principal);
  }
}
