import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { Gs1Error, isValidGs1Key, normalizeGtin, parseDigitalLink } from '@trace/gs1';
import { badRequest, listPage, sqlFromMicros, sqlMicros, type ListQuery, type Principal } from '@trace/platform';

type Http = { req: Request; res: Response };

/**
 * What `q` names: a GTIN (and, digits being a possible lot too, that lot), a
 * GTIN + lot or serial from a Digital Link (`kind` says which), or a lot or
 * serial typed as text.
 */
export type SearchTerm = { gtin?: string; lot?: string; kind?: 'lot' | 'serial'; either?: boolean };

/** Reads `q` of GET /v1/search: a Digital Link (path or URI), a GTIN-8/12/13/14 with a valid check digit, or else a lot. */
export function searchTerm(q: string | undefined): SearchTerm {
  const text = q?.trim() ?? '';
  if (text === '' || text.length > 400) {
    throw badRequest('invalid-parameter', 'q is required: a GTIN, a lot or a GS1 Digital Link (at most 400 characters)', [
      { field: 'q', message: 'must be a GTIN, a lot or a Digital Link' },
    ]);
  }
  if (/(^|\/)01\/\d/.test(text)) {
    try {
      const link = parseDigitalLink(text);
      if (link.serial !== undefined) return { gtin: link.gtin, lot: link.serial, kind: 'serial' };
      return link.lot !== undefined ? { gtin: link.gtin, lot: link.lot, kind: 'lot' } : { gtin: link.gtin };
    } catch (err) {
      if (err instanceof Gs1Error) throw badRequest('invalid-parameter', `q: ${err.message}`, [{ field: 'q', message: err.message }]);
      throw err;
    }
  }
  // A lot may be all digits too: digits that make a valid GTIN match either.
  if (/^(\d{8}|\d{12,14})$/.test(text) && isValidGs1Key(text)) return { gtin: normalizeGtin(text), lot: text, either: true };
  return { lot: text };
}

interface NodeListRow {
  batch_id: string;
  domain: string;
  gtin: string;
  lot: string;
  item_kind: 'lot' | 'serial';
  status: string;
  owner_org_id: string | null;
  holder_org_id: string | null;
  quantity_value: string | null;
  quantity_unit: string | null;
  registered_at: Date | null;
  sort_at: string;
}

interface IncomingRow {
  batch_id: string;
  domain: string;
  event_id: string;
  from_org_id: string;
  shipped_at: Date;
  in_transit: string;
  unit: string | null;
  gtin: string | null;
  lot: string | null;
  sort_at: string;
}

/**
 * Lists that span the five domains, answered from lineage's read model (the
 * same in embedded and distributed mode: lineage follows every domain's
 * events through its inbox), never by asking each domain service per request.
 */
