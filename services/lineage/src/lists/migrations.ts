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

/**
 * Whether a node's `lot` is a lot (AI 10) or the serial of a serialised item
 * (AI 21): a search by Digital Link finds the one it names, never the other
 * with the same text. Nodes registered before are taken from the FSMA read
 * model, which has kept the flag since BatchRegistered carried it.
 */
export class LineageNodeItemKind1765200016200 implements MigrationInterface {
  name = 'LineageNodeItemKind1765200016200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE lineage_nodes ADD COLUMN item_kind text NOT NULL DEFAULT 'lot' CHECK (item_kind IN ('lot', 'serial'))`);
    await q.query(`UPDATE lineage_nodes n SET item_kind = 'serial' FROM fsma_lots f WHERE f.batch_id = n.batch_id AND f.serial`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE lineage_nodes DROP COLUMN item_kind');
  }
}

/**
 * The names of a trace (`trace-names.ts`) read a traced set's shipments by
 * batch (`batch_id = ANY($1)`); with only the receiver's index that read the
 * whole table, a cost that grew with every shipment ever recorded
 * (scripts/bench/plans.ts found it).
 */
export class LineageShipmentsByBatch1765500020000 implements MigrationInterface {
  name = 'LineageShipmentsByBatch1765500020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX lineage_shipments_batch_idx ON lineage_shipments (batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX lineage_shipments_batch_idx');
  }
}
