import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { ApiList, CurrentPrincipal, listExample, listPage, ORG_KINDS, parseListQuery, Roles, sqlFromMicros, sqlMicros, type Principal } from '@trace/platform';
import { LOCATION_EXAMPLE, ORGANISATION_EXAMPLE } from '../openapi-examples';
import { LocationDto, OrganisationDto } from './dto';
import { COLUMNS, toDto, type LocationRow } from './locations.service';

/**
 * `GET /v1/orgs` (admins and regulators) and `GET /v1/locations` (an
 * operator its own; inspectors, regulators and admins all), newest first.
 * The gateway owns both tables, so these are plain reads of its schema.
 */
@ApiTags('organisations')
@ApiBearerAuth()
@Controller('v1/orgs')
export class OrganisationListController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get()
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'Organisations, newest first (admins and regulators)' })
  @ApiList({ description: '{ items: [{ id, name, kind }], nextCursor }', item: OrganisationDto, example: listExample(ORGANISATION_EXAMPLE), filters: [{ name: 'kind', description: 'The kind of organisation', enum: ORG_KINDS }] })
  async list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, ['kind'] as const, { cursor: ['micros', 'text'], enums: { kind: ORG_KINDS } });
    const rows = (await this.ds.query(
      `SELECT id, name, kind, ${sqlMicros('created_at')} AS sort_at FROM organisations
        WHERE kind <> 'platform' AND ($2::text IS NULL OR kind = $2)
          AND ($3::text IS NULL OR (created_at, id) < (${sqlFromMicros('$3')}, $4::text))
        ORDER BY created_at DESC, id DESC LIMIT $1`,
      [q.limit + 1, q.filters.kind ?? null, q.after?.[0] ?? null, q.after?.[1] ?? null],
    )) as { id: string; name: string; kind: string; sort_at: string }[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], { req, res }, ({ id, name, kind }) => ({ id, name, kind }));
  }
}

@ApiTags('locations')
@ApiBearerAuth()
@Controller('v1/locations')
export class LocationListController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ summary: "Locations, newest first: an operator its organisation's; inspectors, regulators and admins all" })
  @ApiList({ description: '{ items: [location], nextCursor }', item: LocationDto, example: listExample(LOCATION_EXAMPLE) })
  async list(@Query() query: Record<string, unknown>, @CurrentPrincipal() caller: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, [] as never[], { cursor: ['micros', 'uuid'] });
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS}, ${sqlMicros('created_at')} AS sort_at FROM locations
        WHERE ($2::text IS NULL OR org_id = $2)
          AND ($3::text IS NULL OR (created_at, id) < (${sqlFromMicros('$3')}, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $1`,
      [q.limit + 1, caller.role === 'operator' ? caller.orgId : null, q.after?.[0] ?? null, q.after?.[1] ?? null],
    )) as (LocationRow & { sort_at: string })[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], { req, res }, toDto);
  }
}
