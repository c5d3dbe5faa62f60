import type { DataSource } from 'typeorm';
import { CUSTOM_PLAN, type Directory, type Principal } from '@trace/platform';
import type { EventRow } from '../rows';
import type { DomainQuery, QueriedEvent } from './contract';
import { isUuid } from '@trace/trace-chain';
import { nativeEventHash, toEpcis, type EpcisRowColumns } from './export-chain';
import { EpcisNames } from './names';
import { drainNativeHashes } from './native-hashes';

/**
 * The EPCIS query over one domain's chains, REST-recorded and captured alike:
 * the filters the epcis service normalised, in record-time order, an operator
 * seeing the events of batches its organisation has had.
 */
export async function queryEvents(ds: DataSource, directory: Directory | undefined, q: DomainQuery, principal: Principal): Promise<QueriedEvent[]> {
  // A look-up by hash finds only stored hashes: those still queued (a recall's links, QUEUE_NATIVE_HASHES) are
  // stored first, so an event an answer or an export already named by its hash is found by it too. One
  // statement when none are queued; a directory that cannot answer fails the look-up rather than let it miss.
  if (q.eventIds) await drainNativeHashes(ds, directory);
  const { text, params } = eventsStatement(q, principal);
  const rows = (await ds.query(text, params)) as (EventRow &
    EpcisRowColumns & { sort_key: string; gtin: string; lot: string; batch_attributes: Record<string, unknown>; record_time_us: string; declared: boolean })[];
  const names = new EpcisNames(directory, 'partner');
  const out: QueriedEvent[] = [];
  for (const r of rows) {
    const mapped = await toEpcis(names, r, { gtin: r.gtin, lot: r.lot, attributes: r.batch_attributes });
    // A REST-recorded event answers with the id exports give it: its CBV event hash (one identity everywhere).
    const event = r.content.epcis ? mapped : { ...mapped, eventID: r.native_hash ?? nativeEventHash(mapped) };
    // The original of a declared error stays, marked (EPCIS returns the declaration itself on its own).
    if (r.declared && !r.epcis_error) event['trace:erroneous'] = true;
    out.push({ recordTime: r.record_time_us, key: r.sort_key, event, ...(r.epcis_context ? { context: r.epcis_context } : {}) });
  }
  return out;
}

