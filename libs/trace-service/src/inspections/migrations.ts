import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Supervision-sampling results of a domain's batches. Each row is also an
 * `inspecting` event on the batch chain (event_id). `root_id` groups a failed
 * result with its re-tests: the family is resolved once one of them passes.
 */
export class Inspections1764000010000 implements MigrationInterface {
  name = 'Inspections1764000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE inspections (
        id               uuid PRIMARY KEY,
        batch_id         uuid NOT NULL REFERENCES batches (id),
        report_no        text NOT NULL UNIQUE,
        agency           text NOT NULL,
        sampled_at       timestamptz NOT NULL,
        items            jsonb NOT NULL,
        conclusion       text NOT NULL CHECK (conclusion IN ('pass', 'fail')),
        retest_of        uuid REFERENCES inspections (id),
        root_id          uuid NOT NULL,
        retest_deadline  timestamptz,
        inspector_org_id text NOT NULL,
        event_id         uuid NOT NULL REFERENCES trace_events (id),
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((conclusion = 'fail') = (retest_deadline IS NOT NULL)),
        CHECK (retest_of IS NOT NULL OR root_id = id)
      )`);
    await q.query(`CREATE INDEX inspections_batch_idx ON inspections (batch_id, recorded_at)`);
    await q.query(`CREATE INDEX inspections_root_idx ON inspections (root_id, conclusion)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inspections');
  }
}

export const INSPECTION_MIGRATIONS = [Inspections1764000010000];
