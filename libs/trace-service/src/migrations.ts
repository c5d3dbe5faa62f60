import { MigrationInterface, QueryRunner } from 'typeorm';

/** Batches and their append-only, hash-chained trace events (one set per domain schema). */
export class TraceChainTables1764000001000 implements MigrationInterface {
  name = 'TraceChainTables1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE batches (
        id              uuid PRIMARY KEY,
        domain          text NOT NULL,
        gtin            char(14) NOT NULL,
        lot             text NOT NULL,
        quantity_value  numeric NOT NULL CHECK (quantity_value >= 0),
        quantity_unit   text NOT NULL,
        owner_org_id    text NOT NULL,
        holder_org_id   text NOT NULL,
        location_id     text NOT NULL,
        status          text NOT NULL DEFAULT 'active',
        produced_at     timestamptz NOT NULL,
        expires_at      timestamptz,
        attributes      jsonb NOT NULL DEFAULT '{}',
        chain_seq       int NOT NULL DEFAULT 0,
        chain_head      char(64) NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (gtin, lot)
      )`);
    await q.query(`CREATE INDEX batches_holder_idx ON batches (holder_org_id)`);
    await q.query(`
      CREATE TABLE trace_events (
        id          uuid PRIMARY KEY,
        batch_id    uuid NOT NULL REFERENCES batches (id),
        seq         int NOT NULL,
        biz_step    text NOT NULL,
        disposition text,
        event_time  timestamptz NOT NULL,
        record_time timestamptz NOT NULL DEFAULT now(),
        org_id      text NOT NULL,
        content     jsonb NOT NULL,
        prev_hash   char(64) NOT NULL,
        hash        char(64) NOT NULL,
        UNIQUE (batch_id, seq)
      )`);
    // Append-only: the database itself refuses to rewrite history.
    await q.query(`
      CREATE FUNCTION trace_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'trace_events is append-only'; END $$`);
    await q.query(`
      CREATE TRIGGER trace_events_no_rewrite BEFORE UPDATE OR DELETE ON trace_events
      FOR EACH ROW EXECUTE FUNCTION trace_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trace_events');
    await q.query('DROP FUNCTION trace_events_append_only');
    await q.query('DROP TABLE batches');
  }
}



/** Products, custody in transit, transformation inputs. */
export class TraceChainCustody1764000003000 implements MigrationInterface {
  name = 'TraceChainCustody1764000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE products (
        id           uuid PRIMARY KEY,
        gtin         char(14) NOT NULL UNIQUE,
        name         text NOT NULL,
        category     text NOT NULL,
        owner_org_id text NOT NULL,
        attributes   jsonb NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE batches ADD COLUMN product_id uuid REFERENCES products (id)`);
    await q.query(`ALTER TABLE batches ADD COLUMN product_category text`);
    await q.query(`ALTER TABLE batches ADD COLUMN pending_receiver_org_id text`);
    await q.query(`ALTER TABLE batches ADD COLUMN quantity_initial numeric`);
    await q.query(`UPDATE batches SET quantity_initial = quantity_value`);
    // Organisations that ever held a batch keep read access to it.
    await q.query(`
      CREATE TABLE batch_custody (
        batch_id uuid NOT NULL REFERENCES batches (id),
        org_id   text NOT NULL,
        since    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (batch_id, org_id)
      )`);
    await q.query(`INSERT INTO batch_custody (batch_id, org_id) SELECT id, owner_org_id FROM batches ON CONFLICT DO NOTHING`);
    await q.query(`CREATE INDEX batch_custody_org_idx ON batch_custody (org_id)`);
    await q.query(`
      CREATE TABLE batch_inputs (
        output_batch_id uuid NOT NULL REFERENCES batches (id),
        input_domain    text NOT NULL,
        input_batch_id  uuid NOT NULL,
        quantity_value  numeric NOT NULL CHECK (quantity_value > 0),
        quantity_unit   text NOT NULL,
        PRIMARY KEY (output_batch_id, input_domain, input_batch_id)
      )`);
    await q.query(`CREATE INDEX batch_inputs_input_idx ON batch_inputs (input_batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE batch_inputs');
    await q.query('DROP TABLE batch_custody');
    for (const c of ['quantity_initial', 'pending_receiver_org_id', 'product_category', 'product_id']) {
      await q.query(`ALTER TABLE batches DROP COLUMN ${c}`);
    }
    await q.query('DROP TABLE products');
  }
}

/**
 * EPCIS 2.0 facts of captured events, beside the hashed content (which keeps
 * the whole EPCIS event): the event hash as de-duplication key (one row per
 * batch, event and error-declaration flag), the event type, object keys and
 * locations for the query interface, the capture job, and a record time set
 * once per capture so that one EPCIS event stored on several chains sorts as
 * one. Nullable: events recorded through the REST API have none of these.
 */
