import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The twin check of createOrganisation (a name is unique within its kind, case and surrounding spaces
 * ignored) by an index on the expression it compares, not by reading every organisation of the kind:
 * `plans.ts` found that statement reading the whole table at 10,000 organisations. Not unique, as the
 * check itself is not an index: databases holding such twins already could not build one.
 */
export class GatewayOrganisationNameIndex1766100000000 implements MigrationInterface {
  name = 'GatewayOrganisationNameIndex1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX organisations_kind_name_idx ON organisations (kind, lower(btrim(name)))');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX organisations_kind_name_idx');
  }
}
