import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DOMAIN_ENUM, DOMAINS, timestampFromDate, type DomainName } from '@trace/contracts';
import { Outbox } from '@trace/messaging';
import {
  conflict,
  DomainError,
  forbidden,
  LINEAGE_SCOPE,
  notFound,
  scopeBatch,
  scopeBatches,
  unprocessable,
  type LineageHolding,
  type LineageScope,
  type LineageScopeBatch,
  type Principal,
} from '@trace/platform';
import { acknowledgeable, recallEffectiveness, type EffectivenessBasis } from '@trace/trace-chain';
import { afterWorkingDays } from '../calendar';
import { deadlinesFor, RECALL_DEADLINES, type RecallDeadlineRule, type RecallLevel } from './deadlines';
import type { AcknowledgementDto, CreateRecallDto, RecallDetailsDto } from './dto';
import { RECALL_OPTIONS, type RecallOptions } from './options';
import { resolveCase } from '../case-resolution';

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
  location_id: string | null;
  is_root: boolean;
  /** When the batch joined a scope that had already started (null: from the start). */
  added_at?: Date | null;
}

/** Who held how much of a batch in scope when the recall started (or when the batch joined it). */
interface HoldingRow {
  batch_id: string;
  org_id: string;
  quantity: string;
  in_transit: string;
  received: string;
  unit: string | null;
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

/** How often followAll reads which recalls are active (a recall started here is seen at once; one started on another replica is that replica's to follow). */
const ACTIVE_RELIST_MS = 30_000;

/** What following a recall last found: its roots and the size of its scope (after that transaction committed). */
interface Followed {
  roots: { domain: string; batchId: string }[];
  size: number;
}

/** What every `recallInitiated` of a recall repeats. */
interface RecallAnnouncement {
  level: number;
  reason: string;
  hazard?: string;
  startBy: Date;
  completeBy: Date;
  regulatorOrgId: string;
}

/** The batches of one domain per `recallInitiated`: small enough for one quick transaction, few enough messages. */
export const RECALL_CHUNK_SIZE = 500;

/** A recall's effectiveness from its stored rows (the arithmetic: recallEffectiveness in trace-chain). */
export function effectivenessOf(scope: ScopeRow[], acks: AckRow[], holdings: HoldingRow[] = []): { effectiveness: number; basis: EffectivenessBasis[] } {
  return recallEffectiveness(
    scope.map((b) => ({ batchId: b.batch_id, quantity: b.quantity_value !== null ? Number(b.quantity_value) : null, unit: b.quantity_unit })),
    acks.map((a) => ({ batchId: a.batch_id, recovered: Number(a.recovered), destroyed: Number(a.destroyed), sold: Number(a.sold) })),
    holdings.map((h) => ({ batchId: h.batch_id, quantity: Number(h.quantity), inTransit: Number(h.in_transit), unit: h.unit })),
  );
}

/**
 * Recalls (DOMAIN.md §7) for the regulator: the scope comes from lineage
 * (LINEAGE_SCOPE: in-process or over HTTP); the recall, its scope and one
 * `recallInitiated` per domain and chunk of up to RECALL_CHUNK_SIZE batches
 * (each domain service marks a chunk in one transaction) are written in one
 * transaction, in a few statements whatever the size of the scope. Acknowledgements come from the organisations holding
 * batches in scope; closing publishes `recallClosed`.
 */
@Injectable()
export class RecallService {
  /** The active recalls, as last read (followAll), and what following each last found (undefined: not followed yet). */
  private following = new Map<string, Followed | undefined>();
  private activeListedAt = -Infinity;
  private readonly startedListeners: (() => void)[] = [];

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(LINEAGE_SCOPE) private readonly lineage: LineageScope,
    @Inject(RECALL_DEADLINES) private readonly deadlines: Record<RecallLevel, RecallDeadlineRule>,
    @Inject(RECALL_OPTIONS) private readonly options: RecallOptions,
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
    const [made] = (await this.ds.query('SELECT id FROM recalls WHERE case_id = $1', [caseId])) as { id: string }[];
    if (made) throw conflict('case-recalled', `The case ${caseId} is already recall ${made.id}`, { recallId: made.id });
    if (c.status !== 'open') throw conflict('case-not-open', `The case ${caseId} is ${c.status}: only an open case becomes a recall`);
    return this.start([{ domain: c.domain, batchId: c.batch_id }], dto, principal, caseId);
  }

