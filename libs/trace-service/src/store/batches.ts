import type { EntityManager } from 'typeorm';
import type { ItemKind } from '@trace/contracts';
import type { BatchRow } from '../rows';
import { HoldingsStore } from './holdings';

/** A batch as it comes into being: its producer owns and holds all of it. */
export interface NewBatch {
  id: string;
  domain: string;
  gtin: string;
  lot: string;
  item_kind: ItemKind;
  /** As produced. */
  quantity: number | string;
  quantity_unit: string;
  owner_org_id: string;
  location_id: string;
  produced_at: Date;
  produced_at_offset?: string | null;
  expires_at?: Date | null;
  expires_at_offset?: string | null;
  attributes: Record<string, unknown>;
  product_id: string;
  product_category: string | null;
  /** The chain as the batch starts with it: its first link when written with the row, else none yet (0, genesis). */
  chain_seq: number;
  chain_head: string;
}

/**
 * Writes new batches, each with its producer as holder of all of it
 * (batch_custody, batch_holdings), in the caller's transaction. The rows
 * travel as one JSON document, so a capture's thousands cost one statement.
 */
export async function insertBatches(m: EntityManager, batches: readonly NewBatch[]): Promise<BatchRow[]> {
  if (batches.length === 0) return [];
  return (await m.query(`WITH ${insertBatchesCtes('$1')} SELECT * FROM inserted`, [JSON.stringify(batches)])) as BatchRow[];
}

/**
 * insertBatches as the CTEs of a larger statement (the rows in parameter
 * `param` as one JSON document; `inserted` answers the new rows): the rows,
 * their custody and their holdings in one statement (data-modifying CTEs;
 * the foreign keys are checked at its end).
 */
export function insertBatchesCtes(param: string): string {
  return `x AS MATERIALIZED (
       SELECT * FROM jsonb_to_recordset(${param}::jsonb) AS x(id uuid, domain text, gtin text, lot text, item_kind text, quantity numeric, quantity_unit text,
            owner_org_id text, location_id text, produced_at timestamptz, produced_at_offset text, expires_at timestamptz, expires_at_offset text,
            attributes jsonb, product_id uuid, product_category text, chain_seq int, chain_head text)),
     custody AS (INSERT INTO batch_custody (batch_id, org_id) SELECT id, owner_org_id FROM x ON CONFLICT DO NOTHING),
     holdings AS (${HoldingsStore.OPEN_FROM_ROWS_OF('x')}),
     inserted AS (
       INSERT INTO batches (id, domain, gtin, lot, item_kind, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                            location_id, produced_at, produced_at_offset, expires_at, expires_at_offset, attributes, product_id, product_category,
                            chain_seq, chain_head)
       SELECT id, domain, gtin, lot, item_kind, quantity, quantity, quantity_unit, owner_org_id, owner_org_id,
              location_id, produced_at, produced_at_offset, expires_at, expires_at_offset, COALESCE(attributes, '{}'), product_id, product_category,
              chain_seq, chain_head
         FROM x
       RETURNING *)`;
}

/** A batch's row after its new links: chain head, status, custody, quantity, place. */
export interface ChainHead {
  id: string;
  seq: number;
  hash: string;
  status: string;
  holder: string;
  pending: string | null;
  quantity: number | string;
  location: string;
}

/**
 * Moves batches to their new chain heads and state (the caller holds their
 * row locks). One batch: `WHERE id = $1`, its primary key. Many: the rows
 * travel as one JSON document, joined on `id = ANY($2)` as well, so the plan
 * starts from the primary key index at every table size (joined on the
 * recordset alone, PostgreSQL guessed it at 100 rows and scanned the whole
 * table below about ten thousand; see scripts/bench/README.md).
 */
export async function setChainHeads(m: EntityManager, heads: readonly ChainHead[]): Promise<void> {
  if (heads.length === 0) return;
  if (heads.length === 1) {
    const one = chainHeadUpdate(heads[0], 1);
    await m.query(one.sql, one.params);
    return;
  }
  await m.query(
    `UPDATE batches AS b SET chain_seq = u.seq, chain_head = u.hash, status = u.status, holder_org_id = u.holder,
            pending_receiver_org_id = u.pending, quantity_value = u.quantity, location_id = u.location
       FROM jsonb_to_recordset($1::jsonb) AS u (id uuid, seq int, hash text, status text, holder text, pending text, quantity numeric, location text)
      WHERE b.id = ANY($2::uuid[]) AND b.id = u.id`,
    [JSON.stringify(heads), heads.map((h) => h.id)],
  );
}

/** One batch's head update by its primary key, numbered from `$first` (to be one part of a larger statement). */
export function chainHeadUpdate(h: ChainHead, first: number): { sql: string; params: unknown[] } {
  const p = (n: number) => `$${first + n}`;
  return {
    sql: `UPDATE batches SET chain_seq = ${p(1)}::int, chain_head = ${p(2)}, status = ${p(3)}, holder_org_id = ${p(4)},
                 pending_receiver_org_id = ${p(5)}, quantity_value = ${p(6)}::numeric, location_id = ${p(7)}
           WHERE id = ${p(0)}::uuid`,
    params: [h.id, h.seq, h.hash, h.status, h.holder, h.pending, h.quantity, h.location],
  };
}

/** Organisations that have had custody of batches (who may see them after they are gone). */
export async function addCustody(m: EntityManager, rows: readonly { batchId: string; orgId: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await m.query(`INSERT INTO batch_custody (batch_id, org_id) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`, [
    rows.map((r) => r.batchId),
    rows.map((r) => r.orgId),
  ]);
}

/** Lineage edges of a transformation: the output made from each input. */
export async function insertEdges(
  m: EntityManager,
  edges: readonly { output: string; domain: string; input: string; value: number; unit: string }[],
): Promise<void> {
  if (edges.length === 0) return;
  await m.query(
    `INSERT INTO batch_inputs (output_batch_id, input_domain, input_batch_id, quantity_value, quantity_unit)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::numeric[], $5::text[]) ON CONFLICT DO NOTHING`,
    [edges.map((e) => e.output), edges.map((e) => e.domain), edges.map((e) => e.input), edges.map((e) => e.value), edges.map((e) => e.unit)],
  );
}
