import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cross-domain graph: one node per batch of any domain, one edge per
 * input or shipment. Rebuildable from the topics; it owns no truth.
 */
export class LineageGraph1764000002000 implements MigrationInterface {
  name = 'LineageGraph1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_nodes (
        batch_id      uuid PRIMARY KEY,
        domain        text NOT NULL,
        gtin          char(14) NOT NULL,
        lot           text NOT NULL,
        status        text NOT NULL DEFAULT 'active',
        holder_org_id text NOT NULL,
        registered_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE lineage_edges (
        from_batch uuid NOT NULL,
        to_batch   uuid NOT NULL,
        kind       text NOT NULL,
        PRIMARY KEY (from_batch, to_batch, kind)
      )`);
    // Upstream walks need the reverse direction too.
    await q.query(`CREATE INDEX lineage_edges_to_idx ON lineage_edges (to_batch, from_batch)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE lineage_edges');
    await q.query('DROP TABLE lineage_nodes');
  }
}
