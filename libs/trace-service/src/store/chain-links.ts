import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import type { Outbox, OutboxItem } from '@trace/messaging';
import { HASH_VERSION, nextLink, type ChainLink, type HashVersion, type Holding, type ShownFields, type Transition } from '@trace/trace-chain';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import { INSERT_NATIVE_HASHES, nativeHashOf, partnerHashNames, QUEUE_NATIVE_HASHES } from '../epcis/native-hashes';
import { deferToCommit, type Directory } from '@trace/platform';
import type { BatchRow, EventRow } from '../rows';
import { addCustody, chainHeadUpdate, insertBatchesCtes, setChainHeads, type ChainHead, type NewBatch } from './batches';

export interface NewChainEvent {
  bizStep: string;
  disposition?: string | null;
  eventTime: Date;
  /** The UTC offset (±HH:MM) `eventTime` was written in; none for a time the system takes itself (given back in UTC). */
  eventTimeOffset?: string | null;
  locationId: string;
  orgId: string;
  /** Everything else the event says (what/where/why/how); hashed with it. */
  details?: Record<string, unknown>;
}

/** One link to append: the batch (its row, locked by the caller), the event, and the state it leaves. */
export interface ChainAppend {
  batch: BatchRow;
  event: NewChainEvent;
  after: Transition;
}

/**
 * Appends one link to a batch's hash chain and announces it, inside the
 * caller's transaction. The caller must hold the batch row lock
 * (SELECT … FOR UPDATE) so two writers cannot fork the chain.
 */
export async function appendChainEvent(
  m: EntityManager,
  outbox: Outbox,
  domain: DomainName,
  batch: BatchRow,
  e: NewChainEvent,
  after: Transition,
  /** Where the event's location is found (its GLN names it in the event's native hash). */
  directory: Directory | undefined,
): Promise<AppendedLink> {
  const [row] = await storeChainEvents(m, outbox, domain, [{ batch, event: e, after }], true, directory, 'with-link');
  return row;
}

/** The next link of the batch's chain for this event (leaving the batch in `statusAfter`): its id, the hashed content and the link. */
function nextChainLink(batch: BatchRow, e: NewChainEvent, statusAfter: string): { eventId: string; content: Record<string, unknown>; link: ChainLink } {
  const eventId = randomUUID();
  const content: Record<string, unknown> = {
    eventId,
    batchId: batch.id,
    bizStep: e.bizStep,
    disposition: e.disposition ?? undefined,
    eventTime: e.eventTime.toISOString(),
    locationId: e.locationId,
    orgId: e.orgId,
    ...e.details,
  };
  const link = nextLink(batch.chain_seq > 0 ? { seq: batch.chain_seq, hash: batch.chain_head } : undefined, content, { ...shownOf(e), statusAfter });
  return { eventId, content, link };
}

/** The columns a v2 hash covers, as they are stored for this event. */
export function shownOf(e: Pick<NewChainEvent, 'bizStep' | 'disposition' | 'eventTime' | 'eventTimeOffset' | 'orgId'>): ShownFields {
  return { bizStep: e.bizStep, disposition: e.disposition ?? null, eventTime: e.eventTime, eventTimeOffset: e.eventTimeOffset ?? null, orgId: e.orgId };
}

