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

export const TRACE_CHAIN_MIGRATIONS = [TraceChainTables1764000001000];
