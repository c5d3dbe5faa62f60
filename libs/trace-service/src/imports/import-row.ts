import type { DataSource } from 'typeorm';
import { createValidationPipe, ProblemDetailsFilter, type Principal } from '@trace/platform';
import type { BatchService } from '../batch.service';
import { RegisterBatchDto, RegisterProductDto } from '../dto';
import { gtinOrThrow } from '../use-cases/core';
import type { RowError } from './import-jobs.store';
import type { SheetRow } from './parse-sheet';

/** The columns a sheet may have; `attributes.<name>` columns fill the batch's attributes (material standard and grade, goods CCC number…). */
export const IMPORT_COLUMNS = ['gtin', 'productName', 'category', 'lot', 'quantity', 'unit', 'producedAt', 'expiresAt', 'locationId'] as const;
const ATTRIBUTE_COLUMN = /^attributes\.([A-Za-z][A-Za-z0-9_]{0,39})$/;

/** Columns of a header row that are neither known nor attributes (a typo must not drop a value silently). */
export function unknownColumns(columns: readonly string[]): string[] {
  return columns.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c) && !ATTRIBUTE_COLUMN.test(c));
}

export type RowOutcome =
  | { row: number; product?: 'created' | 'exists'; batch?: 'created' | 'exists'; batchId?: string }
  | { row: number; error: RowError };

/** A number written as one stays a number; anything else is handed to validation as written, which names the field. */
const numberOr = (s: string | undefined): number | string | undefined => (s !== undefined && /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s);

const validation = createValidationPipe();
// toProblem only maps errors to problem documents; its logger is for the HTTP path's 5xx, which never reach here.
const problems = new ProblemDetailsFilter({ error: () => undefined } as never);

/** A thrown refusal as the row's error; anything that is not a 4xx (the database went away) is the job's failure, not the row's. */
function rowError(row: number, err: unknown): RowError {
  const p = problems.toProblem(err);
  if (p.status >= 500) throw err;
  const type = String(p.type).replace(/^https:\/\/problems\.trace\.dev\//, '');
  return { row, type, status: p.status, detail: String(p.detail ?? p.title), ...(Array.isArray(p.errors) ? { errors: p.errors as RowError['errors'] } : {}) };
}

/**
 * One row of an import: its product (when the row names one and the caller
 * has not registered that GTIN yet) and its batch (when the row has a lot),
 * each validated with the REST route's own DTO and pipe and registered
 * through the same use case as POST /v1/{domain}/products and /batches, as
 * the caller — so every rule and refusal of the REST routes holds. A product
 * or batch the caller already registered is reported as existing, not made
 * twice: importing a file again changes nothing.
 */
export async function importRow(deps: { batches: BatchService; ds: DataSource }, sheetRow: SheetRow, principal: Principal): Promise<RowOutcome> {
  const { row, cells } = sheetRow;
  try {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(cells)) {
      const m = ATTRIBUTE_COLUMN.exec(k);
      if (m) attributes[m[1]] = v;
    }
    let product: 'created' | 'exists' | undefined;
    if (cells.productName !== undefined || cells.category !== undefined) {
      const dto = (await validation.transform(
        { gtin: cells.gtin, name: cells.productName, category: cells.category },
        { type: 'body', metatype: RegisterProductDto },
      )) as RegisterProductDto;
      const [owned] = await deps.ds.query('SELECT owner_org_id FROM products WHERE gtin = $1', [gtinOrThrow(dto.gtin)]);
      if (owned?.owner_org_id === principal.orgId) product = 'exists';
      else {
        await deps.batches.registerProduct(dto, principal);
        product = 'created';
      }
    }
    if (cells.lot === undefined) {
      if (!product) return { row, error: { row, type: 'validation', status: 400, detail: 'The row names neither a product (productName, category) nor a batch (lot)' } };
      return { row, product };
    }
    const body: Record<string, unknown> = {
      gtin: cells.gtin,
      lot: cells.lot,
      quantity: { value: numberOr(cells.quantity), unit: cells.unit },
      producedAt: cells.producedAt,
      locationId: cells.locationId,
      ...(cells.expiresAt !== undefined ? { expiresAt: cells.expiresAt } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    };
    const dto = (await validation.transform(body, { type: 'body', metatype: RegisterBatchDto })) as RegisterBatchDto;
    const [existing] = await deps.ds.query(`SELECT id, owner_org_id FROM batches WHERE gtin = $1 AND lot = $2 AND item_kind = 'lot'`, [gtinOrThrow(dto.gtin), dto.lot]);
    if (existing?.owner_org_id === principal.orgId) return { row, product, batch: 'exists', batchId: existing.id };
    const batch = await deps.batches.register(dto, principal);
    return { row, product, batch: 'created', batchId: batch.id };
  } catch (err) {
    return { row, error: rowError(row, err) };
  }
}
