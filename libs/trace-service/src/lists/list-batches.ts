import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { badRequest, listPage, sqlFromMicros, sqlMicros, type ListQuery, type Principal } from '@trace/platform';
import { parseOffsetTime } from '@trace/trace-chain';
import { toBatchView, type BatchRow } from '../rows';

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

/**
 * `GET /v1/{domain}/batches`: newest first. Inspectors and regulators see
 * every batch; an operator those its organisation holds, held or has in
 * transit to it (batch_custody: every holder since registration;
 * batch_holdings: in transit too) — the rule of GET /v1/{domain}/batches/{id}.
 * `holderOrgId` names an organisation that holds some of the batch now.
 */
export async function listBatches(ds: DataSource, q: ListQuery<BatchListFilter>, principal: Principal, http?: Http) {
  const params: unknown[] = [q.limit + 1];
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
  if (principal.role === 'operator') {
    const org = p(principal.orgId);
    where.push(`(EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = b.id AND c.org_id = ${org})
              OR EXISTS (SELECT 1 FROM batch_holdings h WHERE h.batch_id = b.id AND h.org_id = ${org}))`);
  }
  if (q.after) where.push(`(b.created_at, b.id) < (${sqlFromMicros(p(q.after[0]))}, ${p(q.after[1])}::uuid)`);
  const rows = (await ds.query(
    `SELECT b.*, ${sqlMicros('b.created_at')} AS sort_at FROM batches b
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY b.created_at DESC, b.id DESC LIMIT $1`,
    params,
  )) as (BatchRow & { sort_at: string })[];
  return listPage(rows, q, (r) => [r.sort_at, r.id], http, (r) => {
    const view = toBatchView(r);
    // As GET /v1/{domain}/batches/{id} names them: quantity as produced, remaining what is left.
    return { ...view, quantity: view.initialQuantity, remaining: view.quantity };
  });
}

interface ProductRow {
  id: string;
  gtin: string;
  name: string;
  category: string;
  owner_org_id: string;
  attributes: unknown;
  created_at: Date;
  sort_at: string;
}

/** `GET /v1/{domain}/products`: newest first; the catalogue is readable by every signed-in caller, as GET /v1/{domain}/products/{id} is. */
export async function listProducts(ds: DataSource, q: ListQuery<'gtin'>, http?: Http) {
  const gtin = q.filters.gtin === undefined ? null : gtinFilter(q.filters.gtin);
  const rows = (await ds.query(
    `SELECT *, ${sqlMicros('created_at')} AS sort_at FROM products
      WHERE ($2::text IS NULL OR gtin = $2)
        AND ($3::text IS NULL OR (created_at, id) < (${sqlFromMicros('$3')}, $4::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $1`,
    [q.limit + 1, gtin, q.after?.[0] ?? null, q.after?.[1] ?? null],
  )) as ProductRow[];
  return listPage(rows, q, (r) => [r.sort_at, r.id], http, (r) => ({
    id: r.id,
    gtin: r.gtin,
    name: r.name,
    category: r.category,
    ownerOrgId: r.owner_org_id,
    attributes: r.attributes,
    createdAt: r.created_at.toISOString(),
  }));
}
