import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { badRequest, conflict, notFound, type Principal } from '@trace/platform';

export const CASE_RESOLUTIONS = ['recalled', 'cleared', 'dismissed'] as const;
export type CaseResolution = (typeof CASE_RESOLUTIONS)[number];

/**
 * Marks an open case resolved, in the caller's transaction (the case row is
 * locked). The one place a case is closed: by the regulator's decision below,
 * or by `POST /v1/cases/{id}/recall` in the recall's own transaction.
 */
export async function resolveCase(
  m: EntityManager,
  caseId: string,
  resolution: { status: CaseResolution; reason: string | null; recallId: string | null; orgId: string; at: Date },
): Promise<void> {
  const [c] = (await m.query('SELECT status FROM cases WHERE id = $1 FOR UPDATE', [caseId])) as { status: string }[];
  if (!c) throw notFound('case', `No case ${caseId}`);
  if (c.status !== 'open') throw conflict('case-not-open', `The case ${caseId} is ${c.status} already`, { status: c.status });
  await m.query(
    `UPDATE cases SET status = $2, resolution_reason = $3, recall_id = $4, closed_by_org_id = $5, closed_at = $6,
            cleared_at = CASE WHEN $2 = 'cleared' THEN $6 ELSE cleared_at END
      WHERE id = $1`,
    [caseId, resolution.status, resolution.reason, resolution.recallId, resolution.orgId, resolution.at],
  );
}

/**
 * The regulator closes a case: `dismissed` or `cleared` with a reason (a
 * cleared re-test closes it on its own), `recalled` when a recall already
 * covers its batch (the recall is linked; none is a 409 `no-recall`; to start
 * one from the case, `POST /v1/cases/{id}/recall`).
 */
@Injectable()
export class CloseCase {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async close(caseId: string, dto: { resolution: CaseResolution; reason?: string }, principal: Principal): Promise<void> {
    const reason = dto.reason?.trim() || null;
    if (dto.resolution !== 'recalled' && !reason) {
      throw badRequest('validation', `reason: a case ${dto.resolution} by decision says why`, [
        { field: 'reason', message: `reason is required to close a case as ${dto.resolution}` },
      ]);
    }
    await this.ds.transaction(async (m) => {
      let recallId: string | null = null;
      if (dto.resolution === 'recalled') {
        const [hit] = (await m.query(
          `SELECT r.id FROM recalls r JOIN recall_batches b ON b.recall_id = r.id JOIN cases c ON c.batch_id = b.batch_id
            WHERE c.id = $1 ORDER BY r.created_at DESC LIMIT 1`,
          [caseId],
        )) as { id: string }[];
        if (!hit) {
          const [exists] = (await m.query('SELECT 1 FROM cases WHERE id = $1', [caseId])) as unknown[];
          if (!exists) throw notFound('case', `No case ${caseId}`);
          throw conflict('no-recall', `No recall covers the batch of case ${caseId}: start one with POST /v1/cases/${caseId}/recall`);
        }
        recallId = hit.id;
      }
      await resolveCase(m, caseId, { status: dto.resolution, reason, recallId, orgId: principal.orgId, at: new Date() });
    });
  }
}
