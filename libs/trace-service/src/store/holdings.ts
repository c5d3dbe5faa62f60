import type { EntityManager } from 'typeorm';
import { readAlongWithNext } from '@trace/platform';
import type { Holding, MovementResult } from '@trace/trace-chain';

interface HoldingRow {
  org_id: string;
  quantity: string;
  in_transit: string;
  received: string;
}

interface ShipmentRow {
  from_org_id: string;
  to_org_id: string;
  outstanding: string;
}

const toHolding = (r: HoldingRow): Holding => ({
  orgId: r.org_id,
  quantity: Number(r.quantity),
  inTransit: Number(r.in_transit),
  received: Number(r.received),
});

/** What one event does to the holdings, as the store records it. */
export interface HoldingsWrite {
  batchId: string;
  eventId: string;
  bizStep: string;
  disposition: string | null;
  actorOrgId: string;
  toOrgId?: string;
  eventTime: Date;
  result: MovementResult;
}

/**
 * The one writer of `batch_holdings` and `batch_shipments` (see
 * holdings/migrations.ts). Every method runs in the caller's transaction,
 * which holds the batch row lock (SELECT … FOR UPDATE) for writes: the
 * movements of one batch are serialised, so a holding read here and written
 * back after the pure rule (applyMovement) cannot be over-drawn by a
 * concurrent request. The deferred mass-balance trigger checks the sum again
 * at commit.
 */
export class HoldingsStore {
  /** Every holding of the batch, nothing-held rows included (they carry `received`). */
  static async read(m: EntityManager, batchId: string): Promise<Holding[]> {
    const rows = (await m.query('SELECT org_id, quantity, in_transit, received FROM batch_holdings WHERE batch_id = $1 ORDER BY org_id', [batchId])) as HoldingRow[];
    return rows.map(toHolding);
  }

  /**
   * read() and gone() in one round trip: the holdings come with what each
   * organisation took out of the batch or lost, whose sum is what left it.
   */
  static async readWithGone(m: EntityManager, batchId: string): Promise<HoldingsWithGone> {
    return holdingsWithGone((await m.query(READ_WITH_GONE, [batchId])) as (HoldingRow & { gone: string })[]);
  }

  /**
   * readWithGone() sent with the transaction's next statement, right after it (readAlongWithNext): the
   * statement that locks the batch row, so the holdings are read under that lock without a round trip of
   * their own. Undefined outside a pipelined transaction.
   */
  static readWithGoneAlongWithNext(m: EntityManager, batchId: string): Promise<HoldingsWithGone> | undefined {
    return readAlongWithNext<HoldingRow & { gone: string }>(m, READ_WITH_GONE, [batchId])?.then(holdingsWithGone);
  }

  /** Holdings of many batches (lists, views). */
  static async readMany(m: EntityManager, batchIds: string[]): Promise<Map<string, Holding[]>> {
    const out = new Map<string, Holding[]>();
    if (batchIds.length === 0) return out;
    const rows = (await m.query(
      'SELECT batch_id, org_id, quantity, in_transit, received FROM batch_holdings WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id, org_id',
      [batchIds],
    )) as (HoldingRow & { batch_id: string })[];
    for (const r of rows) out.set(r.batch_id, [...(out.get(r.batch_id) ?? []), toHolding(r)]);
    return out;
  }

  /** True when the organisation holds, has in transit, or ever had a part of the batch. */
  static async involves(m: EntityManager, batchId: string, orgId: string): Promise<boolean> {
    const rows: unknown[] = await m.query('SELECT 1 FROM batch_holdings WHERE batch_id = $1 AND org_id = $2', [batchId, orgId]);
    return rows.length > 0;
  }

  /** New batches: the producer holds all of each. */
  static async open(m: EntityManager, batches: { id: string; orgId: string; quantity: number | string }[]): Promise<void> {
    if (batches.length === 0) return;
    await m.query(
      `INSERT INTO batch_holdings (batch_id, org_id, quantity, received)
       SELECT b, o, q, q FROM unnest($1::uuid[], $2::text[], $3::numeric[]) AS t (b, o, q)`,
      [batches.map((b) => b.id), batches.map((b) => b.orgId), batches.map((b) => b.quantity)],
    );
  }

