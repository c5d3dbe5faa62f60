import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { badRequest, listPage, sqlFromMicros, sqlMicros, type ListQuery, type Principal } from '@trace/platform';
import { parseOffsetTime } from '@trace/trace-chain';
import { toBatchView, toProductView, type BatchRow, type ProductRow } from '../rows';

export const BATCH_LIST_FILTERS = ['gtin', 'lot', 'status', 'holderOrgId', 'producedFrom', 'producedTo'] as const;
export type BatchListFilter = (typeof BATCH_LIST_FILTERS)[number];
export const BATCH_STATUSES = ['active', 'held', 'recalled', 'destroyed', 'dispensed'] as const;
export const PRODUCT_LIST_FILTERS = ['gtin'] as const;

type Http = { req: Request; res: Response };

/** A GTIN filter as stored (GTIN-14); a bad check digit is a 400 on the parameter. */
export function gtinFilter(value: string): string {
  try {
    return normalizeGtin(value);
  } catch (err) {
    if (err instanceof Gs1Error) throw badRequest('invalid-parameter', `gtin: ${err.message}`, [{ field: 'gtin', message: err.message }]);
    throw err;
  }
}

function timeFilter(field: string, value: string): Date {
  const t = parseOffsetTime(value);
  if ('problem' in t) throw badRequest('invalid-parameter', `${field} ${t.problem}`, [{ field, message: t.problem }]);
  return t.instant;
}

/** Batch ids an operator's walk takes at a time at most (when filters may drop some), and at most per page. */
const WALK_CHUNK = 1000;
const WALK_MAX = 10_000;

/**
 * `GET /v1/{domain}/batches`, in batch id order (stable, not chronological:
 * the one order every list can walk from an index whatever the filters and
 * whoever asks). Inspectors and regulators see every batch; the filters'
 * indexes drive the query. An operator sees those its organisation holds,
 * held (batch_custody) or has in transit to it (batch_holdings) — the rule of
 * GET /v1/{domain}/batches/{id} — and its list walks, in id order and a chunk
 * at a time, either that set (the filters checked on each chunk) or, with a
 * GTIN or lot filter, that filter's batches (visibility checked): a page
 * costs what lies near the cursor, never a scan of every batch. A walk stops
 * after WALK_MAX ids; the page may then be short and still have a nextCursor. `holderOrgId` names an organisation holding some of it now.
 */