/** The `traceEventRecorded` announcement of a stored link (shared with the EPCIS bulk writer). */
export function traceEventItem(
  domain: DomainName,
  batchId: string,
  e: NewChainEvent & { eventId: string; content: Record<string, unknown> },
  link: ChainLink,
  after: Transition,
  /**
   * The batch's unit and where it is after the event (read models follow
   * quantities and places from here), and its identity (consumers without a
   * batch table name the batch from here).
   */
  batchState: { quantityUnit: string; locationId: string; identity: Pick<BatchRow, 'gtin' | 'lot' | 'item_kind'> },
): OutboxItem & { eventCase: 'traceEventRecorded' } {
  const quantity = (e.content.quantity ?? e.details?.quantity) as { value: number; unit: string } | undefined;
  const documents = (e.content.documents ?? e.details?.documents) as { type: string; id: string }[] | undefined;
  return {
    eventCase: 'traceEventRecorded',
    payload: {
      batch: { domain: DOMAIN_ENUM[domain], batchId },
      eventId: e.eventId,
      seq: BigInt(link.seq),
      bizStep: e.bizStep,
      disposition: e.disposition ?? '',
      eventTime: timestampFromDate(e.eventTime),
      locationId: e.locationId,
      holderOrgId: after.holderOrgId,
      toOrgId: ((e.content.toOrgId ?? e.details?.toOrgId) as string | undefined) ?? '',
      toLocationId: ((e.content.toLocationId ?? e.details?.toLocationId) as string | undefined) ?? '',
      quantity: quantity ? { value: String(quantity.value), unit: quantity.unit } : undefined,
      hash: link.hash,
      prevHash: link.prevHash,
      statusAfter: after.status,
      documents: (Array.isArray(documents) ? documents : []).map((d) => ({ type: String(d.type), id: String(d.id) })),
      batchQuantity: { value: String(after.quantity), unit: batchState.quantityUnit },
      batchLocationId: batchState.locationId,
      holdings: holdingsOf(after),
      gtin: batchState.identity.gtin,
      lot: batchState.identity.lot,
      serial: batchState.identity.item_kind === 'serial',
      // A captured event's content keeps its event hash and the EPCIS event (with its errorDeclaration, if one).
      epcisHash: typeof e.content.epcisHash === 'string' ? e.content.epcisHash : '',
      epcisError: Boolean((e.content.epcis as { errorDeclaration?: unknown } | undefined)?.errorDeclaration),
    },
    opts: { subject: batchId, orgId: e.orgId, occurredAt: e.eventTime },
  };
}

/** The holdings an event leaves, when it changed them (see proto BatchHoldings). */
function holdingsOf(after: Transition & { holdings?: readonly Holding[] }) {
  if (!after.holdings) return undefined;
  return {
    items: after.holdings.map((h) => ({ orgId: h.orgId, quantity: String(h.quantity), inTransit: String(h.inTransit), received: String(h.received) })),
  };
}

/**
 * A stored link as the bulk writers take it: the trace_events row, with the
 * EPCIS columns of a captured event (absent for events the services write).
 */
export interface LinkRow {
  id: string;
  batch_id: string;
  seq: number;
  biz_step: string;
  disposition: string | null;
  /** ISO 8601. */
  event_time: string;
  /** The offset the time was written in (±HH:MM), when known. */
  event_time_offset?: string | null;
  org_id: string;
  content: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  /** The rule `hash` follows: 2 for every link built here; 1 only for an old link carried over as it was. */
  hash_version: HashVersion;
  /** The batch's status after the link (hashed under v2 when recorded; the batch row must agree with its head). */
  status_after?: string | null;
  epcis_hash?: string | null;
  epcis_error?: boolean;
  epcis_type?: string | null;
  epc_keys?: string[] | null;
  read_point?: string | null;
  biz_location?: string | null;
  /** The @context entries a captured event was captured with (EventContext). */
  epcis_context?: unknown[] | null;
  /** A REST-recorded link's CBV event hash (nativeHashOf), stored beside it in native_event_hashes. */
  native_hash?: string | null;
}

/**
 * Inserts many links in one statement. The rows travel as one JSON document,
 * not one array parameter per column: the driver would escape every element
 * (the content JSON twice over), and that, not PostgreSQL, was what a
 * ten-thousand-batch recall spent its time on. `capture` stamps a capture's
 * links with its record time and id.
 */
export async function insertLinks(
  m: EntityManager,
  rows: readonly LinkRow[],
  capture?: { recordTime: Date; captureId: string },
  returning = false,
  nativeHashes: NativeHashes = 'with-link',
): Promise<EventRow[]> {
  if (rows.length === 0) return [];
  // Captured links have none: their JSON is not read a second time.
  const native =
    nativeHashes === 'queued' ? `WITH ${QUEUE_NATIVE_HASHES} ` : rows.some((r) => r.native_hash) ? `WITH ${INSERT_NATIVE_HASHES} ` : '';
  return m.query(`${native}${INSERT_LINKS} ${returning ? 'RETURNING *' : ''}`, [JSON.stringify(rows), capture?.recordTime ?? null, capture?.captureId ?? null]) as Promise<EventRow[]>;
}

