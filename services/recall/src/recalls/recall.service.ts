import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DOMAIN_ENUM, DOMAINS, timestampFromDate, type DomainName } from '@trace/contracts';
import { Outbox } from '@trace/messaging';
import {
  conflict,
  forbidden,
  LINEAGE_SCOPE,
  notFound,
  unprocessable,
  type LineageScope,
  type LineageScopeBatch,
  type Principal,
} from '@trace/platform';
import { deadlinesFor, RECALL_DEADLINES, type RecallDeadlineRule, type RecallLevel } from './deadlines';
import type { AcknowledgementDto, CreateRecallDto, RecallDetailsDto } from './dto';

interface RecallRow {
  id: string;
  status: 'active' | 'closed';
  level: number;
  reason: string;
  hazard: string | null;
  regulator_org_id: string;
  case_id: string | null;
  start_by: Date;
  complete_by: Date;
  created_at: Date;
  closed_at: Date | null;
  closed_by_org_id: string | null;
  effectiveness: number | null;
}

interface ScopeRow {
  batch_id: string;
  domain: string;
  gtin: string | null;
  lot: string | null;
  holder_org_id: string | null;
  quantity_value: string | null;
  quantity_unit: string | null;
  is_root: boolean;
}

interface AckRow {
  batch_id: string;
  org_id: string;
  recovered: string;
  destroyed: string;
  sold: string;
  first_at: Date;
  updated_at: Date;
}

const KNOWN_DOMAINS = new Set<string>(DOMAINS);

/**
 * Effectiveness of a recall, 0..1: what is accounted for over what went out.
 *
 * - accounted for = Σ (recovered + destroyed) over the acknowledgements;
 * - went out = Σ over the batches in scope of the batch quantity when the
 *   scope knows it, else of what its holder acknowledged for it
 *   (recovered + destroyed + sold); a batch nobody acknowledged and whose
 *   quantity is unknown adds nothing yet.
 *
 * 0 while nothing went out as far as is known; never above 1.
 */
export function effectivenessOf(scope: ScopeRow[], acks: AckRow[]): { effectiveness: number; accountedFor: number; distributed: number } {
  const ackOf = new Map(acks.map((a) => [a.batch_id, a]));
  let accountedFor = 0;
  let distributed = 0;
  for (const b of scope) {
    const a = ackOf.get(b.batch_id);
    const recovered = a ? Number(a.recovered) + Number(a.destroyed) : 0;
    accountedFor += recovered;
    distributed += b.quantity_value !== null ? Number(b.quantity_value) : a ? recovered + Number(a.sold) : 0;
  }
  const effectiveness = distributed > 0 ? Math.min(1, accountedFor / distributed) : 0;
  return { effectiveness: Math.round(effectiveness * 10_000) / 10_000, accountedFor, distributed };
}

/**
 * Recalls (DOMAIN.md §7) for the regulator: the scope comes from lineage
 * (LINEAGE_SCOPE: in-process or over HTTP); the recall, its scope and one
 * `recallInitiated` per batch in scope (keyed by the batch, so each domain
 * service marks its own batches in order with their other events) are written
 * in one transaction. Acknowledgements come from the organisations holding
 * batches in scope; closing publishes `recallClosed`.
 */