export async function listBatches(ds: DataSource, q: ListQuery<BatchListFilter>, principal: Principal, http?: Http) {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  const f = q.filters;
  if (f.gtin !== undefined) where.push(`b.gtin = ${p(gtinFilter(f.gtin))}`);
  if (f.lot !== undefined) where.push(`b.lot = ${p(f.lot)}`);
  if (f.status !== undefined) where.push(`b.status = ${p(f.status)}`);
  if (f.holderOrgId !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM batch_holdings h WHERE h.batch_id = b.id AND h.org_id = ${p(f.holderOrgId)} AND h.quantity > 0)`);
  }
  if (f.producedFrom !== undefined) where.push(`b.produced_at >= ${p(timeFilter('producedFrom', f.producedFrom))}`);
  if (f.producedTo !== undefined) where.push(`b.produced_at <= ${p(timeFilter('producedTo', f.producedTo))}`);
  const view = (r: BatchRow) => {
    const v = toBatchView(r);
    // As GET /v1/{domain}/batches/{id} names them: quantity as produced, remaining what is left.
    return { ...v, quantity: v.initialQuantity, remaining: v.quantity };
  };

  if (principal.role !== 'operator') {
    if (q.after) where.push(`b.id > ${p(q.after[0])}::uuid`);
    const rows = (await ds.query(
      `SELECT b.* FROM batches b ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.id LIMIT ${p(q.limit + 1)}`,
      params,
    )) as BatchRow[];
    return listPage(rows, q, (r) => [r.id], http, view);
  }

  // Which side to walk: a GTIN's or a lot's batches are few, so those filters' index (each candidate's
  // visibility probed by primary keys); else what the organisation holds (each candidate checked against the filters).
  const byFilter = f.gtin !== undefined || f.lot !== undefined;
  // Every parameter a statement is given must appear in it: the organisation only where visibility is checked.
  const checkParams = byFilter ? [principal.orgId] : params;
  const visible = `EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = b.id AND c.org_id = $1
                    UNION ALL SELECT 1 FROM batch_holdings h WHERE h.batch_id = b.id AND h.org_id = $1 AND h.in_transit > 0)`;
  const check = byFilter ? [visible] : where;
  const held = `(SELECT batch_id FROM batch_custody WHERE org_id = $1 AND ($2::uuid IS NULL OR batch_id > $2::uuid) ORDER BY batch_id LIMIT $3)
                UNION
                (SELECT batch_id FROM batch_holdings WHERE org_id = $1 AND in_transit > 0 AND ($2::uuid IS NULL OR batch_id > $2::uuid) ORDER BY batch_id LIMIT $3)`;
  if (check.length === 0) {
    // Nothing to check: the first limit + 1 the organisation may see are the page, in one statement.
    const rows = (await ds.query(`SELECT b.* FROM batches b WHERE b.id IN (${held}) ORDER BY b.id LIMIT $3`, [principal.orgId, after0(q), q.limit + 1])) as BatchRow[];
    return listPage(rows, q, (r) => [r.id], http, view);
  }
  const rows: BatchRow[] = [];
  let after: string | null = after0(q);
  let walked = 0;
  // Small first (most pages fill from the first candidates), growing for filters that match few.
  let size = Math.min(WALK_CHUNK, 4 * (q.limit + 1));
  for (;;) {
    const ids = (
      (byFilter
        ? await ds.query(
            `SELECT b.id AS batch_id FROM batches b WHERE ${where.join(' AND ')} AND ($${params.length + 1}::uuid IS NULL OR b.id > $${params.length + 1}::uuid)
              ORDER BY b.id LIMIT $${params.length + 2}`,
            [...params, after, size],
          )
        : await ds.query(`${held} ORDER BY batch_id LIMIT $3`, [principal.orgId, after, size])) as { batch_id: string }[]
    ).map((r) => r.batch_id);
    const wanted = q.limit + 1 - rows.length;
    const chunkParams = [...checkParams, ids, wanted];
    // In id order, at most what the page still needs: a chunk's candidates are examined only until then.
    const found = ids.length
      ? ((await ds.query(
          `SELECT b.* FROM batches b WHERE b.id = ANY($${chunkParams.length - 1}::uuid[]) AND ${check.join(' AND ')} ORDER BY b.id LIMIT $${chunkParams.length}`,
          chunkParams,
        )) as BatchRow[])
      : [];
    rows.push(...found);
    if (rows.length > q.limit || ids.length < size) return listPage(rows, q, (r) => [r.id], http, view);
    after = ids[ids.length - 1];
    walked += ids.length;
    size = Math.min(WALK_CHUNK, size * 4);
    if (walked >= WALK_MAX) return listPage(rows, { limit: q.limit, resumeAfter: [after] }, (r) => [r.id], http, view);
  }
}

const after0 = (q: ListQuery<BatchListFilter>): string | null => q.after?.[0] ?? null;

type ProductListRow = ProductRow & { sort_at: string };

/** `GET /v1/{domain}/products`: newest first; the catalogue is readable by every signed-in caller, as GET /v1/{domain}/products/{id} is. */
export async function listProducts(ds: DataSource, q: ListQuery<'gtin'>, http?: Http) {
  const gtin = q.filters.gtin === undefined ? null : gtinFilter(q.filters.gtin);
  const rows = (await ds.query(
    `SELECT *, ${sqlMicros('created_at')} AS sort_at FROM products
      WHERE ($2::text IS NULL OR gtin = $2)
        AND ($3::text IS NULL OR (created_at, id) < (${sqlFromMicros('$3')}, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $1`,
    [q.limit + 1, gtin, q.after?.[0] ?? null, q.after?.[1] ?? null],
  )) as ProductListRow[];
  return listPage(rows, q, (r) => [r.sort_at, r.id], http, toProductView);
}
