import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Unit (pack) codes of drug batches, dispensed once; batch releases (批签发) by the regulator. */
export class DrugUnitCodes1764200002000 implements MigrationInterface {
  name = 'DrugUnitCodes1764200002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE unit_codes (
        code                 text PRIMARY KEY,
        kind                 text NOT NULL,
        batch_id             uuid NOT NULL REFERENCES batches (id),
        status               text NOT NULL DEFAULT 'active',
        registered_at        timestamptz NOT NULL DEFAULT now(),
        dispensed_at         timestamptz,
        dispensed_by_org_id  text
      )`);
    await q.query(`CREATE INDEX unit_codes_batch_idx ON unit_codes (batch_id)`);
    await q.query(`
      CREATE TABLE batch_releases (
        batch_id          uuid PRIMARY KEY REFERENCES batches (id),
        number            text NOT NULL UNIQUE,
        released_at       timestamptz NOT NULL,
        regulator_org_id  text NOT NULL,
        note              text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE batch_releases');
    await q.query('DROP TABLE unit_codes');
  }
}

export const DRUG_MIGRATIONS = [DrugUnitCodes1764200002000];