@Injectable()
export class LineageListQuery {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /**
   * `GET /v1/search?q=`: batches of every domain, newest first. Inspectors and
   * regulators see all; an operator what its organisation owns, holds, held
   * or was shipped.
   */
  async search(q: ListQuery<'q'>, principal: Principal, http?: Http) {
    const term = searchTerm(q.filters.q);
    const params: unknown[] = [q.limit + 1];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = ['n.registered'];
    if (term.either) where.push(`(n.gtin = ${p(term.gtin)} OR n.lot = ${p(term.lot)})`);
    else {
      if (term.gtin) where.push(`n.gtin = ${p(term.gtin)}`);
      if (term.lot !== undefined) where.push(`n.lot = ${p(term.lot)}`);
      if (term.kind) where.push(`n.item_kind = ${p(term.kind)}`);
    }
    if (principal.role === 'operator') {
      const org = p(principal.orgId);
      // One correlated EXISTS (not three ORed): probed per candidate by primary keys, never a hash of all the organisation holds.
      where.push(`(n.owner_org_id = ${org} OR EXISTS (
                  SELECT 1 FROM lineage_custody c WHERE c.batch_id = n.batch_id AND c.org_id = ${org}
                  UNION ALL SELECT 1 FROM lineage_shipments s WHERE s.to_org_id = ${org} AND s.batch_id = n.batch_id))`);
    }
    if (q.after) where.push(`(n.registered_at, n.batch_id) < (${sqlFromMicros(p(q.after[0]))}, ${p(q.after[1])}::uuid)`);
    const rows = (await this.ds.query(
      `SELECT n.batch_id, n.domain, n.gtin, n.lot, n.item_kind, n.status, n.owner_org_id, n.holder_org_id, n.quantity_value, n.quantity_unit, n.registered_at,
              ${sqlMicros('n.registered_at')} AS sort_at
         FROM lineage_nodes n WHERE ${where.join(' AND ')}
        ORDER BY n.registered_at DESC, n.batch_id DESC LIMIT $1`,
      params,
    )) as NodeListRow[];
    return listPage(rows, q, (r) => [r.sort_at, r.batch_id], http, (r) => ({
      domain: r.domain,
      batchId: r.batch_id,
      gtin: r.gtin,
      lot: r.lot,
      itemKind: r.item_kind,
      status: r.status,
      ownerOrgId: r.owner_org_id,
      holderOrgId: r.holder_org_id,
      quantity: r.quantity_value === null ? null : { value: Number(r.quantity_value), unit: r.quantity_unit },
      registeredAt: r.registered_at ? r.registered_at.toISOString() : null,
      digitalLink: `/01/${r.gtin}/${r.item_kind === 'serial' ? '21' : '10'}/${encodeURIComponent(r.lot)}`,
      href: `/v1/${r.domain}/batches/${r.batch_id}`,
    }));
  }

  /**
   * `GET /v1/shipments/incoming`: what is on its way to the caller's
   * organisation, one item per batch, latest shipment first: quantity is all
   * that is in transit to it of that batch (lineage_holdings), the sender,
   * time and event those of the latest shipment to it. A receipt (or a voided
   * shipment) leaves nothing in transit and the item goes.
   */
  async incoming(q: ListQuery<never>, principal: Principal, http?: Http) {
    const rows = (await this.ds.query(
      `WITH open AS (
         SELECT DISTINCT ON (s.batch_id) s.batch_id, s.domain, s.event_id, s.from_org_id, s.shipped_at,
                (x->>'inTransit')::numeric AS in_transit, COALESCE(h.unit, s.unit) AS unit
           FROM lineage_shipments s
           JOIN lineage_holdings h ON h.batch_id = s.batch_id
           CROSS JOIN LATERAL jsonb_array_elements(h.holdings) AS x
          WHERE s.to_org_id = $2 AND x->>'orgId' = $2 AND (x->>'inTransit')::numeric > 0
          ORDER BY s.batch_id, s.seq DESC
       )
       SELECT o.*, n.gtin, n.lot, ${sqlMicros('o.shipped_at')} AS sort_at
         FROM open o LEFT JOIN lineage_nodes n ON n.batch_id = o.batch_id
        WHERE $3::text IS NULL OR (o.shipped_at, o.batch_id) < (${sqlFromMicros('$3')}, $4::uuid)
        ORDER BY o.shipped_at DESC, o.batch_id DESC LIMIT $1`,
      [q.limit + 1, principal.orgId, q.after?.[0] ?? null, q.after?.[1] ?? null],
    )) as IncomingRow[];
    return listPage(rows, q, (r) => [r.sort_at, r.batch_id], http, (r) => ({
      domain: r.domain,
      batchId: r.batch_id,
      gtin: r.gtin,
      lot: r.lot,
      quantity: { value: Number(r.in_transit), unit: r.unit },
      fromOrgId: r.from_org_id,
      shippedAt: r.shipped_at.toISOString(),
      eventId: r.event_id,
    }));
  }
}