@Injectable()
export class RecallService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(LINEAGE_SCOPE) private readonly lineage: LineageScope,
    @Inject(RECALL_DEADLINES) private readonly deadlines: Record<RecallLevel, RecallDeadlineRule>,
  ) {}

  async create(dto: CreateRecallDto, principal: Principal) {
    return this.start(dto.batches, dto, principal);
  }

  /** Turns an open inspection case into a recall of its batch (and everything downstream). */
  async fromCase(caseId: string, dto: RecallDetailsDto, principal: Principal) {
    const [c] = (await this.ds.query('SELECT id, status, domain, batch_id FROM cases WHERE id = $1', [caseId])) as {
      id: string;
      status: string;
      domain: string;
      batch_id: string;
    }[];
    if (!c) throw notFound('case', `No case ${caseId}`);
    if (c.status !== 'open') throw conflict('case-not-open', `The case ${caseId} is ${c.status}: only an open case becomes a recall`);
    return this.start([{ domain: c.domain, batchId: c.batch_id }], dto, principal, caseId);
  }

  private async start(roots: { domain: string; batchId: string }[], dto: RecallDetailsDto, principal: Principal, caseId?: string) {
    const unique = [...new Map(roots.map((r) => [r.batchId.toLowerCase(), { domain: r.domain, batchId: r.batchId.toLowerCase() }])).values()];
    const answer = await this.lineage.scope(unique);
    // A node lineage knows only from an edge (its row not yet arrived) has no domain: nobody could mark it.
    const batches = answer.batches.filter((b) => KNOWN_DOMAINS.has(b.domain));
    const id = randomUUID();
    const now = new Date();
    const { startBy, completeBy } = deadlinesFor(this.deadlines[dto.level], now);

    try {
      await this.ds.transaction(async (m) => {
        if (caseId) {
          const [c] = (await m.query('SELECT status FROM cases WHERE id = $1 FOR UPDATE', [caseId])) as { status: string }[];
          if (c?.status !== 'open') throw conflict('case-not-open', `The case ${caseId} is no longer open`);
        }
        await m.query(
          `INSERT INTO recalls (id, status, level, reason, hazard, regulator_org_id, case_id, start_by, complete_by, created_at)
           VALUES ($1, 'active', $2, $3, $4, $5, $6, $7, $8, $9)`,
          [id, dto.level, dto.reason, dto.hazard ?? null, principal.orgId, caseId ?? null, startBy, completeBy, now],
        );
        for (const [position, b] of batches.entries()) {
          await m.query(
            `INSERT INTO recall_batches (recall_id, batch_id, domain, gtin, lot, holder_org_id, quantity_value, quantity_unit, is_root, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [id, b.batchId, b.domain, b.gtin, b.lot, b.holderOrgId, b.quantity?.value ?? null, b.quantity?.unit ?? null, b.root, position],
          );
          await this.announce(m, id, dto, b, startBy, completeBy, principal);
        }
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505' && caseId) throw conflict('case-recalled', `The case ${caseId} is already a recall`);
      throw err;
    }
    return this.view(await this.row(id));
  }

  private announce(
    m: EntityManager,
    recallId: string,
    dto: RecallDetailsDto,
    b: LineageScopeBatch,
    startBy: Date,
    completeBy: Date,
    principal: Principal,
  ) {
    return this.outbox.append(
      m,
      'recallInitiated',
      {
        recallId,
        level: dto.level,
        reason: dto.reason,
        hazard: dto.hazard ?? '',
        item: {
          batch: { domain: DOMAIN_ENUM[b.domain as DomainName], batchId: b.batchId },
          gtin: b.gtin ?? '',
          lot: b.lot ?? '',
          holderOrgId: b.holderOrgId ?? '',
          quantity: b.quantity ? { value: String(b.quantity.value), unit: b.quantity.unit } : undefined,
        },
        startBy: timestampFromDate(startBy),
        completeBy: timestampFromDate(completeBy),
        regulatorOrgId: principal.orgId,
      },
      { subject: b.batchId, orgId: principal.orgId },
    );
  }

  /** Regulators and inspectors see every recall; an operator only one holding a batch in its scope (else 404). */
  async get(id: string, principal: Principal) {
    const row = await this.row(id);
    const scope = await this.scopeOf(id);
    if (principal.role === 'operator' && !scope.some((b) => b.holder_org_id === principal.orgId)) throw this.unknown(id);
    const acks = (await this.ds.query('SELECT * FROM recall_acknowledgements WHERE recall_id = $1 ORDER BY first_at, batch_id', [id])) as AckRow[];
    const base = await this.view(row, scope);
    const { effectiveness, accountedFor, distributed } = effectivenessOf(scope, acks);
    const now = Date.now();
    const active = row.status === 'active';
    const orgs = new Map<string, { batches: string[]; acked: AckRow[] }>();
    for (const b of scope) {
      if (!b.holder_org_id) continue;
      const o = orgs.get(b.holder_org_id) ?? { batches: [], acked: [] };
      o.batches.push(b.batch_id);
      orgs.set(b.holder_org_id, o);
    }
    for (const a of acks) orgs.get(a.org_id)?.acked.push(a);
    return {
      ...base,
      acknowledgements: acks.map((a) => ({
        batchId: a.batch_id,
        orgId: a.org_id,
        recovered: Number(a.recovered),
        destroyed: Number(a.destroyed),
        sold: Number(a.sold),
        acknowledgedAt: a.first_at.toISOString(),
        updatedAt: a.updated_at.toISOString(),
      })),
      effectiveness,
      effectivenessBasis: {
        accountedFor,
        distributed,
        definition:
          '(recovered + destroyed) / quantity that went out; per batch in scope, its quantity when known, ' +
          'else recovered + destroyed + sold as its holder acknowledged',
      },
      organisations: [...orgs.entries()].map(([orgId, o]) => {
        const acknowledged = o.acked.length > 0;
        const complete = o.acked.length >= o.batches.length;
        return {
          orgId,
          batches: o.batches,
          acknowledgedBatches: o.acked.length,
          acknowledged,
          acknowledgedAt: acknowledged ? new Date(Math.min(...o.acked.map((a) => a.first_at.getTime()))).toISOString() : null,
          complete,
          overdueStart: active && !acknowledged && now > row.start_by.getTime(),
          overdueCompletion: active && !complete && now > row.complete_by.getTime(),
        };
      }),
    };
  }

  async acknowledge(id: string, dto: AcknowledgementDto, principal: Principal) {
    const batchId = dto.batchId.toLowerCase();
    const now = new Date();
    return this.ds.transaction(async (m) => {
      // Shares the row with other acknowledgements; a close waits for them (and they for it).
      const [row] = (await m.query('SELECT * FROM recalls WHERE id = $1 FOR SHARE', [id])) as RecallRow[];
      if (!row) throw this.unknown(id);
      const scope = (await m.query('SELECT batch_id, holder_org_id FROM recall_batches WHERE recall_id = $1', [id])) as ScopeRow[];
      if (!scope.some((b) => b.holder_org_id === principal.orgId)) {
        throw forbidden('not-in-scope', 'Your organisation holds no batch of this recall');
      }
      if (row.status !== 'active') throw conflict('recall-closed', `The recall ${id} is closed`);
      const batch = scope.find((b) => b.batch_id === batchId);
      if (!batch) throw unprocessable('batch-not-in-scope', `The batch ${dto.batchId} is not in the scope of recall ${id}`);
      if (batch.holder_org_id !== principal.orgId) {
        throw forbidden('not-the-holder', 'Only the organisation holding the batch in the recall scope may acknowledge it');
      }
      const [ack] = (await m.query(
        `INSERT INTO recall_acknowledgements (recall_id, batch_id, org_id, recovered, destroyed, sold, first_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (recall_id, batch_id) DO UPDATE
           SET recovered = EXCLUDED.recovered, destroyed = EXCLUDED.destroyed, sold = EXCLUDED.sold, updated_at = EXCLUDED.updated_at
         RETURNING *`,
        [id, batchId, principal.orgId, dto.recovered, dto.destroyed, dto.sold, now],
      )) as AckRow[];
      return {
        recallId: id,
        batchId,
        orgId: principal.orgId,
        recovered: Number(ack.recovered),
        destroyed: Number(ack.destroyed),
        sold: Number(ack.sold),
        acknowledgedAt: ack.first_at.toISOString(),
        updatedAt: ack.updated_at.toISOString(),
      };
    });
  }

  async close(id: string, principal: Principal) {
    const now = new Date();
    await this.ds.transaction(async (m) => {
      const [row] = (await m.query('SELECT * FROM recalls WHERE id = $1 FOR UPDATE', [id])) as RecallRow[];
      if (!row) throw this.unknown(id);
      if (row.status !== 'active') throw conflict('recall-closed', `The recall ${id} is already closed`);
      const scope = (await m.query('SELECT * FROM recall_batches WHERE recall_id = $1', [id])) as ScopeRow[];
      const acks = (await m.query('SELECT * FROM recall_acknowledgements WHERE recall_id = $1', [id])) as AckRow[];
      const { effectiveness } = effectivenessOf(scope, acks);
      await m.query(`UPDATE recalls SET status = 'closed', closed_at = $2, closed_by_org_id = $3, effectiveness = $4 WHERE id = $1`, [
        id,
        now,
        principal.orgId,
        effectiveness,
      ]);
      await this.outbox.append(
        m,
        'recallClosed',
        { recallId: id, closedAt: timestampFromDate(now), effectiveness },
        { subject: id, orgId: principal.orgId, occurredAt: now },
      );
    });
    return this.get(id, principal);
  }

  private async row(id: string): Promise<RecallRow> {
    const [row] = (await this.ds.query('SELECT * FROM recalls WHERE id = $1', [id])) as RecallRow[];
    if (!row) throw this.unknown(id);
    return row;
  }

  private scopeOf(id: string): Promise<ScopeRow[]> {
    return this.ds.query('SELECT * FROM recall_batches WHERE recall_id = $1 ORDER BY position', [id]) as Promise<ScopeRow[]>;
  }

  private async view(row: RecallRow, scope?: ScopeRow[]) {
    const batches = scope ?? (await this.scopeOf(row.id));
    return {
      id: row.id,
      status: row.status,
      level: row.level,
      reason: row.reason,
      hazard: row.hazard,
      caseId: row.case_id,
      regulatorOrgId: row.regulator_org_id,
      createdAt: row.created_at.toISOString(),
      closedAt: row.closed_at ? row.closed_at.toISOString() : null,
      scope: {
        batches: batches.map((b) => ({
          domain: b.domain,
          batchId: b.batch_id,
          gtin: b.gtin,
          lot: b.lot,
          holderOrgId: b.holder_org_id,
          quantity: b.quantity_value !== null ? { value: Number(b.quantity_value), unit: b.quantity_unit } : null,
          root: b.is_root,
        })),
        organisations: [...new Set(batches.map((b) => b.holder_org_id).filter((o): o is string => !!o))],
      },
      deadlines: { startBy: row.start_by.toISOString(), completeBy: row.complete_by.toISOString() },
    };
  }

  private unknown(id: string) {
    return notFound('recall', `No recall ${id}`);
  }
}
