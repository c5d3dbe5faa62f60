import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cases for the regulator: one per failed supervision-sampling result (its
 * re-tests join the same case). Projected from `inspectionRecorded` events;
 * `case_inspections` maps every inspection of a case to it, so a re-test of a
 * re-test still finds its case.
 */
export class RecallCases1764000011000 implements MigrationInterface {
  name = 'RecallCases1764000011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cases (
        id                       uuid PRIMARY KEY,
        kind                     text NOT NULL DEFAULT 'inspection_failed',
        status                   text NOT NULL CHECK (status IN ('open', 'cleared')),
        domain                   text NOT NULL CHECK (domain IN ('agri', 'food', 'drug', 'material', 'goods')),
        batch_id                 uuid NOT NULL,
        gtin                     text NOT NULL,
        lot                      text NOT NULL,
        holder_org_id            text NOT NULL,
        inspection_id            uuid NOT NULL UNIQUE,
        report_no                text NOT NULL,
        agency                   text NOT NULL,
        sampled_at               timestamptz NOT NULL,
        items                    jsonb NOT NULL,
        inspector_org_id         text NOT NULL,
        retest_deadline          timestamptz,
        retests                  jsonb NOT NULL DEFAULT '[]',
        opened_at                timestamptz NOT NULL,
        cleared_at               timestamptz,
        cleared_by_inspection_id uuid
      )`);
    await q.query(`CREATE INDEX cases_status_idx ON cases (status, opened_at DESC)`);
    await q.query(`CREATE INDEX cases_batch_idx ON cases (batch_id)`);
    await q.query(`
      CREATE TABLE case_inspections (
        inspection_id uuid PRIMARY KEY,
        case_id       uuid NOT NULL REFERENCES cases (id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE case_inspections');
    await q.query('DROP TABLE cases');
  }
}

/**
 * A case ends with a resolution: `cleared` (a passing re-test, or the
 * regulator's decision with a reason), `recalled` (linked to its recall) or
 * `dismissed` (with a reason). The status is the resolution once closed.
 * Cases already turned into recalls are marked so, linked to them.
 */
export class RecallCaseResolution1765200017000 implements MigrationInterface {
  name = 'RecallCaseResolution1765200017000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cases DROP CONSTRAINT cases_status_check`);
    await q.query(`ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'cleared', 'recalled', 'dismissed'))`);
    await q.query(`
      ALTER TABLE cases
        ADD COLUMN recall_id        uuid,
        ADD COLUMN resolution_reason text,
        ADD COLUMN closed_at        timestamptz,
        ADD COLUMN closed_by_org_id text`);
    await q.query(`
      UPDATE cases c SET status = 'recalled', recall_id = r.id, closed_at = r.created_at, closed_by_org_id = r.regulator_org_id
        FROM recalls r WHERE r.case_id = c.id AND c.status = 'open'`);
    await q.query(`UPDATE cases SET closed_at = cleared_at WHERE status = 'cleared'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE cases SET status = 'open' WHERE status IN ('recalled', 'dismissed')`);
    await q.query(`ALTER TABLE cases DROP COLUMN recall_id, DROP COLUMN resolution_reason, DROP COLUMN closed_at, DROP COLUMN closed_by_org_id`);
    await q.query(`ALTER TABLE cases DROP CONSTRAINT cases_status_check`);
    await q.query(`ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'cleared'))`);
  }
}

export const RECALL_MIGRATIONS = [RecallCases1764000011000, RecallCaseResolution1765200017000];