/**
 * $1: the rows as one JSON document; $2 and $3: a capture's record time and id (null otherwise).
 * A link is recorded when it is written (clock_timestamp(), taken after this statement holds its lock on
 * trace_events), not when its transaction started: subscriptions read up to the start of the oldest
 * transaction writing (lookHorizon in the epcis service), and one waiting on a batch's row lock before it
 * writes is not yet among them. Recorded at its start, it could commit behind a cursor already past it.
 */
const INSERT_LINKS = `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, event_time_offset, org_id, content, prev_hash, hash, hash_version,
                               status_after, record_time, epcis_hash, epcis_error, epcis_type, epc_keys, read_point, biz_location, capture_id, epcis_context)
     SELECT id, batch_id, seq, biz_step, disposition, event_time, event_time_offset, org_id, content, prev_hash, hash, hash_version,
            status_after, COALESCE($2, clock_timestamp()), epcis_hash, COALESCE(epcis_error, false), epcis_type, epc_keys, read_point, biz_location, $3, epcis_context
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, batch_id uuid, seq int, biz_step text, disposition text, event_time timestamptz,
            event_time_offset text, org_id text, content jsonb, prev_hash text, hash text, hash_version smallint, status_after text, epcis_hash text, epcis_error boolean, epcis_type text,
            epc_keys text[], read_point text, biz_location text, epcis_context jsonb)`;

/**
 * New batches with their first links (registration: the commissioning or
 * transforming event), custody and holdings: one statement.
 */
export async function insertBatchesWithLinks(m: EntityManager, batches: readonly NewBatch[], links: readonly LinkRow[]): Promise<BatchRow[]> {
  if (batches.length === 0) return [];
  return m.query(`WITH ${insertBatchesCtes('$4')}, link AS (${INSERT_LINKS}), ${INSERT_NATIVE_HASHES} SELECT * FROM inserted`, [
    JSON.stringify(links),
    null,
    null,
    JSON.stringify(batches),
  ]) as Promise<BatchRow[]>;
}

/**
 * One batch's new link and its new head in one round trip (a data-modifying
 * CTE: both or neither, under the row lock the caller holds).
 */
async function insertLinkAndHead(m: EntityManager, link: LinkRow, head: ChainHead, nativeHashes: NativeHashes): Promise<AppendedLink[]> {
  const update = chainHeadUpdate(head, 4);
  const text = `WITH link AS (${INSERT_LINKS} RETURNING *), head AS (${update.sql}), ${nativeHashes === 'queued' ? QUEUE_NATIVE_HASHES : INSERT_NATIVE_HASHES} SELECT * FROM link`;
  const params = [JSON.stringify([link]), null, null, ...update.params];
  // Everything the caller gets back was decided here (ids, seq, hashes, times): in a pipelined transaction the
  // link goes out with the next statement or the COMMIT, not in a round trip of its own.
  if (deferToCommit(m, text, params)) return [{ ...link, event_time: new Date(link.event_time) } as AppendedLink];
  return m.query(text, params) as Promise<EventRow[]>;
}

/**
 * Where a REST-recorded link's CBV event hash goes: stored with the link (`with-link`, computed in the
 * writing transaction), or listed for NativeHashBackfill to store after the commit (`queued`: bulk appends,
 * whose writer must not wait for them; see QUEUE_NATIVE_HASHES).
 */
export type NativeHashes = 'with-link' | 'queued';

/** A link as appended for its caller: the stored row but the time PostgreSQL records it at. */
export type AppendedLink = Omit<EventRow, 'record_time'>;

/**
 * Appends one link to each of many batches' chains in a handful of
 * statements, whatever their number (a recall marks hundreds of batches in one
 * transaction; one statement per batch would take seconds). Same rows, same
 * hashes and same announcements as one appendChainEvent per batch; answers
 * the new events' ids (reading ten thousand rows back would cost more than
 * writing them). Their CBV event hashes are queued, not computed here
 * (NativeHashes). The caller holds every batch row lock; a batch appears at
 * most once.
 */
