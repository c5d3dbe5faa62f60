import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Request, Response } from 'express';
import { CUSTOM_PLAN, listPage, notFound, sqlFromMicros, sqlMicros, type ListQuery } from '@trace/platform';

/** Open until resolved; then the resolution: cleared (re-test or decision), recalled, dismissed. */
export const CASE_STATUSES = ['open', 'cleared', 'recalled', 'dismissed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

interface CaseRow {
  id: string;
  kind: string;
  status: CaseStatus;
  domain: string;
  batch_id: string;
  gtin: string;
  lot: string;
  holder_org_id: string;
  inspection_id: string;
  report_no: string;
  agency: string;
  sampled_at: Date;
  items: { name: string; value: string; unit: string; limit: string; result: string }[];
  inspector_org_id: string;
  retest_deadline: Date | null;
  retests: unknown[];
  opened_at: Date;
  cleared_at: Date | null;
  cleared_by_inspection_id: string | null;
  recall_id: string | null;
  resolution_reason: string | null;
  closed_at: Date | null;
  closed_by_org_id: string | null;
}

function caseView(r: CaseRow) {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    openedAt: r.opened_at.toISOString(),
    clearedAt: r.cleared_at ? r.cleared_at.toISOString() : null,
    clearedBy: r.cleared_by_inspection_id,
    // What resolved the case: null while open.
    resolution:
      r.status === 'open'
        ? null
        : {
            status: r.status,
            reason: r.resolution_reason,
            recallId: r.recall_id,
            inspectionId: r.cleared_by_inspection_id,
            closedAt: (r.closed_at ?? r.cleared_at)?.toISOString() ?? null,
            closedByOrgId: r.closed_by_org_id,
          },
    batch: { domain: r.domain, batchId: r.batch_id, gtin: r.gtin, lot: r.lot, holderOrgId: r.holder_org_id },
    inspection: {
      id: r.inspection_id,
      reportNo: r.report_no,
      agency: r.agency,
      sampledAt: r.sampled_at.toISOString(),
      inspectorOrgId: r.inspector_org_id,
      retestDeadline: r.retest_deadline ? r.retest_deadline.toISOString() : null,
      failingItems: r.items.filter((i) => i.result === 'fail').map(({ name, value, unit, limit }) => ({ name, value, unit, limit })),
      items: r.items,
    },
    retests: r.retests,
  };
}

/** The regulator's view of cases (recall schema). */
@Injectable()
export class CaseQuery {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Newest first; the cursor is the last case's (openedAt, id). */
  async list(q: ListQuery<'status'>, http?: { req: Request; res: Response }) {
    const rows = (await this.dataSource.query(
      // Planned with its values each time: the generic plan cannot use the status index for an optional filter.
      `${CUSTOM_PLAN} SELECT *, ${sqlMicros('opened_at')} AS sort_at FROM cases WHERE ($1::text IS NULL OR status = $1)
          AND ($3::text IS NULL OR (opened_at, id) < (${sqlFromMicros('$3')}, $4::uuid))
        ORDER BY opened_at DESC, id DESC LIMIT $2`,
      [q.filters.status ?? null, q.limit + 1, q.after?.[0] ?? null, q.after?.[1] ?? null],
    )) as CaseRow[];
    return listPage(rows as (CaseRow & { sort_at: string })[], q, (r) => [r.sort_at, r.id], http, caseView);
  }

  async get(id: string) {
    const [row] = (await this.dataSource.query('SELECT * FROM cases WHERE id = $1', [id])) as CaseRow[];
    if (!row) throw notFound('case', `No case ${id}`);
    return caseView(row);
  }
}
