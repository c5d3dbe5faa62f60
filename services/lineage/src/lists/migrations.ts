import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cross-domain lists from the lineage read model (API.md "Batches", Lists):
 * `GET /v1/search` finds nodes by GTIN or lot, newest first; `GET
 * /v1/shipments/incoming` reads `lineage_shipments`, every shipment a chain
 * event announced (its sender is the organisation the event was recorded
 * for), joined with what lineage_holdings says is still in transit to the
 * receiver. Shipments announced before this table existed are not in it.
 */
export class LineageLists1765200016100 implements MigrationInterface {
  name = 'LineageLists1765200016100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_shipments (
        event_id    uuid PRIMARY KEY,
        batch_id    uuid NOT NULL,
        domain      text NOT NULL,
        seq         bigint NOT NULL,
        from_org_id text NOT NULL,
        to_org_id   text NOT NULL,
        quantity    numeric,
        unit        text,
        shipped_at  timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX lineage_shipments_to_idx ON lineage_shipments (to_org_id, batch_id)`);
    await q.query(`CREATE INDEX lineage_nodes_search_gtin_idx ON lineage_nodes (gtin, registered_at DESC, batch_id DESC) WHERE registered`);
    await q.query(`CREATE INDEX lineage_nodes_search_lot_idx ON lineage_nodes (lot, registered_at DESC, batch_id DESC) WHERE registered`);
    await q.query(`CREATE INDEX lineage_custody_org_idx ON lineage_custody (org_id, batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['lineage_nodes_search_gtin_idx', 'lineage_nodes_search_lot_idx', 'lineage_custody_org_idx']) await q.query(`DROP INDEX ${i}`);
    await q.query('DROP TABLE lineage_shipments');
  }
}