/** The statement queryEvents sends for `q` as `principal` sees the events (exported for its plan's tests). */
export function eventsStatement(q: DomainQuery, principal: Principal): { text: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  // Byte order (COLLATE "C"): the service merging the domains' answers compares keys the same way.
  const key = `COALESCE(e.epcis_hash || CASE WHEN e.epcis_error THEN '!' ELSE '' END, e.id::text) COLLATE "C"`;
  const type = `COALESCE(e.epcis_type, CASE WHEN e.content ? 'inputs' THEN 'TransformationEvent' ELSE 'ObjectEvent' END)`;
  if (q.eventTypes) where.push(`${type} = ANY(${p(q.eventTypes)})`);
  if (q.geEventTime) where.push(`e.event_time >= ${p(q.geEventTime)}`);
  if (q.ltEventTime) where.push(`e.event_time < ${p(q.ltEventTime)}`);
  if (q.geRecordTime) where.push(`e.record_time >= ${p(q.geRecordTime)}`);
  if (q.ltRecordTime) where.push(`e.record_time < ${p(q.ltRecordTime)}`);
  if (q.bizSteps) where.push(`e.biz_step = ANY(${p(q.bizSteps)})`);
  if (q.dispositions) where.push(`e.disposition = ANY(${p(q.dispositions)})`);
  if (q.epcKeys || q.epcPairs) {
    // Both arms on trace_events, each with its index (the GIN on epc_keys; (batch_id, seq) for the batches the
    // pairs name, found by their unique key): PostgreSQL ORs the two bitmaps. Comparing the joined batch's
    // columns instead put the OR across two tables and read both whole (scripts/bench/plans.ts).
    where.push(`(e.epc_keys && ${p(q.epcKeys ?? [])}::text[] OR e.batch_id = ANY(ARRAY(
       SELECT m.id FROM unnest(${p(q.epcPairs ?? [])}::text[]) AS o(pair)
         JOIN batches m ON m.gtin = split_part(o.pair, '|', 1)::char(14) AND m.item_kind = split_part(o.pair, '|', 2)
                       AND m.lot = substr(o.pair, length(split_part(o.pair, '|', 1)) + length(split_part(o.pair, '|', 2)) + 3))))`);
  }
  if (q.bizLocations) where.push(`COALESCE(e.biz_location, e.content->>'locationId') = ANY(${p(q.bizLocations)})`);
  if (q.readPoints) where.push(`COALESCE(e.read_point, e.content->>'locationId') = ANY(${p(q.readPoints)})`);
  if (q.capturedBizLocations) where.push(`(e.biz_location = ANY(${p(q.capturedBizLocations)}) OR (e.biz_location IS NULL AND e.content ? 'locationId'))`);
  if (q.capturedReadPoints) where.push(`(e.read_point = ANY(${p(q.capturedReadPoints)}) OR (e.read_point IS NULL AND e.content ? 'locationId'))`);
  if (q.existsErrorDeclaration) where.push('e.epcis_error');
  if (q.eventIds) {
    // Each arm by an index (BitmapOr): a captured event's own eventID or its hash; a REST-recorded one's native
    // hash (its eventID in answers and exports), the hash it was given before partner names (native_event_hashes_v1)
    // or, as it was named before hashes, its link's urn:uuid.
    const uuids = q.eventIds.flatMap((id) => (/^urn:uuid:/i.test(id) && isUuid(id.slice(9)) ? [id.slice(9).toLowerCase()] : []));
    const ids = p(q.eventIds);
    where.push(`(e.content->'epcis'->>'eventID' = ANY(${ids}) OR e.epcis_hash = ANY(${ids}) OR e.id = ANY(${p(uuids)}::uuid[])
             OR e.id = ANY(ARRAY(SELECT n.event_id FROM native_event_hashes n WHERE n.epcis_hash = ANY(${ids})))
             OR e.id = ANY(ARRAY(SELECT o.event_id FROM native_event_hashes_v1 o WHERE o.epcis_hash = ANY(${ids}))))`);
  }
  if (q.after) {
    // The row comparison alone cannot start the record_time index at the cursor; the redundant bound can.
    const at = p(q.after.recordTime);
    where.push(`e.record_time >= ${at}::timestamptz AND (e.record_time, ${key}) > (${at}::timestamptz, ${p(q.after.key)})`);
  }
  if (principal.role === 'operator') {
    where.push(`(e.org_id = ${p(principal.orgId)} OR EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = e.batch_id AND c.org_id = ${p(principal.orgId)}))`);
  }
  // One level: DISTINCT ON's own order is the page's, so the LIMIT sits on it and the plan walks the
  // record_time index (an incremental sort within a time) instead of sorting every event for one page.
  // Planned with its values each time: the generic plan joins the EPC pairs against every batch.
  // The stored hash by a look-up per event answered, not a join: PostgreSQL guesses that an EPC names half a
  // percent of all events (it keeps no statistics for values this rare) and, for a few hundred, hashed the whole
  // of native_event_hashes, which grows with every event recorded (plans.ts at 100,000 rows).
  const text = `${CUSTOM_PLAN} SELECT DISTINCT ON (e.record_time, ${key}) e.*, ${key} AS sort_key, b.gtin, b.lot, b.attributes AS batch_attributes,
            (SELECT h.epcis_hash FROM native_event_hashes h WHERE h.event_id = e.id) AS native_hash,
            to_char(e.record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS record_time_us,
            EXISTS (SELECT 1 FROM trace_events d WHERE e.epcis_hash IS NOT NULL AND d.epcis_hash = e.epcis_hash AND d.epcis_error) AS declared
       FROM trace_events e JOIN batches b ON b.id = e.batch_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY e.record_time, ${key}, e.seq LIMIT ${p(q.limit)}`;
  return { text, params };
}
