import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Request, Response } from 'express';
import { listPage, sqlFromMicros, sqlMicros, type ListQuery, type Principal } from '@trace/platform';

export const RECALL_LIST_STATUSES = ['active', 'closed'] as const;

interface RecallListRow {
  id: string;
  status: string;
  level: number;
  reason: string;
  hazard: string | null;
  case_id: string | null;
  regulator_org_id: string;
  start_by: Date;
  complete_by: Date;
  created_at: Date;
  closed_at: Date | null;
  batches: number;
  /** created_at exactly (microseconds), for the cursor. */
  sort_at: string;
}

/**
 * `GET /v1/recalls`: newest first. Regulators and inspectors see every recall;
 * an operator those in whose scope it holds (or held when the recall started,
 * or has acknowledged) something — the same rule as one recall's GET.
 */
@Injectable()
export class RecallListQuery {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async list(q: ListQuery<'status'>, principal: Principal, http?: { req: Request; res: Response }) {
    const params: unknown[] = [q.limit + 1];
    const where: string[] = [];
    if (q.filters.status) {
      params.push(q.filters.status);
      where.push(`r.status = $${params.length}`);
    }
    if (q.after) {
      params.push(q.after[0], q.after[1]);
      where.push(`(r.created_at, r.id) < (${sqlFromMicros(`$${params.length - 1}`)}, $${params.length}::uuid)`);
    }
    if (principal.role === 'operator') {
      params.push(principal.orgId);
      const org = `$${params.length}`;
      where.push(`(EXISTS (SELECT 1 FROM recall_batches b WHERE b.recall_id = r.id AND b.holder_org_id = ${org})
                OR EXISTS (SELECT 1 FROM recall_holdings h WHERE h.recall_id = r.id AND h.org_id = ${org})
                OR EXISTS (SELECT 1 FROM recall_acknowledgements a WHERE a.recall_id = r.id AND a.org_id = ${org}))`);
    }
    const rows = (await this.ds.query(
      `SELECT r.*, ${sqlMicros('r.created_at')} AS sort_at, (SELECT count(*)::int FROM recall_batches b WHERE b.recall_id = r.id) AS batches
         FROM recalls r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.created_at DESC, r.id DESC LIMIT $1`,
      params,
    )) as RecallListRow[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], http, recallSummary);
  }
}

function recallSummary(r: RecallListRow) {
  return {
    id: r.id,
    status: r.status,
    level: r.level,
    reason: r.reason,
    hazard: r.hazard,
    caseId: r.case_id,
    regulatorOrgId: r.regulator_org_id,
    createdAt: r.created_at.toISOString(),
    closedAt: r.closed_at ? r.closed_at.toISOString() : null,
    deadlines: { startBy: r.start_by.toISOString(), completeBy: r.complete_by.toISOString() },
    batchCount: r.batches,
  };
}