export class TraceChainEpcis1764300001000 implements MigrationInterface {
  name = 'TraceChainEpcis1764300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trace_events
      ADD COLUMN epcis_hash   text,
      ADD COLUMN epcis_error  boolean NOT NULL DEFAULT false,
      ADD COLUMN epcis_type   text,
      ADD COLUMN epc_keys     text[],
      ADD COLUMN read_point   text,
      ADD COLUMN biz_location text,
      ADD COLUMN capture_id   uuid`);
    await q.query(`CREATE UNIQUE INDEX trace_events_epcis_dedupe ON trace_events (batch_id, epcis_hash, epcis_error) WHERE epcis_hash IS NOT NULL`);
    await q.query(`CREATE INDEX trace_events_epcis_hash_idx ON trace_events (epcis_hash) WHERE epcis_hash IS NOT NULL`);
    await q.query(`CREATE INDEX trace_events_record_time_idx ON trace_events (record_time)`);
    await q.query(`CREATE INDEX trace_events_epc_keys_idx ON trace_events USING gin (epc_keys)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const i of ['trace_events_epcis_dedupe', 'trace_events_epcis_hash_idx', 'trace_events_record_time_idx', 'trace_events_epc_keys_idx']) {
      await q.query(`DROP INDEX ${i}`);
    }
    for (const c of ['epcis_hash', 'epcis_error', 'epcis_type', 'epc_keys', 'read_point', 'biz_location', 'capture_id']) {
      await q.query(`ALTER TABLE trace_events DROP COLUMN ${c}`);
    }
  }
}

/**
 * Versioned link hashes. Existing links were hashed over their content only
 * (v1) and keep verifying that way; links written from now on hash the full
 * record a reader is shown (v2: step, disposition, time, organisation beside
 * the content), so editing those columns breaks the chain. New rows default
 * to 2: every writer builds links with nextLink, which is v2.
 */
export class TraceChainHashVersion1765000180000 implements MigrationInterface {
  name = 'TraceChainHashVersion1765000180000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trace_events ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2))`);
    await q.query(`ALTER TABLE trace_events ALTER COLUMN hash_version SET DEFAULT 2`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE trace_events DROP COLUMN hash_version');
  }
}

/**
 * A lot and a serial are different identities (API.md "Identity"): a batch
 * row holds either a lot or the serial of a serialised item (EPCIS capture
 * creates those, marked until now only in `attributes.epcis.instance`), so
 * lot "2017" and serial "2017" of one GTIN are two rows, two chains.
 */
export class TraceChainItemKind1765000200000 implements MigrationInterface {
  name = 'TraceChainItemKind1765000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE batches ADD COLUMN item_kind text NOT NULL DEFAULT 'lot' CHECK (item_kind IN ('lot', 'serial'))`);
    await q.query(`UPDATE batches SET item_kind = 'serial' WHERE attributes->'epcis'->>'instance' = 'true'`);
    await q.query(`ALTER TABLE batches DROP CONSTRAINT batches_gtin_lot_key`);
    await q.query(`CREATE UNIQUE INDEX batches_item_key ON batches (gtin, item_kind, lot)`);
    // What was registered before GTINs, lots and serials were claimed across domains: IdentityBackfill
    // claims these at the identity service after start-up, then deletes them. Nothing else writes here.
    await q.query(`
      CREATE TABLE unclaimed_identities (
        gtin   char(14) NOT NULL,
        kind   text NOT NULL CHECK (kind IN ('gtin', 'lot', 'serial')),
        value  text NOT NULL,
        org_id text NOT NULL,
        PRIMARY KEY (gtin, kind, value)
      )`);
    await q.query(`INSERT INTO unclaimed_identities (gtin, kind, value, org_id) SELECT gtin, 'gtin', '', owner_org_id FROM products`);
    await q.query(`INSERT INTO unclaimed_identities (gtin, kind, value, org_id) SELECT gtin, item_kind, lot, owner_org_id FROM batches ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE unclaimed_identities');
    await q.query('DROP INDEX batches_item_key');
    await q.query('ALTER TABLE batches ADD CONSTRAINT batches_gtin_lot_key UNIQUE (gtin, lot)');
    await q.query('ALTER TABLE batches DROP COLUMN item_kind');
  }
}

/**
 * Each link records the status it leaves the batch in (hashed under v2 when
 * present), so the status the scan shows, read from the batch row, can be
 * checked against the chain: a recalled batch set back to active in SQL no
 * longer passes for intact. Null in links written before.
 */
export class TraceChainStatusAfter1765000220000 implements MigrationInterface {
  name = 'TraceChainStatusAfter1765000220000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trace_events ADD COLUMN status_after text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE trace_events DROP COLUMN status_after');
  }
}

export const TRACE_CHAIN_MIGRATIONS = [
  TraceChainTables1764000001000,
  TraceChainCustody1764000003000,
  TraceChainEpcis1764300001000,
  TraceChainHashVersion1765000180000,
  TraceChainItemKind1765000200000,
  TraceChainStatusAfter1765000220000,
];
