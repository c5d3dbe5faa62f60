import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import type { Outbox } from '@trace/messaging';
import { badRequest, conflict, DomainError, unprocessable, type Principal } from '@trace/platform';
import { applyInspection, currentHolders, formatOffsetTime, isRefusal, parseOffsetTime, type BatchStatus, type OffsetTime } from '@trace/trace-chain';
import type { BatchService } from '../batch.service';
import { appendChainEvent, HoldingsStore } from '../store';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import type { BatchRow } from '../rows';
import type { InspectionResult, RecordInspectionDto } from './dto';
import { retestDeadlineOf, type InspectionOptions } from './options';

interface InspectionItem {
  name: string;
  value: number | string;
  unit: string;
  limit: number | string;
  result: InspectionResult;
}

interface InspectionRow {
  id: string;
  batch_id: string;
  report_no: string;
  agency: string;
  sampled_at: Date;
  /** The offset sampledAt was written in (±HH:MM); null before offsets were kept. */
  sampled_at_offset: string | null;
  items: InspectionItem[];
  conclusion: InspectionResult;
  retest_of: string | null;
  root_id: string;
  retest_deadline: Date | null;
  inspector_org_id: string;
  event_id: string;
  recorded_at: Date;
  resolved?: boolean;
}

/** Clock skew tolerated on a sampling time before it counts as "in the future". */
const SKEW_MS = 5 * 60_000;

/**
 * Supervision sampling (DOMAIN.md §6) on a domain's batches: an inspector
 * records a result; it becomes an `inspecting` event on the batch chain
 * (conformant / non_conformant), an inspections row and an
 * `inspectionRecorded` event, in one transaction under the batch row lock.
 * A fail holds the batch; a passing re-test within the window clears it.
 */
export class InspectionService {
  constructor(
    private readonly domain: DomainName,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly batches: BatchService,
    private readonly options: InspectionOptions,
  ) {}

