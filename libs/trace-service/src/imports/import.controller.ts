import { Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiJsonResponse, badRequest, CurrentPrincipal, DomainError, notFound, Roles, UPLOAD_MEDIA_TYPES, uploadOf, type Principal } from '@trace/platform';
import { IMPORT_JOB_DONE_EXAMPLE, IMPORT_JOB_EXAMPLE } from '../openapi-examples';
import type { DomainName } from '../domains';
import { ImportJobStore, type ImportJobRow } from './import-jobs.store';
import { IMPORT_COLUMNS, unknownColumns } from './import-row';
import { ImportRunner } from './import-runner';
import { parseSheet, SheetError } from './parse-sheet';

/** Rows one import may hold; a larger file is split (the CLI says so). */
export const MAX_IMPORT_ROWS = 100_000;

const view = (domain: string, j: ImportJobRow) => ({
  id: j.id,
  domain,
  status: j.status,
  format: j.format,
  total: j.total,
  processed: j.processed,
  ...j.counts,
  errors: j.errors,
  ...(j.failure ? { failure: j.failure } : {}),
  createdAt: j.created_at.toISOString(),
  finishedAt: j.finished_at?.toISOString() ?? null,
});

const JOB_DESCRIPTION =
  '{ id, domain, status: running|completed|failed, format, total, processed, productsCreated, productsExisting, batchesCreated, ' +
  'batchesExisting, failedRows, errors: [{ row, type, status, detail, errors? }] (at most 1,000), failure?, createdAt, finishedAt }';

/**
 * Bulk import of products and batches from a spreadsheet, one controller per
 * domain (the five share one HTTP server embedded). The file is checked as a
 * whole here (readable, known columns, not too many rows); its rows are
 * registered by ImportRunner in the background, each as POST …/products and
 * POST …/batches would register it for the caller.
 */
export function createImportController(domain: DomainName): Type<unknown> {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/imports`)
  class ImportController {
    constructor(
      @Inject(ImportJobStore) private readonly jobs: ImportJobStore,
      @Inject(ImportRunner) private readonly runner: ImportRunner,
    ) {}

    @Post()
    @HttpCode(202)
    @Roles('operator')
    @ApiOperation({
      summary: 'Import products and batches from a CSV or Excel file',
      description:
        `Body: the file, Content-Type ${UPLOAD_MEDIA_TYPES.csv} (UTF-8, comma-separated) or ${UPLOAD_MEDIA_TYPES.xlsx} (the first worksheet). ` +
        `Row 1 names the columns: ${IMPORT_COLUMNS.join(', ')}, and attributes.<name> for batch attributes (material: attributes.standard, ` +
        'attributes.grade; goods: attributes.cccCertificate). A row with productName and category registers the product (unless your ' +
        'organisation already has that GTIN); a row with a lot registers the batch (gtin, lot, quantity, unit, producedAt with its UTC offset, ' +
        'locationId, expiresAt?). Every row is validated and authorised as POST /v1/{domain}/products and /batches are, as the caller; a row ' +
        "that fails is reported with its row number and problem, the others go on. Idempotent: a product or batch your organisation " +
        'already registered counts as existing, so the same file imported again creates nothing; the same file sent while its job runs ' +
        `answers that job. At most ${MAX_IMPORT_ROWS.toLocaleString('en')} rows, 20 MB. 202 with Location: poll GET /v1/${domain}/imports/{id}.`,
    })
    @ApiConsumes(UPLOAD_MEDIA_TYPES.csv, UPLOAD_MEDIA_TYPES.xlsx)
    @ApiBody({ schema: { type: 'string', format: 'binary', example: 'gtin,productName,category,lot,quantity,unit,producedAt,locationId\n09506000134352,Cherry tomatoes,vegetable,TOM-001,500,kg,2026-11-20T08:00:00+08:00,<location id>\n' } })
    @ApiJsonResponse(202, `The job: ${JOB_DESCRIPTION}`, IMPORT_JOB_EXAMPLE)
    async create(@Req() req: Request, @Res({ passthrough: true }) res: Response, @CurrentPrincipal() principal: Principal) {
      const upload = uploadOf(req);
      if (!upload) {
        throw new DomainError(415, 'unsupported-media-type', `An import is a file: Content-Type ${UPLOAD_MEDIA_TYPES.csv} or ${UPLOAD_MEDIA_TYPES.xlsx}`);
      }
      let total: number;
      try {
        const sheet = await parseSheet(upload.format, upload.content);
        const unknown = unknownColumns(sheet.columns);
        if (unknown.length) {
          throw badRequest(
            'import-columns',
            `Unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}; the columns are ${IMPORT_COLUMNS.join(', ')} and attributes.<name>`,
            unknown.map((c) => ({ field: c, message: 'unknown column' })),
          );
        }
        if (!sheet.columns.includes('gtin')) throw badRequest('import-columns', 'The header row has no "gtin" column', [{ field: 'gtin', message: 'missing column' }]);
        total = sheet.rows.length;
        if (total === 0) throw badRequest('import-empty', 'The file has a header row but no data rows');
        if (total > MAX_IMPORT_ROWS) throw new DomainError(413, 'import-too-large', `The file has ${total} rows; an import takes at most ${MAX_IMPORT_ROWS}: split it`);
      } catch (err) {
        if (err instanceof SheetError) throw badRequest('import-file', `The file cannot be read: ${err.message}`);
        throw err;
      }
      const { job } = await this.jobs.create(upload, principal, total);
      this.runner.start(job);
      res.setHeader('Location', `/v1/${domain}/imports/${job.id}`);
      return view(domain, job);
    }

    @Get(':id')
    @Roles('operator')
    @ApiOperation({ summary: 'Progress and per-row errors of an import (the organisation that sent it)' })
    @ApiJsonResponse(200, JOB_DESCRIPTION, IMPORT_JOB_DONE_EXAMPLE)
    async get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @CurrentPrincipal() principal: Principal) {
      const job = await this.jobs.get(id);
      // Another organisation's import is as absent as one that never was.
      if (!job || job.org_id !== principal.orgId) throw notFound('import', `No import ${id}`);
      return view(domain, job);
    }
  }
  Object.defineProperty(ImportController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}ImportController` });
  return ImportController;
}
