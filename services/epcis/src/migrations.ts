import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capture jobs (the EPCIS 2.0 REST binding's /capture/{id} resource) and the
 * events no trace chain can hold: an event that names no batch of ours (only
 * assets, logistic units, sensors, locations) is still captured, de-duplicated
 * and answered by the query interface.
 */
export class EpcisTables1764300002000 implements MigrationInterface {
  name = 'EpcisTables1764300002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE capture_jobs (
        id              uuid PRIMARY KEY,
        org_id          text NOT NULL,
        error_behaviour text NOT NULL,
        running         boolean NOT NULL DEFAULT true,
        success         boolean NOT NULL DEFAULT false,
        errors          jsonb NOT NULL DEFAULT '[]',
        total           int NOT NULL,
        done            int NOT NULL DEFAULT 0,
        created_at      timestamptz NOT NULL DEFAULT now(),
        heartbeat_at    timestamptz NOT NULL DEFAULT now(),
        finished_at     timestamptz
      )`);
    await q.query(`CREATE INDEX capture_jobs_org_idx ON capture_jobs (org_id, created_at)`);
    await q.query(`
      CREATE TABLE unbound_events (
        epcis_hash   text NOT NULL,
        epcis_error  boolean NOT NULL,
        record_time  timestamptz NOT NULL,
        event_time   timestamptz NOT NULL,
        event_type   text NOT NULL,
        biz_step     text,
        disposition  text,
        read_point   text,
        biz_location text,
        epc_keys     text[] NOT NULL,
        org_id       text NOT NULL,
        capture_id   uuid NOT NULL,
        event        jsonb NOT NULL,
        PRIMARY KEY (epcis_hash, epcis_error)
      )`);
    await q.query(`CREATE INDEX unbound_events_record_idx ON unbound_events (record_time)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE unbound_events');
    await q.query('DROP TABLE capture_jobs');
  }
}

/** GET /events/{eventID} and EQ_eventID find a partner event by the eventID it was stored with (its own, or its hash). */
export class UnboundEventIds1765000015000 implements MigrationInterface {
  name = 'UnboundEventIds1765000015000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX unbound_events_event_id_idx ON unbound_events ((event->>'eventID'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX unbound_events_event_id_idx');
  }
}

/** Named queries of the REST binding (/queries): a SimpleEventQuery kept under a name, per organisation. */
export class EpcisNamedQueries1765031000000 implements MigrationInterface {
  name = 'EpcisNamedQueries1765031000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE named_queries (
        org_id     text NOT NULL,
        name       text NOT NULL,
        query      jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE named_queries');
  }
}

/**
 * Stream subscriptions to named queries (/queries/{name}/subscriptions) and their outbox of deliveries:
 * a subscription's cursor is where its next look for newly recorded events starts; a delivery is one
 * EPCISQueryDocument to POST, with its retries.
 */
export class EpcisQuerySubscriptions1765093000000 implements MigrationInterface {
  name = 'EpcisQuerySubscriptions1765093000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE query_subscriptions (
        id                 uuid PRIMARY KEY,
        org_id             text NOT NULL,
        query_name         text NOT NULL,
        role               text NOT NULL,
        created_by         text NOT NULL,
        dest               text NOT NULL,
        signature_token    text,
        initial_record_time timestamptz NOT NULL,
        cursor_record_time text NOT NULL,
        cursor_key         text NOT NULL DEFAULT '',
        looked_at          timestamptz,
        lease_until        timestamptz,
        last_notified_at   timestamptz,
        created_at         timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (org_id, query_name) REFERENCES named_queries (org_id, name) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX query_subscriptions_query_idx ON query_subscriptions (org_id, query_name, created_at)`);
    await q.query(`
      CREATE TABLE query_subscription_deliveries (
        id              uuid PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES query_subscriptions (id) ON DELETE CASCADE,
        body            text NOT NULL,
        status          text NOT NULL DEFAULT 'pending',
        attempts        int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        last_status     int,
        last_error      text
      )`);
    await q.query(`CREATE INDEX query_subscription_deliveries_due_idx ON query_subscription_deliveries (next_attempt_at) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE query_subscription_deliveries');
    await q.query('DROP TABLE query_subscriptions');
  }
}

/**
 * Scheduled query subscriptions: the schedule as given (null: a stream subscription), whether an empty
 * run is reported, and the next run — stored, so a restart neither forgets it nor runs a missed one twice.
 */
