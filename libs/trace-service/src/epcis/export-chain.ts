import type { DataSource } from 'typeorm';
import { CARRIED_LINK_KEY, epcisEventHash, nativeToEpcis, stripTraceExtensions, type CarriedLink, type ContextualEvent, type EpcisEvent, type EventContext } from '@trace/epcis';
import type { Directory } from '@trace/platform';
import { formatOffsetTime } from '@trace/trace-chain';
import type { DomainName } from '../domains';
import { chainLinkOf, type BatchRow, type EventRow } from '../rows';
import { EpcisNames } from './names';

/** The EPCIS columns of a stored link (absent values for events recorded over REST). */
export interface EpcisRowColumns {
  epcis_hash: string | null;
  epcis_error: boolean;
  epcis_type: string | null;
  /** The @context entries it was captured with (null: REST-recorded, or captured before they were kept). */
  epcis_context?: EventContext | null;
  /** A REST-recorded link's CBV event hash as stored with it (native_event_hashes); null until backfilled. */
  native_hash?: string | null;
}

/**
 * The batch's chain as EPCIS events, each with the @context it was captured with. For a trading
 * partner (`chain` false) no internal id goes out: an event recorded over REST is named by its CBV
 * event hash, not by its link's UUID, its parties and locations by their GLNs or opaque names
 * (EpcisNames, `partner`), and no link is attached. With `chain`, each event carries its link
 * (trace:chain: the exporter's organisation, batch and event UUIDs) so a fresh system can store the
 * very same chain (the round trip), REST-recorded events keep their `urn:uuid:` eventIDs, and what has
 * no GLN is named `urn:uuid:<id>` as capture reads it.
 */
export async function exportChain(ds: DataSource, directory: Directory | undefined, domain: DomainName, batch: BatchRow, opts: { chain: boolean }): Promise<ContextualEvent[]> {
  const rows = (await ds.query(
    `SELECT e.*, h.epcis_hash AS native_hash FROM trace_events e LEFT JOIN native_event_hashes h ON h.event_id = e.id WHERE e.batch_id = $1 ORDER BY e.seq`,
    [batch.id],
  )) as (EventRow & EpcisRowColumns)[];
  const names = new EpcisNames(directory, opts.chain ? 'internal' : 'partner');
  const out: ContextualEvent[] = [];
  // The original of a declared error stays on the chain, marked (the declaration is a later link).
  const declared = new Set(rows.filter((r) => r.epcis_error && r.epcis_hash).map((r) => r.epcis_hash));
  for (const r of rows) {
    const event = await toEpcis(names, r, batch);
    if (r.epcis_hash && !r.epcis_error && declared.has(r.epcis_hash)) event['trace:erroneous'] = true;
    const context = r.epcis_context ? { context: r.epcis_context } : {};
    if (!opts.chain) {
      out.push({ event: r.content.epcis ? event : { ...event, eventID: r.native_hash ?? nativeEventHash(event) }, ...context });
      continue;
    }
    const stored = chainLinkOf(r);
    const link: CarriedLink = {
      domain, gtin: batch.gtin, lot: batch.lot, kind: batch.item_kind ?? 'lot', seq: r.seq, prevHash: r.prev_hash, hash: r.hash, content: r.content,
      ...(stored.version === 2 && stored.shown
        ? { hashVersion: 2, shown: { ...stored.shown, eventTime: new Date(stored.shown.eventTime).toISOString(), eventTimeOffset: stored.shown.eventTimeOffset ?? null } }
        : {}),
    };
    out.push({ event: { ...event, [CARRIED_LINK_KEY]: link }, ...context });
  }
  return out;
}

/** A REST-recorded event's CBV event hash: its eventID for a trading partner (GS1's rule for an event with no id of its own). */
export function nativeEventHash(event: EpcisEvent): string {
  const { eventID: _internal, ...rest } = stripTraceExtensions(event);
  return epcisEventHash(rest as EpcisEvent);
}

/** One stored link as an EPCIS event: a captured one as it was captured, a REST one mapped (nativeToEpcis) with the names of `names`' form. */
export async function toEpcis(names: EpcisNames, r: EventRow & EpcisRowColumns, batch: Pick<BatchRow, 'gtin' | 'lot' | 'attributes'>): Promise<EpcisEvent> {
  const recordTime = r.record_time.toISOString();
  const captured = r.content.epcis as EpcisEvent | undefined;
  // Events captured without an eventID (before every capture gave one) are named by their event hash.
  if (captured) return { ...stripTraceExtensions(captured), ...(captured.eventID || !r.epcis_hash ? {} : { eventID: r.epcis_hash }), recordTime };
  const c = r.content;
  const to = typeof c.toOrgId === 'string' && c.toOrgId ? c.toOrgId : undefined;
  const from = typeof c.orgId === 'string' && c.orgId ? c.orgId : undefined;
  return nativeToEpcis({
    id: r.id,
    seq: r.seq,
    bizStep: r.biz_step,
    disposition: r.disposition,
    eventTime: formatOffsetTime(r.event_time, r.event_time_offset),
    eventTimeZoneOffset: r.event_time_offset ?? '+00:00',
    recordTime,
    content: c,
    batch: { gtin: batch.gtin, lot: batch.lot, instance: (batch.attributes?.epcis as { instance?: boolean } | undefined)?.instance === true },
    locationUri: await names.location(c.locationId as string),
    ...(to ? { parties: { ...(from ? { source: await names.party(from) } : {}), destination: await names.party(to) } } : {}),
  });
}
