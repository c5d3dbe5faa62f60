import type { EntityManager } from 'typeorm';
import type { BatchHoldings, TraceEventRecorded } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';
import { queryOrDefer } from '@trace/platform';

/** One organisation's part of a batch, as lineage keeps it (see proto Holding). */
export interface HoldingFact {
  orgId: string;
  quantity: number;
  inTransit: number;
  received: number;
}

/** What a recall asks of lineage: the holdings of a batch, each organisation with its part. */
export interface BatchHoldingRow extends HoldingFact {
  batchId: string;
  unit: string | null;
}

const amount = (v: string, what: string): number => {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0) throw new PoisonMessageError(`holding ${what} ${JSON.stringify(v)} is not a non-negative number`);
  return n;
};

/** The holdings an event announces, checked (a PoisonMessageError otherwise); undefined when it changed none. */
export function holdingsOf(h: BatchHoldings | undefined): HoldingFact[] | undefined {
  if (!h) return undefined;
  return h.items.map((i) => {
    if (!i.orgId) throw new PoisonMessageError('holding without an organisation');
    return { orgId: i.orgId, quantity: amount(i.quantity, 'quantity'), inTransit: amount(i.inTransit, 'inTransit'), received: amount(i.received, 'received') };
  });
}

/**
 * lineage_holdings: the latest holdings of each batch. An event's holdings
 * replace the stored ones only when its seq is higher, so arrival order does
 * not matter; a registration (seq 0) only fills a batch no event has reached.
 */
export async function projectHoldings(
  manager: EntityManager,
  rows: { batchId: string; seq: bigint; unit: string | null; holdings: HoldingFact[] }[],
): Promise<void> {
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const at = latest.get(r.batchId);
    if (!at || r.seq > at.seq) latest.set(r.batchId, r);
  }
  if (latest.size === 0) return;
  // Nothing waits for it: it goes out with the inbox transaction's next statement or COMMIT.
  await queryOrDefer(
    manager,
    `INSERT INTO lineage_holdings AS h (batch_id, seq, unit, holdings)
     SELECT batch_id, seq, unit, holdings FROM jsonb_to_recordset($1::jsonb) AS x (batch_id uuid, seq bigint, unit text, holdings jsonb)
     ON CONFLICT (batch_id) DO UPDATE SET seq = EXCLUDED.seq, unit = COALESCE(EXCLUDED.unit, h.unit), holdings = EXCLUDED.holdings
       WHERE h.seq < EXCLUDED.seq`,
    [JSON.stringify([...latest.values()].map((r) => ({ batch_id: r.batchId, seq: r.seq.toString(), unit: r.unit, holdings: r.holdings })))],
  );
}

/** The holdings facts of a run of chain events (those that changed holdings). */
export function holdingsFacts(events: TraceEventRecorded[]): { batchId: string; seq: bigint; unit: string | null; holdings: HoldingFact[] }[] {
  const out: { batchId: string; seq: bigint; unit: string | null; holdings: HoldingFact[] }[] = [];
  for (const e of events) {
    const holdings = holdingsOf(e.holdings);
    if (!holdings || !e.batch?.batchId) continue;
    out.push({ batchId: e.batch.batchId.toLowerCase(), seq: e.seq, unit: e.batchQuantity?.unit || null, holdings });
  }
  return out;
}

/** The holdings lineage knows of the given batches, one row per batch and organisation. */
export async function readHoldings(manager: EntityManager, batchIds: string[]): Promise<BatchHoldingRow[]> {
  if (batchIds.length === 0) return [];
  const rows = (await manager.query('SELECT batch_id, unit, holdings FROM lineage_holdings WHERE batch_id = ANY($1::uuid[])', [batchIds])) as {
    batch_id: string;
    unit: string | null;
    holdings: HoldingFact[];
  }[];
  return rows.flatMap((r) => r.holdings.map((h) => ({ batchId: r.batch_id, unit: r.unit, ...h })));
}
