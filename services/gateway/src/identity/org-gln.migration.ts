import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An organisation's optional party GLN (PGLN), given when it is created. Unique (a PGLN names one
 * party), and never changed afterwards: the CBV event hashes of REST-recorded events, stored when
 * each link is written, contain the PGLN exports name the shipper and receiver by — a trigger refuses
 * any UPDATE of it, so no future code path can break those hashes by accident.
 */
export class GatewayOrganisationGln1765600071300 implements MigrationInterface {
  name = 'GatewayOrganisationGln1765600071300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organisations ADD COLUMN gln char(13) CHECK (gln ~ '^[0-9]{13}$')`);
    await q.query(`CREATE UNIQUE INDEX organisations_gln_key ON organisations (gln) WHERE gln IS NOT NULL`);
    await q.query(`
      CREATE FUNCTION organisations_gln_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.gln IS DISTINCT FROM OLD.gln THEN
          RAISE EXCEPTION 'an organisation''s GLN is never changed (exported event hashes contain it)';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER organisations_gln_fixed BEFORE UPDATE OF gln ON organisations FOR EACH ROW EXECUTE FUNCTION organisations_gln_fixed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER organisations_gln_fixed ON organisations');
    await q.query('DROP FUNCTION organisations_gln_fixed()');
    await q.query('DROP INDEX organisations_gln_key');
    await q.query('ALTER TABLE organisations DROP COLUMN gln');
  }
}