  async record(batchId: string, dto: RecordInspectionDto, principal: Principal) {
    const failing = dto.items.filter((i) => i.result === 'fail');
    if (dto.conclusion === 'pass' && failing.length > 0) {
      throw unprocessable(
        'inspection-conclusion',
        `The conclusion cannot be "pass" while ${failing.length} item(s) fail (${failing.map((i) => i.name).join(', ')})`,
      );
    }
    if (dto.conclusion === 'fail' && failing.length === 0) {
      throw unprocessable('inspection-conclusion', 'The conclusion cannot be "fail" when every item passes: name the failing item');
    }
    // RFC 3339 with offset (checked by the DTO); the offset is kept to give the time back as written.
    const { instant: sampledAt, offset: sampledAtOffset } = parseOffsetTime(dto.sampledAt) as OffsetTime;
    const now = new Date();
    if (sampledAt.getTime() > now.getTime() + SKEW_MS) {
      throw badRequest('sampled-at', 'sampledAt lies in the future', [{ field: 'sampledAt', message: 'must not be in the future' }]);
    }
    // Existence first (404), as for every other write on a batch.
    await this.batches.get(batchId, principal);

    try {
      return await this.dataSource.transaction(async (m) => {
        const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [batchId])) as BatchRow[];
        const statusBefore = batch.status;
        const [dup] = await m.query('SELECT 1 FROM inspections WHERE report_no = $1', [dto.reportNo]);
        if (dup) throw this.duplicate(dto.reportNo);

        const id = randomUUID();
        let rootId: string = id;
        let retestDeadline: Date | null = null;
        if (dto.retestOf) {
          const parent = await this.failedFamilyOf(m, batchId, dto.retestOf, sampledAt, now);
          rootId = parent.root_id;
          // The window runs from the first failed result; re-tests do not restart it.
          if (dto.conclusion === 'fail') retestDeadline = parent.retest_deadline;
        } else if (dto.conclusion === 'fail') {
          retestDeadline = retestDeadlineOf(sampledAt, this.options);
        }
        // A passing re-test lifts the hold unless another failed result of the batch is still unresolved.
        const clearsHold = dto.conclusion === 'pass' && !!dto.retestOf && !(await this.otherUnresolvedFailure(m, batchId, rootId));
        const after = applyInspection(
          { status: batch.status as BatchStatus, holderOrgId: batch.holder_org_id, pendingReceiverOrgId: batch.pending_receiver_org_id, quantity: Number(batch.quantity_value) },
          { conclusion: dto.conclusion, clearsHold },
        );
        if (isRefusal(after)) throw new DomainError(after.status, after.rule, after.message);

        const items: InspectionItem[] = dto.items.map((i) => ({ name: i.name, value: i.value, unit: i.unit, limit: i.limit, result: i.result }));
        const event = await appendChainEvent(
          m,
          this.outbox,
          this.domain,
          batch,
          {
            bizStep: 'inspecting',
            disposition: dto.conclusion === 'pass' ? 'conformant' : 'non_conformant',
            eventTime: now,
            locationId: batch.location_id,
            orgId: principal.orgId,
            details: {
              inspectionId: id,
              reportNo: dto.reportNo,
              agency: dto.agency,
              sampledAt: formatOffsetTime(sampledAt, sampledAtOffset),
              items,
              conclusion: dto.conclusion,
              ...(dto.retestOf ? { retestOf: dto.retestOf } : {}),
              ...(retestDeadline ? { retestDeadline: retestDeadline.toISOString() } : {}),
              ...(after.status !== batch.status ? { batchStatus: after.status } : {}),
            },
          },
          after,
          this.batches.chainDirectory,
        );
        await m.query(
          `INSERT INTO inspections (id, batch_id, report_no, agency, sampled_at, items, conclusion, retest_of, root_id,
                                    retest_deadline, inspector_org_id, event_id, recorded_at, sampled_at_offset)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
          [id, batchId, dto.reportNo, dto.agency, sampledAt, JSON.stringify(items), dto.conclusion, dto.retestOf ?? null, rootId,
            retestDeadline, principal.orgId, event.id, now, sampledAtOffset],
        );
        await this.outbox.append(
          m,
          'inspectionRecorded',
          {
            batch: { domain: DOMAIN_ENUM[this.domain], batchId },
            inspectionId: id,
            reportNo: dto.reportNo,
            agency: dto.agency,
            sampledAt: timestampFromDate(sampledAt),
            items: items.map((i) => ({ name: i.name, value: String(i.value), unit: i.unit, limit: String(i.limit), result: i.result })),
            conclusion: dto.conclusion,
            retestOf: dto.retestOf ?? '',
            retestDeadline: retestDeadline ? timestampFromDate(retestDeadline) : undefined,
            inspectorOrgId: principal.orgId,
            holderOrgId: after.holderOrgId,
            gtin: batch.gtin,
            lot: batch.lot,
            batchStatus: after.status,
            batchStatusBefore: statusBefore,
            // Read under the batch row lock: no movement changes them before this commits.
            holderOrgIds: currentHolders(await HoldingsStore.read(m, batchId)),
          },
          { subject: batchId, orgId: principal.orgId, occurredAt: now },
        );
        return {
          id,
          conclusion: dto.conclusion,
          retestDeadline: retestDeadline ? retestDeadline.toISOString() : null,
          batchStatus: after.status,
          eventId: event.id,
        };
      });
    } catch (err) {
      // Two inspectors racing with one report number: the unique index decides.
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && (e.constraint ?? 'inspections_report_no_key') === 'inspections_report_no_key') throw this.duplicate(dto.reportNo);
      throw err;
    }
  }

  /** The inspections of a batch, oldest first, for whoever may see the batch. */
  async list(batchId: string, principal: Principal) {
    await this.batches.get(batchId, principal);
    const rows = (await this.dataSource.query(
      `SELECT i.*, (i.conclusion = 'fail' AND EXISTS (
                SELECT 1 FROM inspections p WHERE p.root_id = i.root_id AND p.conclusion = 'pass')) AS resolved
         FROM inspections i WHERE i.batch_id = $1 ORDER BY i.recorded_at, i.id`,
      [batchId],
    )) as InspectionRow[];
    return rows.map((r) => ({
      id: r.id,
      batchId: r.batch_id,
      domain: this.domain,
      reportNo: r.report_no,
      agency: r.agency,
      sampledAt: formatOffsetTime(r.sampled_at, r.sampled_at_offset),
      items: r.items,
      conclusion: r.conclusion,
      retestOf: r.retest_of,
      retestDeadline: r.retest_deadline ? r.retest_deadline.toISOString() : null,
      /** For a fail: whether a passing re-test has resolved it. */
      cleared: r.conclusion === 'fail' ? !!r.resolved : null,
      inspectorOrgId: r.inspector_org_id,
      eventId: r.event_id,
      recordedAt: r.recorded_at.toISOString(),
    }));
  }

  /** The failed inspection a re-test names, checked against the rules of re-testing. */
  private async failedFamilyOf(m: EntityManager, batchId: string, retestOf: string, sampledAt: Date, now: Date): Promise<InspectionRow> {
    const [parent] = (await m.query('SELECT * FROM inspections WHERE id = $1 AND batch_id = $2', [retestOf, batchId])) as InspectionRow[];
    if (!parent || parent.conclusion !== 'fail') {
      throw unprocessable('retest-of', `retestOf ${retestOf} is not a failed inspection of batch ${batchId}`);
    }
    const [passed] = await m.query(`SELECT id FROM inspections WHERE root_id = $1 AND conclusion = 'pass'`, [parent.root_id]);
    if (passed) {
      throw conflict('retest-already-cleared', `The failed result ${parent.report_no} was already cleared by the re-test ${passed.id}`);
    }
    const deadline = parent.retest_deadline as Date;
    if (now.getTime() > deadline.getTime()) {
      throw conflict(
        'retest-window-closed',
        `The re-test window of the failed result ${parent.report_no} closed at ${deadline.toISOString()} ` +
          `(${this.options.retestWindowDays} days after sampling); the hold stays until the regulator decides`,
        { retestDeadline: deadline.toISOString() },
      );
    }
    if (sampledAt.getTime() < parent.sampled_at.getTime()) {
      throw unprocessable('retest-sampled-before', `A re-test cannot be sampled before the result it re-tests (${parent.sampled_at.toISOString()})`);
    }
    return parent;
  }

  private async otherUnresolvedFailure(m: EntityManager, batchId: string, rootId: string): Promise<boolean> {
    const [row] = await m.query(
      `SELECT 1 FROM inspections f
        WHERE f.batch_id = $1 AND f.conclusion = 'fail' AND f.root_id <> $2
          AND NOT EXISTS (SELECT 1 FROM inspections p WHERE p.root_id = f.root_id AND p.conclusion = 'pass')
        LIMIT 1`,
      [batchId, rootId],
    );
    return !!row;
  }

  private duplicate(reportNo: string) {
    return conflict('duplicate-report-no', `An inspection with report number ${reportNo} is already recorded in ${this.domain}`);
  }
}
