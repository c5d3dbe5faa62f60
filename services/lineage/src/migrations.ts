import { MigrationInterface, QueryRunner } from 'typeorm';
import { FsmaErrorDeclarations1765300415000, FsmaReadModel1764100000000, FsmaSerials1765000210000 } from './exports/migrations';
import { LineageLists1765200016100, LineageNodeItemKind1765200016200, LineageShipmentsByBatch1765500020000 } from './lists/migrations';

/**
 * The cross-domain graph: one node per batch of any domain, one edge per
 * transformation input, and every organisation that owned or held a batch.
 * Rebuildable from the topics; it owns no truth.
 *
 * `tx` is the id of the transaction that last wrote a row (set on every insert
 * and update). The in-memory index of each replica catches up on rows written
 * by other replicas with it: "tx not yet visible in my last snapshot", never
 * "id greater than the last one seen", which skips rows whose transactions
 * commit out of order (for nodes, through lineage_node_changes since
 * LineageNodeChanges1766000000000). `version` counts a node's updates, so an
 * older copy of a row never overwrites a newer one in the index.
 */
export class LineageGraph1764000002000 implements MigrationInterface {
  name = 'LineageGraph1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_nodes (
        batch_id             uuid PRIMARY KEY,
        domain               text NOT NULL CHECK (domain IN ('agri', 'food', 'drug', 'material', 'goods')),
        -- NULL until the batch's registration arrives (a node first known from a reference).
        gtin                 char(14),
        lot                  text,
        registered           boolean NOT NULL DEFAULT false,
        status               text NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'held', 'recalled', 'destroyed', 'dispensed')),
        -- Chain seq of the event that set the status; older events do not override it.
        status_seq           bigint NOT NULL DEFAULT 0,
        owner_org_id         text,
        holder_org_id        text,
        in_transit_to_org_id text,
        -- Chain seq of the last shipping/receiving applied to holder and transit.
        custody_seq          bigint NOT NULL DEFAULT 0,
        registered_at        timestamptz,
        version              integer NOT NULL DEFAULT 1,
        tx                   xid8 NOT NULL DEFAULT pg_current_xact_id()
      )`);
    await q.query(`CREATE INDEX lineage_nodes_tx_idx ON lineage_nodes (tx)`);
    await q.query(`
      CREATE TABLE lineage_edges (
        from_batch uuid NOT NULL,
        to_batch   uuid NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('input', 'shipment')),
        tx         xid8 NOT NULL DEFAULT pg_current_xact_id(),
        PRIMARY KEY (from_batch, to_batch, kind)
      )`);
    // Traces are answered from memory; SQL readers (ad-hoc queries, a recall's scope check) walk upstream too.
    await q.query(`CREATE INDEX lineage_edges_to_idx ON lineage_edges (to_batch, from_batch)`);
    await q.query(`CREATE INDEX lineage_edges_tx_idx ON lineage_edges (tx)`);
    // Who may trace a batch as an operator: its owner and every organisation that held it.
    await q.query(`
      CREATE TABLE lineage_custody (
        batch_id    uuid NOT NULL,
        org_id      text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (batch_id, org_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE lineage_custody');
    await q.query('DROP TABLE lineage_edges');
    await q.query('DROP TABLE lineage_nodes');
  }
}

/**
 * What each batch holds and where it is, for recall scopes (quantities in
 * scope, effectiveness) and holders' locations. `state_seq` is the chain seq
 * of the event that set them, so an older event arriving late never overrides
 * a newer one.
 */
export class LineageQuantities1764000002100 implements MigrationInterface {
  name = 'LineageQuantities1764000002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE lineage_nodes
        ADD COLUMN quantity_value numeric,
        ADD COLUMN quantity_unit  text,
        ADD COLUMN location_id    text,
        ADD COLUMN state_seq      bigint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE lineage_nodes DROP COLUMN quantity_value, DROP COLUMN quantity_unit, DROP COLUMN location_id, DROP COLUMN state_seq');
  }
}

/**
 * Who holds how much of each batch (BatchHoldings of the chain events that
 * change them; the producer holds all at registration), for recall scopes and
 * acknowledgement ceilings. `seq` is the chain seq of the event that set them:
 * a late older event never overrides a newer one.
 */
export class LineageHoldings1765100018100 implements MigrationInterface {
  name = 'LineageHoldings1765100018100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_holdings (
        batch_id uuid PRIMARY KEY,
        seq      bigint NOT NULL,
        unit     text,
        holdings jsonb NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE lineage_holdings');
  }
}

