import type { DataSource } from 'typeorm';
import type { Directory } from '@trace/platform';
import type { BatchRow, EventRow } from '../rows';
import { nativeEventHash, toEpcis } from './export-chain';
import { EpcisNames } from './names';

/** What the native hash of a link is computed from: the link as stored, and its batch's identity. */
export interface NativeLink {
  id: string;
  seq: number;
  biz_step: string;
  disposition: string | null;
  /** ISO 8601 (as the bulk writers carry it) or the stored Date. */
  event_time: string | Date;
  event_time_offset?: string | null;
  org_id: string;
  content: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/**
 * The CBV event hash of a link recorded over REST, mapped to EPCIS as partner exports and query answers
 * map it: its eventID for everyone outside (one identity per event). Organisations and locations are
 * never changed once created (nor their GLNs), so it does not change either. `names` must be a strict
 * `partner` EpcisNames (partnerHashNames): a directory that cannot answer now is an error here (retried
 * with the write), not a fallback name an export would show.
 */
export async function nativeHashOf(names: EpcisNames, link: NativeLink, batch: Pick<BatchRow, 'gtin' | 'lot' | 'attributes'>): Promise<string> {
  // The content as the database gives it back (jsonb): what a later read maps.
  const content = JSON.parse(JSON.stringify(link.content)) as Record<string, unknown>;
  const row = { ...link, content, event_time: new Date(link.event_time), record_time: new Date(), hash_version: 2, epcis_hash: null, epcis_error: false, epcis_type: null } as EventRow & {
    epcis_hash: null;
    epcis_error: false;
    epcis_type: null;
  };
  return nativeEventHash(await toEpcis(names, row, batch));
}

/** The names the stored hashes are computed with. */
export const partnerHashNames = (directory: Directory | undefined) => new EpcisNames(directory, 'partner', true);

/**
 * The data-modifying CTE that stores the native hashes of the links in `$1` (the JSON rows INSERT_LINKS
 * reads) with them, in the same statement. The one writer of native_event_hashes besides the backfill.
 */
export const INSERT_NATIVE_HASHES = `native_hashes AS (INSERT INTO native_event_hashes (event_id, epcis_hash)
     SELECT id, native_hash FROM jsonb_to_recordset($1::jsonb) AS n(id uuid, native_hash text) WHERE native_hash IS NOT NULL)`;

/**
 * The data-modifying CTE that lists the links in `$1` for NativeHashBackfill to hash after the commit,
 * instead of hashing them in the writing transaction: a recall marking ten thousand batches spent a third
 * of its CPU on these hashes (scripts/bench/README.md, recall propagation), and they matter only to a
 * look-up by that hash, which drains the list first (queryEvents).
 */
export const QUEUE_NATIVE_HASHES = `queued_native_hashes AS (INSERT INTO native_hash_pending (event_id)
     SELECT id FROM jsonb_to_recordset($1::jsonb) AS n(id uuid))`;

const CHUNK = 500;

/**
 * Stores the native hashes of the links listed in native_hash_pending, a chunk at a time; answers how
 * many. Listed there: the links written before hashes were stored with them, or before partner names
 * (migrations TraceChainNativeEventHashes1765500083700 and TraceChainPartnerNames1765600071400), and the
 * links of bulk appends (QUEUE_NATIVE_HASHES). Safe to run twice at once: a hash is stored once.
 */
export async function drainNativeHashes(
  ds: DataSource,
  directory: Directory | undefined,
  opts: {
    /** Checked before each chunk: true ends the drain (shutdown). */
    stopped?: () => boolean;
    /** Awaited before each chunk: the background drain gives way to delivery there (NativeHashBackfill). */
    beforeChunk?: () => Promise<void>;
  } = {},
): Promise<number> {
  const stopped = opts.stopped ?? (() => false);
  let drained = 0;
  const names = partnerHashNames(directory);
  for (;;) {
    await opts.beforeChunk?.();
    if (stopped()) return drained;
    // The chunk's ids first, then its links by primary key: joined to the list and ordered by it, the planner
    // merged the list with the whole trace_events index (the listed ids are random uuids spread over all of
    // it), 0.2-0.7 s a chunk at 60,000 links and growing with the table.
    const listed = ((await ds.query('SELECT event_id FROM native_hash_pending ORDER BY event_id LIMIT $1', [CHUNK])) as { event_id: string }[]).map((r) => r.event_id);
    if (listed.length === 0 || stopped()) return drained;
    const rows = (await ds.query(
      `SELECT e.*, b.gtin, b.lot, b.attributes AS batch_attributes FROM trace_events e JOIN batches b ON b.id = e.batch_id WHERE e.id = ANY($1::uuid[])`,
      [listed],
    )) as (EventRow & { gtin: string; lot: string; batch_attributes: Record<string, unknown> })[];
    const hashes: { id: string; native_hash: string }[] = [];
    for (const r of rows) hashes.push({ id: r.id, native_hash: await nativeHashOf(names, r, { gtin: r.gtin, lot: r.lot, attributes: r.batch_attributes }) });
    // The whole chunk leaves the list, a listed id without its link too (nothing to hash: kept, it would
    // stop every later drain at it).
    await ds.query(
      `WITH stored AS (INSERT INTO native_event_hashes (event_id, epcis_hash)
         SELECT id, native_hash FROM jsonb_to_recordset($1::jsonb) AS n(id uuid, native_hash text) ON CONFLICT (event_id) DO NOTHING)
       DELETE FROM native_hash_pending WHERE event_id = ANY($2::uuid[])`,
      [JSON.stringify(hashes), listed],
    );
    drained += rows.length;
  }
}
