import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox, inbox and dead letters. Unqualified names: the service's
 * search_path puts them in its own schema.
 */
export class MessagingTables1764000000000 implements MigrationInterface {
  name = 'MessagingTables1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id          bigserial PRIMARY KEY,
        event_id    uuid NOT NULL UNIQUE,
        topic       text NOT NULL,
        message_key text NOT NULL,
        event_type  text NOT NULL,
        payload     bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        sent_at     timestamptz,
        attempts    int NOT NULL DEFAULT 0,
        last_error  text
      )`);
    // The relay only ever looks for unsent rows; keep that lookup tiny.
    await q.query(`CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL`);
    await q.query(`
      CREATE TABLE inbox (
        consumer     text NOT NULL,
        event_id     uuid NOT NULL,
        topic        text NOT NULL,
        event_type   text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    await q.query(`
      CREATE TABLE dead_letters (
        id          bigserial PRIMARY KEY,
        consumer    text NOT NULL,
        topic       text NOT NULL,
        message_key text,
        event_id    text,
        event_type  text,
        payload     bytea NOT NULL,
        reason      text NOT NULL,
        attempts    int NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dead_letters');
    await q.query('DROP TABLE inbox');
    await q.query('DROP TABLE outbox');
  }
}

/**
 * Old inbox rows found without reading the table (MessagingRetention): a BRIN index on processed_at. The
 * inbox only grows at its end in time, which is what BRIN summarises well, and it costs an insert next to
 * nothing, where a B-tree would add a page write to every delivery.
 */
export class MessagingInboxProcessedAt1766100000100 implements MigrationInterface {
  name = 'MessagingInboxProcessedAt1766100000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX inbox_processed_at_brin ON inbox USING brin (processed_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX inbox_processed_at_brin');
  }
}

export const MESSAGING_MIGRATIONS = [MessagingTables1764000000000, MessagingInboxProcessedAt1766100000100];