/**
 * A commit that writes the graph's tables NOTIFYs `lineage_<schema>`, so each
 * replica's index catches up when there is something to catch up on instead of
 * polling every second (issue 14: an idle app ran nine statements a second for
 * it). In a trigger, not in the projector, so that any writer (a rebuild, a
 * repair by hand) announces itself too. Per statement: a projector transaction
 * of any size sends one notification (PostgreSQL folds equal ones in a transaction).
 */
export class LineageNotify1765900047100 implements MigrationInterface {
  name = 'LineageNotify1765900047100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION lineage_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('lineage_' || TG_TABLE_SCHEMA, '');
        RETURN NULL;
      END $$`);
    for (const table of ['lineage_nodes', 'lineage_edges']) {
      await q.query(`CREATE TRIGGER ${table}_notify AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION lineage_notify_changed()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER lineage_edges_notify ON lineage_edges');
    await q.query('DROP TRIGGER lineage_nodes_notify ON lineage_nodes');
    await q.query('DROP FUNCTION lineage_notify_changed()');
  }
}

/**
 * Which nodes changed, kept apart from the nodes. Every write of a node used to set its indexed `tx`,
 * so no update could be HOT: each one wrote a new entry into every index of the table (its key, `tx`,
 * the search indexes), 22 µs a row against 10 for a HOT update and this log's one entry (measured on
 * 20,000 updates of a 100,000-node table). The replicas' catch-up now reads the log; `tx` stays on the
 * node, unindexed. A statement trigger writes the log, so any writer (the projector, a rebuild, a
 * repair by hand) is caught up on, as the NOTIFY trigger announces any writer. The fillfactor leaves
 * room on each page for the updated rows, which a HOT update needs.
 *
 * `lineage_index_replicas` holds each replica's last snapshot: the log keeps what some live replica
 * has not seen yet and is pruned below that (LineageIndex.prune).
 */
export class LineageNodeChanges1766000000000 implements MigrationInterface {
  name = 'LineageNodeChanges1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_node_changes (
        tx       xid8 NOT NULL DEFAULT pg_current_xact_id(),
        batch_id uuid NOT NULL
      )`);
    await q.query(`CREATE INDEX lineage_node_changes_tx_idx ON lineage_node_changes (tx)`);
    await q.query(`
      CREATE TABLE lineage_index_replicas (
        replica text PRIMARY KEY,
        -- The xmin of the replica's last snapshot: every change below it is in the replica's graph.
        snapshot_xmin xid8 NOT NULL,
        seen_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // Schema-qualified through TG_TABLE_SCHEMA: a writer's search_path may not be the service's.
    await q.query(`
      CREATE FUNCTION lineage_log_node_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        EXECUTE format('INSERT INTO %I.lineage_node_changes (batch_id) SELECT batch_id FROM changed_nodes', TG_TABLE_SCHEMA);
        RETURN NULL;
      END $$`);
    for (const event of ['INSERT', 'UPDATE']) {
      await q.query(
        `CREATE TRIGGER lineage_nodes_log_${event.toLowerCase()} AFTER ${event} ON lineage_nodes
           REFERENCING NEW TABLE AS changed_nodes FOR EACH STATEMENT EXECUTE FUNCTION lineage_log_node_changes()`,
      );
    }
    await q.query('DROP INDEX lineage_nodes_tx_idx');
    await q.query('ALTER TABLE lineage_nodes SET (fillfactor = 85)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE lineage_nodes RESET (fillfactor)');
    await q.query('CREATE INDEX lineage_nodes_tx_idx ON lineage_nodes (tx)');
    await q.query('DROP TRIGGER lineage_nodes_log_update ON lineage_nodes');
    await q.query('DROP TRIGGER lineage_nodes_log_insert ON lineage_nodes');
    await q.query('DROP FUNCTION lineage_log_node_changes()');
    await q.query('DROP TABLE lineage_index_replicas');
    await q.query('DROP TABLE lineage_node_changes');
  }
}

export const LINEAGE_MIGRATIONS = [LineageGraph1764000002000, LineageQuantities1764000002100, FsmaReadModel1764100000000, LineageHoldings1765100018100, FsmaSerials1765000210000, LineageLists1765200016100, LineageNodeItemKind1765200016200, FsmaErrorDeclarations1765300415000, LineageNotify1765900047100, LineageShipmentsByBatch1765500020000, LineageNodeChanges1766000000000];