  /**
   * open() as one part of a larger statement: the producer holds all of each
   * batch of `source` (a CTE with columns id, owner_org_id, quantity).
   */
  static OPEN_FROM_ROWS_OF(source: string): string {
    return `INSERT INTO batch_holdings (batch_id, org_id, quantity, received) SELECT id, owner_org_id, quantity, quantity FROM ${source}`;
  }

  /** Shipments of the batch (who shipped to whom), for "where it came from". */
  static async shipments(m: EntityManager, batchId: string): Promise<{ fromOrgId: string; toOrgId: string; outstanding: number }[]> {
    const rows = (await m.query('SELECT from_org_id, to_org_id, outstanding FROM batch_shipments WHERE batch_id = $1', [batchId])) as ShipmentRow[];
    return rows.map((r) => ({ fromOrgId: r.from_org_id, toOrgId: r.to_org_id, outstanding: Number(r.outstanding) }));
  }

  /** Shipments of many batches (a capture's chunk). */
  static async shipmentsOfMany(m: EntityManager, batchIds: string[]): Promise<Map<string, { fromOrgId: string; toOrgId: string; outstanding: number }[]>> {
    const out = new Map<string, { fromOrgId: string; toOrgId: string; outstanding: number }[]>();
    if (batchIds.length === 0) return out;
    const rows = (await m.query('SELECT batch_id, from_org_id, to_org_id, outstanding FROM batch_shipments WHERE batch_id = ANY($1::uuid[])', [batchIds])) as (ShipmentRow & {
      batch_id: string;
    })[];
    for (const r of rows) out.set(r.batch_id, [...(out.get(r.batch_id) ?? []), { fromOrgId: r.from_org_id, toOrgId: r.to_org_id, outstanding: Number(r.outstanding) }]);
    return out;
  }

  /** What left the batch's supply chain so far (taken out of it, or lost on the way): the mass balance counts it. */
  static async gone(m: EntityManager, batchId: string): Promise<number> {
    return (await HoldingsStore.goneOfMany(m, [batchId])).get(batchId) ?? 0;
  }

  /** gone() of many batches. */
  static async goneOfMany(m: EntityManager, batchIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (batchIds.length === 0) return out;
    const rows = (await m.query(
      'SELECT batch_id, COALESCE(sum(taken + lost), 0) AS gone FROM batch_holdings WHERE batch_id = ANY($1::uuid[]) GROUP BY batch_id',
      [batchIds],
    )) as { batch_id: string; gone: string }[];
    for (const r of rows) out.set(r.batch_id, Number(r.gone));
    return out;
  }

  /** A compensation: what the organisation took (a transformation that then failed) is given back to its holding. */
  static async restore(m: EntityManager, batchId: string, orgId: string, quantity: number): Promise<void> {
    await m.query(
      `UPDATE batch_holdings SET quantity = quantity + $3, taken = GREATEST(taken - $3, 0) WHERE batch_id = $1 AND org_id = $2`,
      [batchId, orgId, quantity],
    );
  }

  /**
   * record() of many movements, in order, with one statement for all their holdings: a holding
   * changed several times ends as the last change left it, its taken and lost add up (what the
   * statements one by one would leave). The shipments each opens or closes follow, one by one.
   */
  static async recordMany(m: EntityManager, writes: readonly HoldingsWrite[]): Promise<void> {
    const rows = new Map<string, { batchId: string; orgId: string; quantity: number; inTransit: number; received: number; taken: number; lost: number }>();
    for (const w of writes) {
      for (const h of w.result.changed) {
        const k = `${w.batchId}|${h.orgId}`;
        const before = rows.get(k);
        const mine = h.orgId === w.actorOrgId;
        rows.set(k, {
          batchId: w.batchId,
          orgId: h.orgId,
          quantity: h.quantity,
          inTransit: h.inTransit,
          received: h.received,
          taken: (before?.taken ?? 0) + (mine ? w.result.taken : 0),
          lost: (before?.lost ?? 0) + (mine ? w.result.shortage : 0),
        });
      }
    }
    if (rows.size) {
      const list = [...rows.values()];
      await m.query(
        `INSERT INTO batch_holdings AS h (batch_id, org_id, quantity, in_transit, received, taken, lost)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[])
         ON CONFLICT (batch_id, org_id) DO UPDATE
           SET quantity = EXCLUDED.quantity, in_transit = EXCLUDED.in_transit, received = EXCLUDED.received,
               taken = h.taken + EXCLUDED.taken, lost = h.lost + EXCLUDED.lost`,
        [
          list.map((r) => r.batchId),
          list.map((r) => r.orgId),
          list.map((r) => r.quantity),
          list.map((r) => r.inTransit),
          list.map((r) => r.received),
          list.map((r) => r.taken),
          list.map((r) => r.lost),
        ],
      );
    }
    for (const w of writes) await HoldingsStore.recordShipment(m, w);
  }

