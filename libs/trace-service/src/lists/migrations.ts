import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lists (API.md "Lists"): batches and products newest first, paged by
 * (created_at, id), unfiltered, by GTIN, by lot or by status; an operator's
 * custody walked by organisation and batch.
 */
export class TraceChainListIndexes1765200016000 implements MigrationInterface {
  name = 'TraceChainListIndexes1765200016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX batches_list_idx ON batches (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_gtin_idx ON batches (gtin, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_lot_idx ON batches (lot, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_status_idx ON batches (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batch_custody_org_batch_idx ON batch_custody (org_id, batch_id)`);
    await q.query(`CREATE INDEX products_list_idx ON products (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['batches_list_idx', 'batches_list_gtin_idx', 'batches_list_lot_idx', 'batches_list_status_idx', 'batch_custody_org_batch_idx', 'products_list_idx']) {
      await q.query(`DROP INDEX ${i}`);
    }
  }
}

/**
 * Batch lists go in id order instead (see lists/list-batches.ts): an
 * operator's list walks what its organisation holds or has in transit by
 * (org_id, batch_id); filters walk (filter, id). The time-ordered indexes of
 * the migration before are dropped.
 */
export class TraceChainListIdOrder1765200016300 implements MigrationInterface {
  name = 'TraceChainListIdOrder1765200016300';

  async up(q: QueryRunner): Promise<void> {
    for (const i of ['batches_list_idx', 'batches_list_gtin_idx', 'batches_list_lot_idx', 'batches_list_status_idx']) await q.query(`DROP INDEX ${i}`);
    await q.query(`CREATE INDEX batches_list_gtin_idx ON batches (gtin, id)`);
    await q.query(`CREATE INDEX batches_list_lot_idx ON batches (lot, id)`);
    await q.query(`CREATE INDEX batches_list_status_idx ON batches (status, id)`);
    await q.query(`CREATE INDEX batches_list_produced_idx ON batches (produced_at)`);
    await q.query(`CREATE INDEX batch_holdings_in_transit_idx ON batch_holdings (org_id, batch_id) WHERE in_transit > 0`);
    await q.query(`CREATE INDEX batch_holdings_holding_idx ON batch_holdings (org_id, batch_id) WHERE quantity > 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['batches_list_gtin_idx', 'batches_list_lot_idx', 'batches_list_status_idx', 'batches_list_produced_idx', 'batch_holdings_in_transit_idx', 'batch_holdings_holding_idx']) {
      await q.query(`DROP INDEX ${i}`);
    }
    await q.query(`CREATE INDEX batches_list_idx ON batches (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_gtin_idx ON batches (gtin, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_lot_idx ON batches (lot, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX batches_list_status_idx ON batches (status, created_at DESC, id DESC)`);
  }
}

export const LIST_MIGRATIONS = [TraceChainListIndexes1765200016000, TraceChainListIdOrder1765200016300];
