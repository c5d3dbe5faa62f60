import { Controller, Get, Headers, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { badRequest, CurrentPrincipal, DomainError, Roles, type Principal } from '@trace/platform';
import { parseOffsetTime } from '@trace/trace-chain';
import { toCsv } from './fsma-sheet';
import { toXlsx } from './fsma-xlsx';
import { FsmaExportQuery } from './fsma.query';

export const CSV = 'text/csv';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const DAY = 86_400_000;
/** GS1 AI 10 (lot): 1–20 characters of the GS1 character set, as batches are registered. */
const LOT = /^[!"%-?A-Z_a-z]{1,20}$/;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const invalid = (field: string, message: string) => badRequest('invalid-parameter', `${field}: ${message}`, [{ field, message }]);

/**
 * A bound of the date filter: an RFC 3339 date-time, or a full date meaning
 * that whole day in UTC (so `to=2026-11-20` includes the 20th). Both bounds
 * are inclusive.
 */
export function parseBound(field: 'from' | 'to', value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const day = FULL_DATE.exec(value);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = new Date(Date.UTC(y, m - 1, d));
    // Date.UTC rolls 31 February over into March: only a day that exists round-trips.
    if (start.getUTCFullYear() !== y || start.getUTCMonth() !== m - 1 || start.getUTCDate() !== d) throw invalid(field, 'not a calendar date');
    return field === 'from' ? start : new Date(start.getTime() + DAY);
  }
  const time = parseOffsetTime(value);
  if ('problem' in time) throw invalid(field, `must be an RFC 3339 date-time with offset or a full date (YYYY-MM-DD): ${value} ${time.problem}`);
  const t = time.instant.getTime();
  // The filter's upper bound is exclusive; a date-time `to` includes its own instant.
  return new Date(field === 'from' ? t : t + 1);
}

/** `format` wins; else the Accept header; anything else than CSV or XLSX asked for alone is a 406. */
export function chooseFormat(format: string | undefined, accept: string | undefined): 'csv' | 'xlsx' {
  if (format !== undefined) {
    if (format === 'csv' || format === 'xlsx') return format;
    throw invalid('format', 'must be csv or xlsx');
  }
  const types = (accept ?? '')
    .split(',')
    .map((t) => t.split(';')[0].trim().toLowerCase())
    .filter(Boolean);
  if (types.includes(XLSX)) return 'xlsx';
  if (types.length === 0 || types.some((t) => t === CSV || t === 'text/*' || t === '*/*')) return 'csv';
  throw new DomainError(406, 'not-acceptable', `The export is ${CSV} or ${XLSX} (choose with format=csv|xlsx or Accept)`);
}

/** A file name that survives every file system and header: only [A-Za-z0-9._-]. */
export function exportFileName(gtin: string, lot: string, ext: string, now = new Date()): string {
  const safeLot = lot.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'lot';
  return `fsma204_${gtin}_${safeLot}_${now.toISOString().slice(0, 10).replace(/-/g, '')}.${ext}`;
}

@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1/exports')
export class ExportsController {
  constructor(@Inject(FsmaExportQuery) private readonly query: FsmaExportQuery) {}

  @Get('fsma204')
  @Roles('inspector', 'regulator', 'operator')
  @ApiQuery({ name: 'gtin', required: true, description: 'GTIN-8/12/13/14 with a valid check digit' })
  @ApiQuery({ name: 'lot', required: true, description: 'The traceability lot code (AI 10)' })
  @ApiQuery({ name: 'from', required: false, description: 'Earliest event time (RFC 3339, or a date meaning its start in UTC)' })
  @ApiQuery({ name: 'to', required: false, description: 'Latest event time (RFC 3339, or a date meaning its whole day in UTC)' })
  @ApiQuery({ name: 'format', required: false, enum: ['csv', 'xlsx'], description: 'Overrides Accept' })
  @ApiOkResponse({
    description:
      'The FSMA 204 electronic sortable spreadsheet of the lot and every lot upstream and downstream of it: one row per ' +
      'Critical Tracking Event (harvesting, initial packing, transformation, shipping, receiving) with its Key Data ' +
      'Elements; a KDE the records lack reads MISSING and is named in "Missing KDEs". Operators may export lots their ' +
      'organisation owns, holds or held.',
    content: { [CSV]: { schema: { type: 'string' } }, [XLSX]: { schema: { type: 'string', format: 'binary' } } },
  })
  async fsma204(
    @Query('gtin') gtinParam: string | undefined,
    @Query('lot') lot: string | undefined,
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @Query('format') formatParam: string | undefined,
    @Headers('accept') accept: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res() res: Response,
  ): Promise<void> {
    for (const [name, v] of Object.entries({ gtin: gtinParam, lot, from: fromParam, to: toParam, format: formatParam })) {
      // ?lot=a&lot=b arrives as an array: one value each.
      if (v !== undefined && typeof v !== 'string') throw invalid(name, 'give it once');
    }
    if (!gtinParam) throw invalid('gtin', 'is required');
    let gtin: string;
    try {
      gtin = normalizeGtin(gtinParam);
    } catch (err) {
      if (err instanceof Gs1Error) throw invalid('gtin', err.message);
      throw err;
    }
    if (!lot) throw invalid('lot', 'is required');
    if (!LOT.test(lot)) throw invalid('lot', '1-20 characters of the GS1 character set');
    const from = parseBound('from', fromParam);
    const to = parseBound('to', toParam);
    if (from && to && from >= to) throw invalid('to', 'must not be before from');
    const format = chooseFormat(formatParam, accept);

    const rows = await this.query.rows({ gtin, lot, from, to }, principal);
    const filename = exportFileName(gtin, lot, format);
    res.setHeader('content-disposition', `attachment; filename="${filename}"`);
    res.setHeader('cache-control', 'no-store');
    if (format === 'xlsx') {
      res.status(200).type(XLSX).send(await toXlsx(rows, { title: `FSMA 204 traceability records, GTIN ${gtin} lot ${lot}` }));
    } else {
      res.status(200).type(`${CSV}; charset=utf-8; header=present`).send(toCsv(rows));
    }
  }
}
