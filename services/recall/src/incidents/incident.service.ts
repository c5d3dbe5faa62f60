import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DOMAIN_ENUM, timestampFromDate } from '@trace/contracts';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { Outbox } from '@trace/messaging';
import type { Request, Response } from 'express';
import { badRequest, conflict, forbidden, listPage, notFound, sqlFromMicros, sqlMicros, unprocessable, type ListQuery, type Principal } from '@trace/platform';
import { formatOffsetTime, parseOffsetTime, type OffsetTime } from '@trace/trace-chain';
import { BatchRegistry } from '@trace/trace-service';
import type { FileIncidentReportDto, OpenIncidentDto } from './dto';
import { INCIDENT_OPTIONS, type IncidentOptions, type Severity } from './options';
import { afterWorkingDays } from '../calendar';

export const INCIDENT_STATUSES = ['awaiting_report', 'overdue', 'reported', 'reported_late'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Clock skew tolerated on awareAt before it counts as "in the future". */
const SKEW_MS = 5 * 60_000;

interface IncidentRow {
  id: string;
  domain: string;
  gtin: string;
  lot: string;
  batch_id: string;
  product_name: string | null;
  severity: Severity;
  occurred_at: Date;
  aware_at: Date;
  occurred_at_offset: string | null;
  aware_at_offset: string | null;
  description: string;
  reporter_org_id: string;
  responsible_org_id: string;
  report_working_days: number;
  report_due_by: Date;
  status: IncidentStatus;
  effective_status: IncidentStatus;
  overdue_published_at: Date | null;
  created_at: Date;
  summary: string | null;
  actions: string | null;
  late: boolean | null;
  reported_by_org_id: string | null;
  reported_at: Date | null;
}

/**
 * "overdue" is what the clock says, whether or not the sweep has already
 * recorded (and published) it.
 */
const EFFECTIVE_STATUS = `CASE WHEN i.status = 'awaiting_report' AND i.report_due_by <= $1 THEN 'overdue' ELSE i.status END`;
const SELECT_INCIDENT = `
  SELECT i.*, ${EFFECTIVE_STATUS} AS effective_status, r.summary, r.actions, r.late, r.reported_by_org_id, r.reported_at
    FROM incidents i LEFT JOIN incident_reports r ON r.incident_id = i.id`;

/**
 * Mandatory incident reports (DOMAIN.md §8): anyone in the chain, a hospital
 * or a regulator opens an incident on a batch; its producer owes a report
 * within a number of working days; a sweep flags (and publishes, once) the
 * reports that are overdue.
 */
@Injectable()
export class IncidentService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Inject(INCIDENT_OPTIONS) private readonly options: IncidentOptions,
  ) {}

  async open(dto: OpenIncidentDto, principal: Principal, now = new Date()) {
    const gtin = gtin14(dto.gtin);
    // RFC 3339 with offset (checked by the DTO); the offsets are kept to give the times back as written.
    const { instant: occurredAt, offset: occurredAtOffset } = parseOffsetTime(dto.occurredAt) as OffsetTime;
    const { instant: awareAt, offset: awareAtOffset } = parseOffsetTime(dto.awareAt) as OffsetTime;
    if (awareAt.getTime() > now.getTime() + SKEW_MS) {
      throw badRequest('aware-at', 'awareAt lies in the future', [{ field: 'awareAt', message: 'must not be in the future' }]);
    }
    if (occurredAt.getTime() > awareAt.getTime()) {
      throw badRequest('occurred-at', 'occurredAt lies after awareAt', [{ field: 'occurredAt', message: 'must not be after awareAt' }]);
    }
    if (!dto.lot) {
      // A GTIN alone names a product, and several organisations may hold batches of it;
      // only the batch says who produced it, so the responsible firm cannot be chosen soundly.
      throw unprocessable('incident-lot-required', 'The lot is needed to find the organisation responsible for the batch');
    }
    const view = await this.registry.publicView(dto.domain, gtin, dto.lot);
    if (!view) {
      throw unprocessable('incident-unknown-batch', `No batch ${dto.lot} of GTIN ${gtin} is registered in ${dto.domain}`, {
        domain: dto.domain,
        gtin,
        lot: dto.lot,
      });
    }
    const responsibleOrgId = view.batch.ownerOrgId;
    const days = this.options.reportDays[dto.severity];
    const dueBy = await this.dueBy(this.ds.manager, awareAt, days);
    const id = randomUUID();
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO incidents (id, domain, gtin, lot, batch_id, product_name, severity, occurred_at, aware_at, description,
                                reporter_org_id, reporter_client_id, responsible_org_id, report_working_days, report_due_by, status, created_at,
                                occurred_at_offset, aware_at_offset)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'awaiting_report', $16, $17, $18)`,
        [id, dto.domain, gtin, dto.lot, view.batch.id, view.product?.name ?? null, dto.severity, occurredAt, awareAt, dto.description,
          principal.orgId, principal.clientId, responsibleOrgId, days, dueBy, now, occurredAtOffset, awareAtOffset],
      );
      await this.outbox.append(
        m,
        'incidentOpened',
        {
          incidentId: id,
          domain: DOMAIN_ENUM[dto.domain],
          gtin,
          lot: dto.lot ?? '',
          severity: dto.severity,
          responsibleOrgId,
          reportDueBy: timestampFromDate(dueBy),
        },
        { subject: id, orgId: principal.orgId, occurredAt: now },
      );
    });
    return { id, responsibleOrgId, reportDueBy: dueBy.toISOString(), status: 'awaiting_report' as const };
  }

  async fileReport(id: string, dto: FileIncidentReportDto, principal: Principal, now = new Date()) {
    return this.ds.transaction(async (m) => {
      const [row] = (await m.query('SELECT * FROM incidents WHERE id = $1 FOR UPDATE', [id])) as IncidentRow[];
      if (!row || (row.responsible_org_id !== principal.orgId && row.reporter_org_id !== principal.orgId)) {
        throw notFound('incident', `No incident ${id}`);
      }
      if (row.responsible_org_id !== principal.orgId) {
        throw forbidden('incident-not-responsible', 'Only the organisation responsible for the batch files the report');
      }
      if (row.status === 'reported' || row.status === 'reported_late') {
        throw conflict('incident-already-reported', `Incident ${id} already has its report`);
      }
      const late = now.getTime() > row.report_due_by.getTime();
      const status: IncidentStatus = late ? 'reported_late' : 'reported';
      await m.query(
        `INSERT INTO incident_reports (incident_id, summary, actions, late, reported_by_org_id, reported_by_client, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, dto.summary, dto.actions, late, principal.orgId, principal.clientId, now],
      );
      await m.query('UPDATE incidents SET status = $2 WHERE id = $1', [id, status]);
      await this.outbox.append(m, 'incidentReported', { incidentId: id, late, reportedAt: timestampFromDate(now) }, {
        subject: id,
        orgId: principal.orgId,
        occurredAt: now,
      });
      return { id, status, late, reportedAt: now.toISOString(), reportDueBy: row.report_due_by.toISOString() };
    });
  }

  /**
   * Earliest due first. The regulator sees every incident; an operator (or a
   * hospital client) those its organisation reported or must report.
   */
  async list(q: ListQuery<'status'>, principal: Principal, http?: { req: Request; res: Response }, now = new Date()) {
    const params: unknown[] = [now, q.limit + 1];
    const where: string[] = [];
    const status = q.filters.status as IncidentStatus | undefined;
    if (status === 'overdue') where.push(`(i.status = 'overdue' OR (i.status = 'awaiting_report' AND i.report_due_by <= $1))`);
    else if (status === 'awaiting_report') where.push(`i.status = 'awaiting_report' AND i.report_due_by > $1`);
    else if (status) {
      params.push(status);
      where.push(`i.status = $${params.length}`);
    }
    if (principal.role !== 'regulator') {
      params.push(principal.orgId);
      where.push(`(i.responsible_org_id = $${params.length} OR i.reporter_org_id = $${params.length})`);
    }
    if (q.after) {
      params.push(q.after[0], q.after[1]);
      where.push(`(i.report_due_by, i.id) > (${sqlFromMicros(`$${params.length - 1}`)}, $${params.length}::uuid)`);
    }
    const rows = (await this.ds.query(`${SELECT_INCIDENT.replace('SELECT i.*,', `SELECT i.*, ${sqlMicros('i.report_due_by')} AS sort_at,`)} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY i.report_due_by, i.id LIMIT $2`, params)) as (IncidentRow & { sort_at: string })[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], http, view);
  }

  /** The regulator sees every incident; an operator only those its organisation reported or is responsible for. */
  async get(id: string, principal: Principal, now = new Date()) {
    const [row] = (await this.ds.query(`${SELECT_INCIDENT} WHERE i.id = $2`, [now, id])) as IncidentRow[];
    const visible =
      row && (principal.role === 'regulator' || row.responsible_org_id === principal.orgId || row.reporter_org_id === principal.orgId);
    if (!visible) throw notFound('incident', `No incident ${id}`);
    return view(row);
  }

  /**
   * Flags every incident past its due time and publishes `incidentOverdue`
   * once for each: the flag is set in the transaction that writes the outbox
   * row, and rows another sweeper holds are skipped, so concurrent sweepers
   * never publish twice. Returns how many it flagged.
   */
  async sweepOverdue(now = new Date(), batchSize = 100): Promise<number> {
    let total = 0;
    for (;;) {
      const flagged = await this.ds.transaction(async (m) => {
        const due = (await m.query(
          `SELECT id, responsible_org_id, report_due_by FROM incidents
            WHERE status = 'awaiting_report' AND overdue_published_at IS NULL AND report_due_by <= $1
            ORDER BY report_due_by LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, batchSize],
        )) as Pick<IncidentRow, 'id' | 'responsible_org_id' | 'report_due_by'>[];
        for (const r of due) {
          await m.query(`UPDATE incidents SET status = 'overdue', overdue_published_at = $2 WHERE id = $1`, [r.id, now]);
          await this.outbox.append(
            m,
            'incidentOverdue',
            { incidentId: r.id, responsibleOrgId: r.responsible_org_id, reportDueBy: timestampFromDate(r.report_due_by) },
            { subject: r.id, orgId: r.responsible_org_id, occurredAt: now },
          );
        }
        return due.length;
      });
      total += flagged;
      if (flagged < batchSize) return total;
    }
  }

  /** The due time of a report owed `days` working days after `awareAt`, on the calendar as stored now. */
  private dueBy(m: EntityManager, awareAt: Date, days: number): Promise<Date> {
    return afterWorkingDays(m, awareAt, days);
  }
}

function gtin14(input: string): string {
  try {
    return normalizeGtin(input);
  } catch (err) {
    if (err instanceof Gs1Error) throw badRequest('gtin', err.message, [{ field: 'gtin', message: err.message }]);
    throw err;
  }
}

function view(r: IncidentRow) {
  return {
    id: r.id,
    status: r.effective_status,
    domain: r.domain,
    batchId: r.batch_id,
    gtin: r.gtin,
    lot: r.lot,
    productName: r.product_name,
    severity: r.severity,
    occurredAt: formatOffsetTime(r.occurred_at, r.occurred_at_offset),
    awareAt: formatOffsetTime(r.aware_at, r.aware_at_offset),
    description: r.description,
    reporterOrgId: r.reporter_org_id,
    responsibleOrgId: r.responsible_org_id,
    reportWorkingDays: r.report_working_days,
    reportDueBy: r.report_due_by.toISOString(),
    overdueFlaggedAt: r.overdue_published_at ? r.overdue_published_at.toISOString() : null,
    openedAt: r.created_at.toISOString(),
    report: r.reported_at
      ? { summary: r.summary, actions: r.actions, late: r.late, reportedByOrgId: r.reported_by_org_id, reportedAt: r.reported_at.toISOString() }
      : null,
  };
}
