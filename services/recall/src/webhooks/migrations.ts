import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (API.md "Notifications (webhooks)"): an organisation's
 * subscriptions and one delivery per event and subscription. A delivery row is
 * written in the inbox transaction that learns of the event, so it survives a
 * crash; the worker POSTs it, and `log` keeps every attempt for the delivery
 * log. `next_attempt_at` doubles as the worker's lease: a claimed row is pushed
 * into the future, so a worker that dies mid-POST leaves it to be tried again.
 */
export class RecallWebhooks1765300021700 implements MigrationInterface {
  name = 'RecallWebhooks1765300021700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_subscriptions (
        id         uuid PRIMARY KEY,
        org_id     text NOT NULL,
        -- A regulator's subscription hears every event; an operator's only those concerning its organisation.
        org_role   text NOT NULL CHECK (org_role IN ('operator', 'regulator')),
        url        text NOT NULL,
        events     text[] NOT NULL,
        secret     text NOT NULL,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_subscriptions_org_idx ON webhook_subscriptions (org_id, created_at DESC, id DESC) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX webhook_subscriptions_events_idx ON webhook_subscriptions USING gin (events) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id              uuid PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
        -- What was announced (e.g. recall.started:<recallId>): one delivery per event and subscription.
        event_key       text NOT NULL,
        type            text NOT NULL,
        occurred_at     timestamptz NOT NULL,
        data            jsonb NOT NULL,
        status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_status     integer,
        last_error      text,
        log             jsonb NOT NULL DEFAULT '[]',
        created_at      timestamptz NOT NULL,
        delivered_at    timestamptz,
        UNIQUE (subscription_id, event_key)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (subscription_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhook_subscriptions');
  }
}

/**
 * How many live subscriptions name each event type, kept by WebhookService as it creates and deletes them: the
 * recall service asks, for each event it handles, whether anyone subscribed to its type (ANY_SUBSCRIBED), and
 * the answer is one primary-key row whatever the number of subscriptions. Asked of webhook_subscriptions, the
 * planner cannot tell a type nobody subscribed to from a common one once the few types there are all appear in
 * its statistics: it guessed a match in the first rows and, for LIMIT 1, read the table from its start, every
 * subscription on every such event.
 */
export class RecallWebhookEventTypes1766200000100 implements MigrationInterface {
  name = 'RecallWebhookEventTypes1766200000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE webhook_event_types (type text PRIMARY KEY, subscriptions integer NOT NULL CHECK (subscriptions >= 0))`);
    await q.query(
      `INSERT INTO webhook_event_types (type, subscriptions)
       SELECT t.type, count(DISTINCT s.id) FROM webhook_subscriptions s, unnest(s.events) AS t(type) WHERE s.deleted_at IS NULL GROUP BY t.type`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_event_types');
  }
}

export const WEBHOOK_MIGRATIONS = [RecallWebhooks1765300021700, RecallWebhookEventTypes1766200000100];
