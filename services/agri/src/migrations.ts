import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Commitment-to-compliance certificates (承诺达标合格证): one per production batch, kept with their content. */
export class AgriCertificates1764200001000 implements MigrationInterface {
  name = 'AgriCertificates1764200001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE certificates (
        number         text PRIMARY KEY,
        batch_id       uuid NOT NULL UNIQUE REFERENCES batches (id),
        issuer_org_id  text NOT NULL,
        issued_at      timestamptz NOT NULL,
        content        jsonb NOT NULL,
        status         text NOT NULL DEFAULT 'valid'
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE certificates');
  }
}

export const AGRI_MIGRATIONS = [AgriCertificates1764200001000];