export async function appendChainEvents(m: EntityManager, outbox: Outbox, domain: DomainName, appends: readonly ChainAppend[]): Promise<string[]> {
  return (await storeChainEvents(m, outbox, domain, appends, false, undefined, 'queued')).map((r) => r.id);
}

/** appendChainEvents, and the stored rows when `returning` (one event answered to its caller). */
async function storeChainEvents(m: EntityManager, outbox: Outbox, domain: DomainName, appends: readonly ChainAppend[], returning: true, directory: Directory | undefined, nativeHashes: NativeHashes): Promise<AppendedLink[]>;
async function storeChainEvents(m: EntityManager, outbox: Outbox, domain: DomainName, appends: readonly ChainAppend[], returning: false, directory: Directory | undefined, nativeHashes: NativeHashes): Promise<Pick<EventRow, 'id'>[]>;
async function storeChainEvents(
  m: EntityManager,
  outbox: Outbox,
  domain: DomainName,
  appends: readonly ChainAppend[],
  returning: boolean,
  directory: Directory | undefined,
  nativeHashes: NativeHashes,
): Promise<Pick<EventRow, 'id'>[] | AppendedLink[]> {
  if (appends.length === 0) return [];
  if (new Set(appends.map((a) => a.batch.id)).size !== appends.length) {
    // Two links on one batch in one statement would both claim the same seq.
    throw new Error('appendChainEvents: a batch may appear only once');
  }
  const links = appends.map(({ batch, event: e, after }) => {
    const { eventId, content, link } = nextChainLink(batch, e, after.status);
    // receiving moves the batch to where it was received; nothing else moves it.
    const locationAfter = e.bizStep === 'receiving' ? e.locationId : batch.location_id;
    return { eventId, content, link, locationAfter };
  });
  const linkRows: LinkRow[] = appends.map((a, i) => ({
    id: links[i].eventId,
    batch_id: a.batch.id,
    seq: links[i].link.seq,
    biz_step: a.event.bizStep,
    disposition: a.event.disposition ?? null,
    event_time: a.event.eventTime.toISOString(),
    event_time_offset: a.event.eventTimeOffset ?? null,
    org_id: a.event.orgId,
    content: links[i].content,
    prev_hash: links[i].link.prevHash,
    hash: links[i].link.hash,
    hash_version: HASH_VERSION,
    status_after: a.after.status,
  }));
  if (nativeHashes === 'with-link') {
    const names = partnerHashNames(directory);
    for (const [i, row] of linkRows.entries()) row.native_hash = await nativeHashOf(names, row, appends[i].batch);
  }
  const heads: ChainHead[] = appends.map((a, i) => ({
    id: a.batch.id,
    seq: links[i].link.seq,
    hash: links[i].link.hash,
    status: a.after.status,
    holder: a.after.holderOrgId,
    pending: a.after.pendingReceiverOrgId,
    quantity: a.after.quantity,
    location: links[i].locationAfter,
  }));
  let rows: AppendedLink[];
  if (appends.length === 1) {
    rows = await insertLinkAndHead(m, linkRows[0], heads[0], nativeHashes);
  } else {
    rows = await insertLinks(m, linkRows, undefined, returning, nativeHashes);
    await setChainHeads(m, heads);
  }
  await addCustody(
    m,
    appends.filter((a) => a.after.holderOrgId !== a.batch.holder_org_id).map((a) => ({ batchId: a.batch.id, orgId: a.after.holderOrgId })),
  );
  await outbox.appendMany(
    m,
    appends.map(({ batch, event: e, after }, i) => {
      const { eventId, content, link, locationAfter } = links[i];
      return traceEventItem(domain, batch.id, { ...e, eventId, content }, link, after, { quantityUnit: batch.quantity_unit, locationId: locationAfter, identity: batch });
    }),
  );
  return returning ? rows : links.map((l) => ({ id: l.eventId }));
}
