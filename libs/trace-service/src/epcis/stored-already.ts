import type { DataSource } from 'typeorm';
import type { Directory } from '@trace/platform';
import type { EventRow } from '../rows';
import type { PlannedChainEvent } from './contract';
import { nativeEventHash, toEpcis, type EpcisRowColumns } from './export-chain';
import { EpcisNames } from './names';

/**
 * The events of a capture that this domain's chains already hold under another form, by index, so
 * that capturing an export or a query answer again is a no-op: a link carried back to the chain it
 * came from (an export with include=chain: the same link hash on that batch), and an event recorded
 * over REST and given out mapped to EPCIS (REST links store no CBV event hash: it is computed here
 * from the stored link as exports and query answers map it, for the links at the event's time only).
 * Captured events need none of this: their event hash is stored and de-duplicates them (ChunkWriter).
 */
export async function storedAlready(ds: DataSource, directory: Directory | undefined, events: readonly PlannedChainEvent[]): Promise<Set<number>> {
  const batchIds = new Set<string>();
  const linkHashes = new Set<string>();
  const times = new Set<string>();
  for (const e of events) {
    times.add(new Date(e.eventTime).toISOString());
    for (const t of e.targets) {
      if (t.create) continue;
      batchIds.add(t.batchId);
      if (t.carried) linkHashes.add(t.carried.hash);
    }
  }
  if (!batchIds.size) return new Set();
  // The times as a set (a hashed semi-join): `= ANY(array)` would compare every link with every time, which
  // made capturing a 10,000-event document again three times slower.
  const select = `SELECT e.*, b.gtin, b.lot, b.attributes AS batch_attributes, h.epcis_hash AS native_hash, o.epcis_hash AS legacy_hash
                    FROM trace_events e JOIN batches b ON b.id = e.batch_id LEFT JOIN native_event_hashes h ON h.event_id = e.id
                    LEFT JOIN native_event_hashes_v1 o ON o.event_id = e.id WHERE e.batch_id = ANY($1::uuid[])`;
  const rows = (await ds.query(
    `${select} AND e.epcis_hash IS NULL AND date_trunc('milliseconds', e.event_time) IN (SELECT unnest($2::timestamptz[]))
     ${linkHashes.size ? `UNION ALL ${select} AND e.hash = ANY($3)` : ''}`,
    [[...batchIds], [...times], ...(linkHashes.size ? [[...linkHashes]] : [])],
  )) as (EventRow & EpcisRowColumns & { gtin: string; lot: string; batch_attributes: Record<string, unknown>; legacy_hash: string | null })[];
  const held = new Set<string>();
  // Both forms an export maps a REST-recorded event to: a partner's, and the round trip's (`urn:uuid:` for
  // what has no GLN) with its link stripped; and the hash an export gave it before partner names.
  const forms = [new EpcisNames(directory, 'partner'), new EpcisNames(directory, 'internal')];
  for (const r of rows) {
    held.add(`${r.batch_id}|link|${r.hash}`);
    if (r.epcis_hash === null && !r.content.epcis) {
      const batch = { gtin: r.gtin, lot: r.lot, attributes: r.batch_attributes };
      for (const names of forms) held.add(`${r.batch_id}|event|${nativeEventHash(await toEpcis(names, r, batch))}`);
      if (r.native_hash) held.add(`${r.batch_id}|event|${r.native_hash}`);
      if (r.legacy_hash) held.add(`${r.batch_id}|event|${r.legacy_hash}`);
    }
  }
  const out = new Set<number>();
  for (const e of events) {
    const known = e.targets.some((t) => !t.create && (held.has(`${t.batchId}|event|${e.hash}`) || (t.carried !== undefined && held.has(`${t.batchId}|link|${t.carried.hash}`))));
    if (known) out.add(e.index);
  }
  return out;
}