  private async start(roots: { domain: string; batchId: string }[], dto: RecallDetailsDto, principal: Principal, caseId?: string) {
    const unique = [...new Map(roots.map((r) => [r.batchId.toLowerCase(), { domain: r.domain, batchId: r.batchId.toLowerCase() }])).values()];
    await this.refuseRecalled(this.ds.manager, unique);
    const answer = await this.scopeOnceKnown(unique);
    // A node lineage knows only from an edge (its row not yet arrived) has no domain: nobody could mark it.
    // The scope follower adds it once lineage knows more.
    const batches = scopeBatches(answer.batches).filter((b) => KNOWN_DOMAINS.has(b.domain));
    refuseAllDestroyed(batches);
    const id = randomUUID();
    const now = new Date();
    // The holdings of the scope just computed (lineage does not walk it again), read while the deadlines are worked out.
    const [holdings, { startBy, completeBy }] = await Promise.all([
      this.lineage.holdings(batches.map((b) => b.batchId)),
      deadlinesFor(this.deadlines[dto.level], now, (from, days) => afterWorkingDays(this.ds, from, days)),
    ]);

    try {
      await this.ds.transaction(async (m) => {
        // Recalls start one at a time, so that of two naming the same batch exactly one is created.
        await m.query(`SELECT pg_advisory_xact_lock(hashtext('recall:start'))`);
        await this.refuseRecalled(m, unique);
        await m.query(
          `INSERT INTO recalls (id, status, level, reason, hazard, regulator_org_id, case_id, start_by, complete_by, created_at)
           VALUES ($1, 'active', $2, $3, $4, $5, $6, $7, $8, $9)`,
          [id, dto.level, dto.reason, dto.hazard ?? null, principal.orgId, caseId ?? null, startBy, completeBy, now],
        );
        // The case is resolved by this recall, in its transaction (409 case-not-open when it closed meanwhile).
        if (caseId) await resolveCase(m, caseId, { status: 'recalled', reason: null, recallId: id, orgId: principal.orgId, at: now });
        await this.insertScope(m, id, batches, 0, null);
        await this.insertHoldings(m, id, holdings);
        await this.announce(m, id, { ...dto, startBy, completeBy, regulatorOrgId: principal.orgId }, batches, 0);
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505' && caseId) throw conflict('case-recalled', `The case ${caseId} is already a recall`);
      throw err;
    }
    // The scope as just written, without reading ten thousand rows back while the domains are marking them.
    const written: ScopeRow[] = batches.map((b) => ({
      batch_id: b.batchId,
      domain: b.domain,
      gtin: b.gtin,
      lot: b.lot,
      holder_org_id: b.holderOrgId,
      quantity_value: b.quantity ? String(b.quantity.value) : null,
      quantity_unit: b.quantity?.unit ?? null,
      location_id: b.locationId,
      is_root: b.root,
    }));
    this.activeListedAt = -Infinity;
    for (const listener of this.startedListeners) listener();
    return this.view(await this.row(id), written, holdings.map(holdingRow));
  }

  /** Called after a recall is started here (the scope follower wakes instead of waiting for its next look). */
  onStarted(listener: () => void): void {
    this.startedListeners.push(listener);
  }

  /** How many active recalls followAll last found (0: the follower can idle until a recall starts). */
  get activeRecalls(): number {
    return this.following.size;
  }

  /** 409 `already-recalled` (with the recall's id) when a named batch is in the scope of an active recall. */
  private async refuseRecalled(m: EntityManager, roots: { batchId: string }[]): Promise<void> {
    const [hit] = (await m.query(
      `SELECT b.recall_id, b.batch_id FROM recall_batches b JOIN recalls r ON r.id = b.recall_id
        WHERE r.status = 'active' AND b.batch_id = ANY($1::uuid[]) ORDER BY r.created_at LIMIT 1`,
      [roots.map((r) => r.batchId)],
    )) as { recall_id: string; batch_id: string }[];
    if (hit) {
      throw conflict('already-recalled', `Batch ${hit.batch_id} is already under active recall ${hit.recall_id}`, {
        recallId: hit.recall_id,
        batchId: hit.batch_id,
      });
    }
  }

  /**
   * Who held how much of each batch when it entered the scope (rows of
   * lineage's holdings), in one statement. Only for batches in the recall's
   * scope (written just before, in the same transaction): the join does once
   * for the statement what a foreign key did row by row.
   */
  private async insertHoldings(m: EntityManager, recallId: string, holdings: LineageHolding[]): Promise<void> {
    if (holdings.length === 0) return;
    await m.query(
      `INSERT INTO recall_holdings (recall_id, batch_id, org_id, quantity, in_transit, received, unit)
       SELECT $1, h.* FROM unnest($2::uuid[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::text[])
                      AS h (batch_id, org_id, quantity, in_transit, received, unit)
         JOIN recall_batches b ON b.recall_id = $1 AND b.batch_id = h.batch_id
       ON CONFLICT DO NOTHING`,
      [
        recallId,
        holdings.map((h) => h.batchId),
        holdings.map((h) => h.orgId),
        holdings.map((h) => h.quantity),
        holdings.map((h) => h.inTransit),
        holdings.map((h) => h.received),
        holdings.map((h) => h.unit),
      ],
    );
  }

  /**
   * The lineage scope of the roots. A root lineage does not know yet (its
   * registration still on its way to lineage) is waited for, up to
   * RECALL_LINEAGE_WAIT_MS, before the 422: a regulator recalling a batch
   * registered a second ago is not told it does not exist.
   */
  private async scopeOnceKnown(roots: { domain: string; batchId: string }[]) {
    const giveUpAt = Date.now() + this.options.lineageWaitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 400)) {
      try {
        return await this.lineage.scope(roots);
      } catch (err) {
        if (!(err instanceof DomainError && err.status === 422) || Date.now() + pause > giveUpAt) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * The batches of a scope (or of a wave joining it), in one statement. Only
   * for a recall that is there (the caller wrote it, or holds its row): the
   * statement checks that once, not a foreign key row by row, and a scope
   * written for no recall is a bug, thrown.
   */
  private async insertScope(m: EntityManager, recallId: string, batches: LineageScopeBatch[], firstPosition: number, addedAt: Date | null) {
    const [{ written }] = (await m.query(
      `WITH written AS (
         INSERT INTO recall_batches (recall_id, batch_id, domain, gtin, lot, holder_org_id, quantity_value, quantity_unit, location_id, is_root, position, added_at)
         SELECT $1, s.*, $12 FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[], $9::text[], $10::boolean[], $11::int[]) AS s
          WHERE EXISTS (SELECT 1 FROM recalls WHERE id = $1)
         RETURNING 1)
       SELECT count(*)::int AS written FROM written`,
      [
        recallId,
        batches.map((b) => b.batchId),
        batches.map((b) => b.domain),
        batches.map((b) => b.gtin),
        batches.map((b) => b.lot),
        batches.map((b) => b.holderOrgId),
        batches.map((b) => b.quantity?.value ?? null),
        batches.map((b) => b.quantity?.unit ?? null),
        batches.map((b) => b.locationId ?? null),
        batches.map((b) => b.root),
        batches.map((_, i) => firstPosition + i),
        addedAt,
      ],
    )) as { written: number }[];
    if (written !== batches.length) throw new Error(`recall ${recallId}: ${written} of ${batches.length} scope rows written (no such recall?)`);
  }

  /** One `recallInitiated` per domain and chunk of the wave, keyed by recall, wave, domain and chunk. */
  private async announce(m: EntityManager, recallId: string, recall: RecallAnnouncement, batches: LineageScopeBatch[], wave: number) {
    const chunks: { domain: DomainName; items: LineageScopeBatch[] }[] = [];
    for (const domain of DOMAINS) {
      const mine = batches.filter((b) => b.domain === domain);
      for (let at = 0; at < mine.length; at += RECALL_CHUNK_SIZE) chunks.push({ domain, items: mine.slice(at, at + RECALL_CHUNK_SIZE) });
    }
    await this.outbox.appendMany(
      m,
      chunks.map(({ domain, items }, n) => ({
        eventCase: 'recallInitiated' as const,
        payload: {
          recallId,
          level: recall.level,
          reason: recall.reason,
          hazard: recall.hazard ?? '',
          domain: DOMAIN_ENUM[domain],
          items: items.map((b) => ({
            batch: { domain: DOMAIN_ENUM[domain], batchId: b.batchId },
            gtin: b.gtin ?? '',
            lot: b.lot ?? '',
            holderOrgId: b.holderOrgId ?? '',
            quantity: b.quantity ? { value: String(b.quantity.value), unit: b.quantity.unit } : undefined,
            locationId: b.locationId ?? '',
          })),
          chunk: n + 1,
          chunks: chunks.length,
          wave,
          startBy: timestampFromDate(recall.startBy),
          completeBy: timestampFromDate(recall.completeBy),
          regulatorOrgId: recall.regulatorOrgId,
        },
        opts: { subject: wave === 0 ? `${recallId}/${domain}/${n + 1}` : `${recallId}/${wave}/${domain}/${n + 1}`, orgId: recall.regulatorOrgId },
      })),
    );
  }

  /**
   * Brings an active recall's scope up to what lineage knows now. Lineage is
   * eventually consistent: a batch made from a batch in scope just before its
   * domain marked it recalled (after which custody refuses transforming it),
   * or whose events reached lineage late, was not in the scope computed at
   * the start. It joins now, with the time it joined, and is announced like
   * the first ones (a new wave), so its domain marks it and its holder is
   * asked to act. A scope only grows: nothing lineage once placed downstream
   * ever stops being downstream. Returns how many batches joined.
   *
   * Under the recall's row lock, skipped when another replica (or a closing
   * regulator) holds it: that one follows it.
   */
  async followScope(recallId: string): Promise<number> {
    const grown = await this.ds.transaction(async (m) => {
      const [row] = (await m.query(`SELECT * FROM recalls WHERE id = $1 AND status = 'active' FOR UPDATE SKIP LOCKED`, [recallId])) as RecallRow[];
      return row ? this.growScope(m, row) : undefined;
    });
    // Committed: what it found may now save the next look a transaction. (Skipped, or no longer active: read again next time.)
    if (grown) this.following.set(recallId, { roots: grown.roots, size: grown.size });
    else this.following.delete(recallId);
    return grown?.joined ?? 0;
  }

  /**
   * followScope for every active recall, oldest first; a recall that fails
   * (lineage unreachable) is tried again next time. A recall whose lineage
   * scope is no larger than its scope was when last followed is not
   * looked at (a scope only grows): an idle system asks lineage, in memory
   * when it is hosted here, and sends nothing to the database. Which recalls
   * are active is read every ACTIVE_RELIST_MS, and at once after one starts here.
   */
  async followAll(): Promise<number> {
    if (Date.now() - this.activeListedAt >= ACTIVE_RELIST_MS) {
      const active = (await this.ds.query(`SELECT id FROM recalls WHERE status = 'active' ORDER BY created_at`)) as { id: string }[];
      this.activeListedAt = Date.now();
      this.following = new Map(active.map(({ id }) => [id, this.following.get(id)]));
    }
    let joined = 0;
    let failed: unknown;
    for (const [id, followed] of [...this.following]) {
      // One recall failing does not keep the others from being followed.
      try {
        if (followed && (await this.lineage.size(followed.roots)) <= followed.size) continue;
        joined += await this.followScope(id);
      } catch (err) {
        failed ??= err;
      }
    }
    if (failed) throw failed;
    return joined;
  }

  /**
   * In the caller's transaction, holding the recall row: adds what lineage
   * knows downstream of the roots and the scope lacks. Returns how many joined,
   * the roots, and the scope's size with them.
   */
  private async growScope(m: EntityManager, row: RecallRow): Promise<{ joined: number } & Followed> {
    const [held] = (await m.query(
      `SELECT count(*)::int AS size, max(position) AS last,
              json_agg(json_build_object('domain', domain, 'batchId', batch_id) ORDER BY position) FILTER (WHERE is_root) AS roots
         FROM recall_batches WHERE recall_id = $1`,
      [row.id],
    )) as { size: number; last: number; roots: { domain: string; batchId: string }[] | null }[];
    const unchanged = { joined: 0, roots: held.roots ?? [], size: held.size };
    if (!held.roots?.length) return unchanged;
    // A scope only grows, and what is held came from an earlier answer: as many now means the same batches.
    if ((await this.lineage.size(held.roots)) <= held.size) return unchanged;
    const answer = (await this.lineage.scope(held.roots)).batches;
    const inScope = new Set(
      ((await m.query('SELECT batch_id FROM recall_batches WHERE recall_id = $1', [row.id])) as { batch_id: string }[]).map((b) => b.batch_id),
    );
    const joining: LineageScopeBatch[] = [];
    for (let i = 0; i < answer.batchId.length; i++) {
      if (!inScope.has(answer.batchId[i]) && KNOWN_DOMAINS.has(answer.domain[i])) joining.push(scopeBatch(answer, i));
    }
    if (joining.length === 0) return unchanged;
    const [{ wave }] = (await m.query('SELECT count(DISTINCT added_at)::int + 1 AS wave FROM recall_batches WHERE recall_id = $1 AND added_at IS NOT NULL', [row.id])) as {
      wave: number;
    }[];
    await this.insertScope(m, row.id, joining, held.last + 1, new Date());
    await this.insertHoldings(m, row.id, await this.lineage.holdings(joining.map((b) => b.batchId)));
    await this.announce(
      m,
      row.id,
      {
        level: row.level,
        reason: row.reason,
        hazard: row.hazard ?? undefined,
        startBy: row.start_by,
        completeBy: row.complete_by,
        regulatorOrgId: row.regulator_org_id,
      },
      joining,
      wave,
    );
    return { joined: joining.length, roots: held.roots, size: held.size + joining.length };
  }

  /** Regulators and inspectors see every recall; an operator only one holding a batch in its scope (else 404). */
  async get(id: string, principal: Principal) {
    const row = await this.row(id);
    const scope = await this.scopeOf(id);
    const holdings = await this.holdingsOf(id);
    const acks = (await this.ds.query('SELECT * FROM recall_acknowledgements WHERE recall_id = $1 ORDER BY first_at, batch_id, org_id', [id])) as AckRow[];
    if (
      principal.role === 'operator' &&
      !scope.some((b) => b.holder_org_id === principal.orgId) &&
      !holdings.some((h) => h.org_id === principal.orgId) &&
      !acks.some((a) => a.org_id === principal.orgId)
    ) {
      throw this.unknown(id);
    }
    const base = await this.view(row, scope, holdings);
    const { effectiveness, basis } = effectivenessOf(scope, acks, holdings);
    const now = Date.now();
    const active = row.status === 'active';
    const orgs = new Map<string, { batches: Set<string>; acked: AckRow[] }>();
    const expect = (orgId: string, batchId: string) => {
      const o = orgs.get(orgId) ?? { batches: new Set<string>(), acked: [] };
      o.batches.add(batchId);
      orgs.set(orgId, o);
    };
    for (const [batchId, orgIds] of holdersOf(scope, holdings)) for (const orgId of orgIds) expect(orgId, batchId);
    for (const a of acks) {
      expect(a.org_id, a.batch_id);
      orgs.get(a.org_id)?.acked.push(a);
    }
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
        // The totals when the scope counts in one unit (the usual case), else null: kilograms and boxes do not add.
        accountedFor: basis.length === 1 ? basis[0].accountedFor : null,
        distributed: basis.length === 1 ? basis[0].distributed : null,
        byUnit: basis,
        definition:
          'per unit: (recovered + destroyed, at most what was held of each batch) / what was held of the batches in scope, in transit included, when the recall began ' +
          '(else what the holder acknowledged: recovered + destroyed + sold); effectiveness is the mean over units',
      },
      organisations: [...orgs.entries()].map(([orgId, o]) => {
        const acknowledged = o.acked.length > 0;
        const complete = o.acked.length >= o.batches.size;
        return {
          orgId,
          batches: [...o.batches],
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

  /**
   * An organisation's account of one batch in scope: checked against what it
   * held (and had in transit) when the recall started plus what it was given
   * since (a return, a shipment sent after the start), as lineage knows it now:
   * above that is 422 `exceeds-holding`. A later acknowledgement of the same
   * batch by the same organisation replaces the quantities.
   */
  async acknowledge(id: string, dto: AcknowledgementDto, principal: Principal) {
    const batchId = dto.batchId.toLowerCase();
    const now = new Date();
    const [batch] = (await this.ds.query('SELECT batch_id, domain, holder_org_id FROM recall_batches WHERE recall_id = $1 AND batch_id = $2', [id, batchId])) as ScopeRow[];
    const current = batch ? (await this.lineage.holdings([batchId])).find((h) => h.orgId === principal.orgId) : undefined;
    return this.ds.transaction(async (m) => {
      // Shares the row with other acknowledgements; a close waits for them (and they for it).
      const [row] = (await m.query('SELECT * FROM recalls WHERE id = $1 FOR SHARE', [id])) as RecallRow[];
      if (!row) throw this.unknown(id);
      const [involved] = await m.query(
        `SELECT 1 FROM recall_holdings WHERE recall_id = $1 AND org_id = $2
         UNION ALL SELECT 1 FROM recall_batches WHERE recall_id = $1 AND holder_org_id = $2 LIMIT 1`,
        [id, principal.orgId],
      );
      if (!involved && !(current && current.received > 0)) {
        throw forbidden('not-in-scope', 'Your organisation holds no batch of this recall');
      }
      if (row.status !== 'active') throw conflict('recall-closed', `The recall ${id} is closed`);
      if (!batch) throw unprocessable('batch-not-in-scope', `The batch ${dto.batchId} is not in the scope of recall ${id}`);
      const [start] = (await m.query('SELECT * FROM recall_holdings WHERE recall_id = $1 AND batch_id = $2 AND org_id = $3', [id, batchId, principal.orgId])) as HoldingRow[];
      const [anyHolding] = await m.query('SELECT 1 FROM recall_holdings WHERE recall_id = $1 AND batch_id = $2 LIMIT 1', [id, batchId]);
      const total = dto.recovered + dto.destroyed + dto.sold;
      if (anyHolding || current) {
        const ceiling = acknowledgeable(start ? { quantity: Number(start.quantity), inTransit: Number(start.in_transit), received: Number(start.received) } : undefined, current);
        if (ceiling <= 0) throw forbidden('not-the-holder', 'Your organisation held none of this batch when the recall started and was given none since');
        if (total > ceiling) {
          throw unprocessable(
            'exceeds-holding',
            `Your organisation held ${ceiling} of batch ${batchId} (at the start of the recall, in transit included, and given since); ${total} cannot be accounted for`,
            { held: ceiling, acknowledged: total },
          );
        }
      } else if (batch.holder_org_id !== principal.orgId) {
        // A scope from before holdings: its one holder answers for it.
        throw forbidden('not-the-holder', 'Only the organisation holding the batch in the recall scope may acknowledge it');
      }
      const [ack] = (await m.query(
        `INSERT INTO recall_acknowledgements (recall_id, batch_id, org_id, recovered, destroyed, sold, first_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (recall_id, batch_id, org_id) DO UPDATE
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
    const joined = await this.ds.transaction(async (m) => {
      const [row] = (await m.query('SELECT * FROM recalls WHERE id = $1 FOR UPDATE', [id])) as RecallRow[];
      if (!row) throw this.unknown(id);
      if (row.status !== 'active') throw conflict('recall-closed', `The recall ${id} is already closed`);
      // Closing says the scope is accounted for, so it must be the whole scope: batches lineage
      // learned of since join it now (committed, and announced), and the recall stays open.
      const grown = (await this.growScope(m, row)).joined;
      if (grown > 0) return grown;
      const scope = (await m.query('SELECT * FROM recall_batches WHERE recall_id = $1', [id])) as ScopeRow[];
      const acks = (await m.query('SELECT * FROM recall_acknowledgements WHERE recall_id = $1', [id])) as AckRow[];
      const { effectiveness } = effectivenessOf(scope, acks, await this.holdingsOf(id, m));
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
      return 0;
    });
    if (joined > 0) {
      throw conflict(
        'recall-scope-grew',
        `${joined} more batches turned out to be downstream of this recall; they have joined its scope and their domains are marking them. Close it once they are accounted for.`,
        { joined },
      );
    }
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

  private holdingsOf(id: string, m: EntityManager = this.ds.manager): Promise<HoldingRow[]> {
    return m.query('SELECT * FROM recall_holdings WHERE recall_id = $1 ORDER BY batch_id, org_id', [id]) as Promise<HoldingRow[]>;
  }

  private async view(row: RecallRow, scope?: ScopeRow[], holdingRows?: HoldingRow[]) {
    const batches = scope ?? (await this.scopeOf(row.id));
    const holdings = holdingRows ?? (await this.holdingsOf(row.id));
    const domainOf = new Map(batches.map((b) => [b.batch_id, b.domain]));
    const holders = holdersOf(batches, holdings);
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
          locationId: b.location_id,
          root: b.is_root,
          addedAt: (b.added_at ?? row.created_at).toISOString(),
        })),
        holdings: holdings
          .filter((h) => Number(h.quantity) > 0 || Number(h.in_transit) > 0)
          .map((h) => ({
            domain: domainOf.get(h.batch_id) ?? null,
            batchId: h.batch_id,
            orgId: h.org_id,
            quantity: Number(h.quantity),
            inTransit: Number(h.in_transit),
            unit: h.unit,
          })),
        organisations: [...new Set([...holders.values()].flat())],
      },
      deadlines: { startBy: row.start_by.toISOString(), completeBy: row.complete_by.toISOString() },
    };
  }

  private unknown(id: string) {
    return notFound('recall', `No recall ${id}`);
  }
}

/** A holdings row as lineage answered it, in the shape stored (the answer of start, before reading it back). */
function holdingRow(h: LineageHolding): HoldingRow {
  return { batch_id: h.batchId, org_id: h.orgId, quantity: String(h.quantity), in_transit: String(h.inTransit), received: String(h.received), unit: h.unit };
}

/**
 * Who is asked to act on each batch: the organisations that held some of it
 * or had some in transit when the recall started; for a batch without
 * holdings (a scope from before holdings), its one holder.
 */
function holdersOf(scope: ScopeRow[], holdings: HoldingRow[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of holdings) {
    if (Number(h.quantity) > 0 || Number(h.in_transit) > 0) out.set(h.batch_id, [...(out.get(h.batch_id) ?? []), h.org_id]);
  }
  const withHoldings = new Set(holdings.map((h) => h.batch_id));
  for (const b of scope) if (!withHoldings.has(b.batch_id) && b.holder_org_id) out.set(b.batch_id, [b.holder_org_id]);
  return out;
}

/**
 * A recall reaches what is still out there. When every batch of its scope is
 * destroyed (the named ones and anything made from them), there is nothing to
 * recover: 409 `batch-destroyed` rather than a recall that can never be
 * effective. A destroyed batch whose products are still out is recalled with
 * them (its scope shows it destroyed; holders acknowledge the rest).
 */
function refuseAllDestroyed(batches: { batchId: string; status: string; root: boolean }[]): void {
  if (batches.length === 0 || batches.some((b) => b.status !== 'destroyed')) return;
  const named = batches.filter((b) => b.root).map((b) => b.batchId);
  throw conflict('batch-destroyed', `Every batch this recall would reach is destroyed already (${named.join(', ')}): nothing is left to recall`, {
    batchIds: named,
  });
}
