import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partner exports stopped naming our organisations and GLN-less locations by `urn:uuid:<internal id>`
 * (a PGLN or SGLN when there is a GLN, an opaque stable URN otherwise: EpcisNames), so the CBV event
 * hash of a REST-recorded event — its eventID for partners, stored with the link — changed with them.
 * The hashes given out before are kept, untouched, in `native_event_hashes_v1` (a renamed table, never
 * written again): `GET /events/{eventID}`, `EQ_eventID` and re-captures still find each event by them.
 * `native_event_hashes` starts empty and every REST-recorded link is listed in `native_hash_pending`
 * for NativeHashBackfill to store its hash under the new names, so the stored hash equals the exported
 * event's hash again.
 */
export class TraceChainPartnerNames1765600071400 implements MigrationInterface {
  name = 'TraceChainPartnerNames1765600071400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE native_event_hashes RENAME TO native_event_hashes_v1`);
    await q.query(`ALTER TABLE native_event_hashes_v1 RENAME CONSTRAINT native_event_hashes_pkey TO native_event_hashes_v1_pkey`);
    await q.query(`ALTER INDEX native_event_hashes_hash_idx RENAME TO native_event_hashes_v1_hash_idx`);
    await q.query(`CREATE TABLE native_event_hashes (event_id uuid PRIMARY KEY, epcis_hash text NOT NULL)`);
    await q.query(`CREATE INDEX native_event_hashes_hash_idx ON native_event_hashes (epcis_hash)`);
    await q.query(`INSERT INTO native_hash_pending (event_id) SELECT id FROM trace_events WHERE epcis_hash IS NULL AND NOT (content ? 'epcis') ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE native_event_hashes');
    await q.query(`ALTER INDEX native_event_hashes_v1_hash_idx RENAME TO native_event_hashes_hash_idx`);
    await q.query(`ALTER TABLE native_event_hashes_v1 RENAME CONSTRAINT native_event_hashes_v1_pkey TO native_event_hashes_pkey`);
    await q.query(`ALTER TABLE native_event_hashes_v1 RENAME TO native_event_hashes`);
  }
}