  /** Records what one movement did: the holdings it changed and the shipment it opened or closed. */
  static async record(m: EntityManager, w: HoldingsWrite): Promise<void> {
    const { result } = w;
    if (result.changed.length > 0) {
      const taken = (orgId: string) => (orgId === w.actorOrgId ? result.taken : 0);
      const lost = (orgId: string) => (orgId === w.actorOrgId ? result.shortage : 0);
      await m.query(
        `INSERT INTO batch_holdings AS h (batch_id, org_id, quantity, in_transit, received, taken, lost)
         SELECT $1, o, q, t, r, k, l FROM unnest($2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[]) AS x (o, q, t, r, k, l)
         ON CONFLICT (batch_id, org_id) DO UPDATE
           SET quantity = EXCLUDED.quantity, in_transit = EXCLUDED.in_transit, received = EXCLUDED.received,
               taken = h.taken + EXCLUDED.taken, lost = h.lost + EXCLUDED.lost`,
        [
          w.batchId,
          result.changed.map((h) => h.orgId),
          result.changed.map((h) => h.quantity),
          result.changed.map((h) => h.inTransit),
          result.changed.map((h) => h.received),
          result.changed.map((h) => taken(h.orgId)),
          result.changed.map((h) => lost(h.orgId)),
        ],
      );
    }
    await HoldingsStore.recordShipment(m, w);
  }

  /** The shipment a movement opened (shipping to an organisation of ours) or closed (receiving, void_shipping). */
  private static async recordShipment(m: EntityManager, w: HoldingsWrite): Promise<void> {
    const { result } = w;
    if (w.bizStep === 'shipping' && w.toOrgId && result.moved > 0) {
      await m.query(
        `INSERT INTO batch_shipments (event_id, batch_id, from_org_id, to_org_id, quantity, outstanding, disposition, shipped_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7)`,
        [w.eventId, w.batchId, w.actorOrgId, w.toOrgId, result.moved, w.disposition, w.eventTime],
      );
    } else if (w.bizStep === 'receiving') {
      await m.query(`UPDATE batch_shipments SET outstanding = 0, closed_by = $3 WHERE batch_id = $1 AND to_org_id = $2 AND outstanding > 0`, [
        w.batchId,
        w.actorOrgId,
        w.eventId,
      ]);
    } else if (w.bizStep === 'void_shipping' && w.toOrgId) {
      await m.query(
        `UPDATE batch_shipments SET outstanding = 0, closed_by = $4 WHERE batch_id = $1 AND from_org_id = $2 AND to_org_id = $3 AND outstanding > 0`,
        [w.batchId, w.actorOrgId, w.toOrgId, w.eventId],
      );
    }
  }
}

/**
 * The holdings of a batch, for a domain's own rules (who may register codes,
 * issue a certificate…): read in the caller's transaction, under its batch
 * row lock when it writes. Reading only: the store alone writes holdings.
 */
export function readHoldings(m: EntityManager, batchId: string): Promise<Holding[]> {
  return HoldingsStore.read(m, batchId);
}

/** A batch's holdings and what left it (taken out or lost, summed). */
export interface HoldingsWithGone {
  holdings: Holding[];
  gone: number;
}

// Summed by PostgreSQL (numeric), as gone() does: not in floating point here.
const READ_WITH_GONE = 'SELECT org_id, quantity, in_transit, received, sum(taken + lost) OVER () AS gone FROM batch_holdings WHERE batch_id = $1 ORDER BY org_id';

function holdingsWithGone(rows: (HoldingRow & { gone: string })[]): HoldingsWithGone {
  return { holdings: rows.map(toHolding), gone: rows.length ? Number(rows[0].gone) : 0 };
}