export class EpcisScheduledSubscriptions1765104417000 implements MigrationInterface {
  name = 'EpcisScheduledSubscriptions1765104417000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE query_subscriptions ADD COLUMN schedule jsonb, ADD COLUMN report_if_empty boolean NOT NULL DEFAULT false, ADD COLUMN next_run_at timestamptz`);
    await q.query(`CREATE INDEX query_subscriptions_next_run_idx ON query_subscriptions (next_run_at) WHERE schedule IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE query_subscriptions DROP COLUMN schedule, DROP COLUMN report_if_empty, DROP COLUMN next_run_at`);
  }
}

/** The @context entries each partner event was captured with (see TraceChainEpcisContext1765500061500): answers declare them as they were. */
export class UnboundEventContext1765500061600 implements MigrationInterface {
  name = 'UnboundEventContext1765500061600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE unbound_events ADD COLUMN epcis_context jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE unbound_events DROP COLUMN epcis_context');
  }
}

/**
 * Master data captured in documents' headers (MasterDataStore, its one writer): one row per statement
 * of a vocabulary element by an organisation, appended; the latest per organisation is read.
 */
export class EpcisMasterData1765600520000 implements MigrationInterface {
  name = 'EpcisMasterData1765600520000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE master_data (
        id              bigserial PRIMARY KEY,
        vocabulary_type text NOT NULL,
        element_id      text NOT NULL,
        -- { attribute id: value } as declared (null when declared without a value).
        attributes      jsonb NOT NULL DEFAULT '{}',
        -- The ids of the element's direct children.
        children        jsonb NOT NULL DEFAULT '[]',
        org_id          text NOT NULL,
        capture_id      uuid NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX master_data_element_idx ON master_data (vocabulary_type, element_id, org_id, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE master_data');
  }
}

/**
 * The two looks at capture_jobs that stream subscriptions make again and again (subscription-controls.ts):
 * when a capture last moved the chains (every pass of the worker), and the oldest capture still running (every
 * look of a subscription). Without these they read every capture job ever made: 29-45 ms at 200,000 jobs, in
 * each pass, against 0.1-1.2 ms with them.
 */
export class EpcisCaptureJobLooks1766100000200 implements MigrationInterface {
  name = 'EpcisCaptureJobLooks1766100000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX capture_jobs_moved_idx ON capture_jobs ((COALESCE(finished_at, heartbeat_at)))');
    await q.query('CREATE INDEX capture_jobs_running_idx ON capture_jobs (created_at) WHERE running');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX capture_jobs_running_idx');
    await q.query('DROP INDEX capture_jobs_moved_idx');
  }
}

/**
 * The stream subscriptions the worker's pass looks at (subscription.worker.ts): those whose last look is
 * older than the chains' last movement, found by this index instead of by reading every subscription each pass
 * (the scheduled ones have query_subscriptions_next_run_idx).
 */
export class EpcisStreamSubscriptionLooks1766100000300 implements MigrationInterface {
  name = 'EpcisStreamSubscriptionLooks1766100000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX query_subscriptions_stream_looked_idx ON query_subscriptions (looked_at) WHERE schedule IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX query_subscriptions_stream_looked_idx');
  }
}

/**
 * Old subscription deliveries found without reading the table (SubscriptionDeliveryRetention): a BRIN index on
 * created_at, which only grows at the table's end and costs an insert next to nothing.
 */
export class EpcisSubscriptionDeliveriesCreatedAt1766100000400 implements MigrationInterface {
  name = 'EpcisSubscriptionDeliveriesCreatedAt1766100000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX query_subscription_deliveries_created_brin ON query_subscription_deliveries USING brin (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX query_subscription_deliveries_created_brin');
  }
}

export const EPCIS_MIGRATIONS = [
  EpcisTables1764300002000,
  UnboundEventIds1765000015000,
  EpcisNamedQueries1765031000000,
  EpcisQuerySubscriptions1765093000000,
  EpcisScheduledSubscriptions1765104417000,
  UnboundEventContext1765500061600,
  EpcisMasterData1765600520000,
  EpcisCaptureJobLooks1766100000200,
  EpcisStreamSubscriptionLooks1766100000300,
  EpcisSubscriptionDeliveriesCreatedAt1766100000400,
];
