import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where building materials were installed: batch, construction site, quantity, time. */
export class MaterialInstallations1764200003000 implements MigrationInterface {
  name = 'MaterialInstallations1764200003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installations (
        id                uuid PRIMARY KEY,
        batch_id          uuid NOT NULL REFERENCES batches (id),
        site_location_id  text NOT NULL,
        site_org_id       text,
        quantity_value    numeric NOT NULL CHECK (quantity_value > 0),
        quantity_unit     text NOT NULL,
        installed_at      timestamptz NOT NULL,
        event_id          uuid NOT NULL,
        recorded_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX installations_batch_idx ON installations (batch_id)`);
    await q.query(`CREATE INDEX installations_site_idx ON installations (site_location_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE installations');
  }
}

export const MATERIAL_MIGRATIONS = [MaterialInstallations1764200003000];
