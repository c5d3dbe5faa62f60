import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { domainNameOf, timestampDate, type InspectionRecorded } from '@trace/contracts';
import { InboxDispatcher, PoisonMessageError, type HandlerContext } from '@trace/messaging';
import { isGeneratedUuid } from '@trace/trace-chain';


/**
 * Opens a case for the regulator when a supervision sample fails and clears
 * it when a passing re-test arrives. Runs in the inbox transaction (the
 * `manager`), so a re-delivered event changes nothing; the unique inspection
 * id of a case makes opening idempotent on its own too.
 *
 * Events of one batch share a message key (the batch id), so a re-test never
 * overtakes the result it re-tests; should it still find no case, the handler
 * fails and the inbox retries with back-off before dead-lettering it.
 */
@Injectable()
export class CaseProjector implements OnModuleInit {
  constructor(@Inject(InboxDispatcher) private readonly inbox: InboxDispatcher) {}

  onModuleInit() {
    this.inbox.on('inspectionRecorded', (e, ctx) => this.onInspectionRecorded(e, ctx));
  }

  async onInspectionRecorded(e: InspectionRecorded, { manager, envelope }: HandlerContext): Promise<void> {
    const domain = e.batch ? domainNameOf(e.batch.domain) : undefined;
    const batchId = e.batch?.batchId ?? '';
    if (!domain || !isGeneratedUuid(batchId)) throw new PoisonMessageError('InspectionRecorded without a valid batch');
    if (!isGeneratedUuid(e.inspectionId)) throw new PoisonMessageError('InspectionRecorded without a valid inspection id');
    if (e.conclusion !== 'pass' && e.conclusion !== 'fail') throw new PoisonMessageError(`unknown conclusion ${JSON.stringify(e.conclusion)}`);
    if (e.retestOf && !isGeneratedUuid(e.retestOf)) throw new PoisonMessageError('InspectionRecorded with a malformed retestOf');
    const at = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
    const sampledAt = e.sampledAt ? timestampDate(e.sampledAt) : at;

    if (!e.retestOf) {
      if (e.conclusion === 'pass') return; // a plain pass opens nothing
      const caseId = randomUUID();
      const opened = (await manager.query(
        `INSERT INTO cases (id, status, domain, batch_id, gtin, lot, holder_org_id, inspection_id, report_no, agency, sampled_at,
                            items, inspector_org_id, retest_deadline, opened_at)
         VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (inspection_id) DO NOTHING RETURNING id`,
        [caseId, domain, batchId.toLowerCase(), e.gtin, e.lot, e.holderOrgId, e.inspectionId, e.reportNo, e.agency, sampledAt,
          JSON.stringify(e.items.map((i) => ({ name: i.name, value: i.value, unit: i.unit, limit: i.limit, result: i.result }))),
          e.inspectorOrgId, e.retestDeadline ? timestampDate(e.retestDeadline) : null, at],
      )) as { id: string }[];
      if (opened.length) {
        await manager.query(`INSERT INTO case_inspections (inspection_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [e.inspectionId, caseId]);
      }
      return;
    }

    const [link] = (await manager.query('SELECT case_id FROM case_inspections WHERE inspection_id = $1', [e.retestOf])) as { case_id: string }[];
    if (!link) throw new Error(`no case yet for the inspection ${e.retestOf} that ${e.inspectionId} re-tests`);
    const linked = (await manager.query(
      `INSERT INTO case_inspections (inspection_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING inspection_id`,
      [e.inspectionId, link.case_id],
    )) as unknown[];
    if (!linked.length) return; // already applied
    const retest = {
      inspectionId: e.inspectionId,
      reportNo: e.reportNo,
      agency: e.agency,
      sampledAt: sampledAt.toISOString(),
      conclusion: e.conclusion,
      failingItems: e.items.filter((i) => i.result === 'fail').map((i) => ({ name: i.name, value: i.value, unit: i.unit, limit: i.limit })),
      recordedAt: at.toISOString(),
    };
    await manager.query(
      // A passing re-test clears an open case only: one already recalled or dismissed keeps its resolution.
      `UPDATE cases SET retests = retests || $2::jsonb,
              status = CASE WHEN $3::boolean AND status = 'open' THEN 'cleared' ELSE status END,
              closed_at = CASE WHEN $3::boolean AND status = 'open' THEN $4::timestamptz ELSE closed_at END,
              cleared_at = CASE WHEN $3::boolean AND status = 'open' THEN $4::timestamptz ELSE cleared_at END,
              cleared_by_inspection_id = CASE WHEN $3::boolean AND status = 'open' THEN $5::uuid ELSE cleared_by_inspection_id END,
              holder_org_id = COALESCE(NULLIF($6, ''), holder_org_id)
        WHERE id = $1`,
      [link.case_id, JSON.stringify([retest]), e.conclusion === 'pass', at, e.inspectionId, e.holderOrgId],
    );
  }
}
