import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The CBV event hash of each event recorded over REST (its eventID for trading partners and in query
 * answers), so `GET /v1/epcis/events/{eventID}` and `EQ_eventID` find it by that hash through an index.
 * A table beside trace_events, not a column of it: trace_events is append-only, and the links written
 * before this existed get theirs by insertion (NativeHashBackfill drains `native_hash_pending`), never by
 * rewriting a row. Written with the link, in the same statement, from then on.
 */
export class TraceChainNativeEventHashes1765500083700 implements MigrationInterface {
  name = 'TraceChainNativeEventHashes1765500083700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE native_event_hashes (event_id uuid PRIMARY KEY, epcis_hash text NOT NULL)`);
    await q.query(`CREATE INDEX native_event_hashes_hash_idx ON native_event_hashes (epcis_hash)`);
    // EQ_eventID and GET /events/{eventID} of a captured event by its own eventID: by index too.
    await q.query(`CREATE INDEX trace_events_epcis_event_id_idx ON trace_events ((content->'epcis'->>'eventID'))`);
    await q.query(`CREATE TABLE native_hash_pending (event_id uuid PRIMARY KEY)`);
    await q.query(`INSERT INTO native_hash_pending (event_id) SELECT id FROM trace_events WHERE epcis_hash IS NULL AND NOT (content ? 'epcis')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE native_hash_pending');
    await q.query('DROP INDEX trace_events_epcis_event_id_idx');
    await q.query('DROP TABLE native_event_hashes');
  }
}
