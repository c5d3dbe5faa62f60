import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A client's token version: raised when its secret is rotated or the client
 * is deleted, so that tokens issued before stop working (libs/platform
 * TokenRevocations). `version_changed_at` lets a restarting gateway publish
 * the versions that changed within a token's lifetime again.
 */
export class GatewayClientTokenVersions1765000250000 implements MigrationInterface {
  name = 'GatewayClientTokenVersions1765000250000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE clients ADD COLUMN version_changed_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN version_changed_at`);
    await q.query(`ALTER TABLE clients DROP COLUMN token_version`);
  }
}
