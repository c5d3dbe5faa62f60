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

export const RECALL_MIGRATIONS = [RecallCases1764000011000];
