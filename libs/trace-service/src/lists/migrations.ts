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

export const LIST_MIGRATIONS = [TraceChainListIndexes1765200016000];
