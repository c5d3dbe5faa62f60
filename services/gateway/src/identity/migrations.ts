import { MigrationInterface, QueryRunner } from 'typeorm';
import { GatewayBatchParties1765000260000 } from './batch-parties';
import { GatewayClientTokenVersions1765000250000 } from './client-versions.migration';
import { GatewayOrganisationGln1765600071300 } from './org-gln.migration';
import { GatewayOrganisationNameIndex1766100000000 } from './org-name.migration';

/**
 * Who may call the API: organisations, their API clients (secrets only as
 * scrypt hashes) and their locations. The built-in platform organisation owns
 * the admin clients; it is not a supply-chain party.
 *
 * The kind lists are written out here rather than taken from the live
 * constants: a migration must mean the same thing forever.
 */
export class GatewayIdentity1764000003000 implements MigrationInterface {
  name = 'GatewayIdentity1764000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organisations (
        id         text PRIMARY KEY,
        name       text NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('platform', 'producer', 'processor', 'distributor', 'retailer',
                     'construction_company', 'pharmacy', 'hospital', 'inspection_agency', 'regulator')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO organisations (id, name, kind) VALUES ('platform', 'Platform', 'platform')`);
    await q.query(`
      CREATE TABLE clients (
        client_id   text PRIMARY KEY,
        org_id      text NOT NULL REFERENCES organisations (id),
        role        text NOT NULL CHECK (role IN ('operator', 'inspector', 'regulator', 'admin')),
        secret_hash text NOT NULL CHECK (secret_hash LIKE 'scrypt$%'),
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      )`);
    await q.query(`CREATE INDEX clients_org_idx ON clients (org_id)`);
    await q.query(`
      CREATE TABLE locations (
        id         uuid PRIMARY KEY,
        org_id     text NOT NULL REFERENCES organisations (id),
        name       text NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('farm', 'field', 'factory', 'warehouse', 'store', 'pharmacy',
                     'hospital', 'construction_site')),
        region     text,
        address    text,
        gln        char(13),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX locations_org_idx ON locations (org_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE locations');
    await q.query('DROP TABLE clients');
    await q.query('DROP TABLE organisations');
  }
}

/**
 * Identity claims across all domains (libs/contracts/src/identity-claims.ts):
 * the organisation of each GTIN, the domain of each lot and of each serial.
 * A lot and a serial with the same text are two rows (`kind`).
 */
export class GatewayIdentityClaims1765000190000 implements MigrationInterface {
  name = 'GatewayIdentityClaims1765000190000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gtin_claims (
        gtin       char(14) PRIMARY KEY,
        org_id     text NOT NULL,
        domain     text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE item_claims (
        gtin       char(14) NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('lot', 'serial')),
        value      text NOT NULL,
        domain     text NOT NULL CHECK (domain IN ('agri', 'food', 'drug', 'material', 'goods')),
        org_id     text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (gtin, kind, value)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE item_claims');
    await q.query('DROP TABLE gtin_claims');
  }
}

export const GATEWAY_MIGRATIONS = [GatewayIdentity1764000003000, GatewayIdentityClaims1765000190000, GatewayClientTokenVersions1765000250000, GatewayBatchParties1765000260000, GatewayOrganisationGln1765600071300, GatewayOrganisationNameIndex1766100000000];
