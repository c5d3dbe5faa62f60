import { randomUUID } from 'node:crypto';
import { documentsOf, sensorsOf, type CarriedLink } from '@trace/epcis';
import { HASH_VERSION, nextLink, normalizeOffset, statusAfter, type BatchStatus, type ChainLink, type Holding } from '@trace/trace-chain';
import type { BatchRow } from '../rows';
import type { LinkRow } from '../store';
import type { HoldingsTransition, PlannedMovement } from '../use-cases/plan-movement';
import type { PlannedChainEvent, PlannedTarget } from './contract';

/** A captured event as the next link of one batch's chain: the row to store and the state it leaves the batch in. */
export interface CapturedLink {
  row: LinkRow;
  link: ChainLink;
  content: Record<string, unknown>;
  after: HoldingsTransition;
  bizStep: string;
  disposition: string | null;
  eventTime: Date;
  locationId: string;
}

/**
 * Chains a captured event onto a batch (in memory, nothing written): a
 * carried link that fits is kept as it was exported, anything else becomes a
 * new v2 link whose content keeps the whole EPCIS event. `move` (shipping,
 * receiving, taking…) and `take` (a transformation input) are what the event
 * does to the holdings, decided before.
 */
export function capturedLink(
  ev: PlannedChainEvent,
  t: PlannedTarget,
  batch: BatchRow,
  e: {
    actorOrgId: string;
    carried?: CarriedLink;
    move?: PlannedMovement;
    take?: { remaining: number; holdings: Holding[] };
    toOrgId?: string;
  },
): CapturedLink {
  const { carried, move } = e;
  // An error declaration is stored as a new link even when the event it names was never captured here:
  // it is what the trading partner declared, and the original (if any) stays as it was.
  const eventId = (carried?.content.eventId as string | undefined) ?? randomUUID();
  const content: Record<string, unknown> = carried
    ? carried.content
    : {
        eventId,
        batchId: batch.id,
        bizStep: ev.bizStep,
        disposition: ev.disposition ?? undefined,
        eventTime: new Date(ev.eventTime).toISOString(),
        locationId: ev.locationId,
        orgId: e.actorOrgId,
        // What moved is part of the hashed record, in the batch's unit, as over REST.
        quantity: move && move.result.moved > 0 ? { value: move.result.moved, unit: batch.quantity_unit } : t.quantity,
        ...(move?.result.shortage ? { shortage: { value: move.result.shortage, unit: batch.quantity_unit } } : {}),
        ...(move && e.toOrgId ? { toOrgId: e.toOrgId } : {}),
        inputs: t.inputs,
        role: t.role,
        documents: documentsOf(ev.event),
        sensors: sensorsOf(ev.event),
        epcisHash: ev.hash,
        epcis: ev.event,
      };
  // A v2 carried link is stored with the columns it was hashed with; anything else shows what the content says.
  const shown = carried?.hashVersion === 2 ? carried.shown : undefined;
  const bizStep = shown?.bizStep ?? (content.bizStep as string | undefined) ?? ev.bizStep;
  const disposition = shown ? shown.disposition : ((content.disposition as string | null | undefined) ?? ev.disposition);
  const eventTime = new Date(shown?.eventTime ?? (content.eventTime as string | undefined) ?? ev.eventTime);
  const orgId = shown?.orgId ?? e.actorOrgId;
  // The offset the capturer's event time was written in (eventTimeZoneOffset), given back by the API and on export.
  const eventTimeOffset = shown ? (shown.eventTimeOffset ?? null) : (normalizeOffset(String(ev.event.eventTimeZoneOffset ?? '')) ?? null);
  const state = { status: batch.status as BatchStatus, holderOrgId: batch.holder_org_id, pendingReceiverOrgId: batch.pending_receiver_org_id, quantity: Number(batch.quantity_value) };
  // A captured movement leaves the batch as the same movement over REST would. Other captured events
  // (a trading partner's shipping to no organisation of ours…) move no custody here; their
  // dispositions still set the status (recalled, destroyed…); an error declaration changes nothing.
  // A carried link that recorded the status it left is taken at its word: its hash covers it.
  // Written out rather than spread over `state`: a literal that begins with a spread costs V8 a new hidden
  // class for every property after it (about a microsecond each), per captured event.
  const left = (status: BatchStatus): HoldingsTransition => ({
    status,
    holderOrgId: state.holderOrgId,
    pendingReceiverOrgId: state.pendingReceiverOrgId,
    quantity: e.take ? e.take.remaining : state.quantity,
    ...(e.take ? { holdings: e.take.holdings } : {}),
  });
  const after: HoldingsTransition = move
    ? move.after
    : shown?.statusAfter
      ? left(shown.statusAfter as BatchStatus)
      : ev.error ? state : left(statusAfter(state.status, { bizStep: bizStep as never, disposition: (disposition ?? undefined) as never }));
  const link: ChainLink = carried
    ? { seq: carried.seq, prevHash: carried.prevHash, hash: carried.hash, content, version: carried.hashVersion ?? 1 }
    : nextLink(batch.chain_seq > 0 ? { seq: batch.chain_seq, hash: batch.chain_head } : undefined, content, {
        bizStep,
        disposition: disposition ?? null,
        eventTime,
        eventTimeOffset,
        orgId,
        statusAfter: after.status,
      });
  // The row's id is this system's (issue 13): a carried content's eventId stays in the hashed content only.
  const id = carried ? randomUUID() : eventId;
  const row: LinkRow = {
    id, batch_id: batch.id, seq: link.seq, biz_step: bizStep, disposition: disposition ?? null, event_time: eventTime.toISOString(),
    event_time_offset: eventTimeOffset, org_id: orgId, content, prev_hash: link.prevHash, hash: link.hash, hash_version: link.version ?? HASH_VERSION,
    // What a v1 carried link never recorded stays unrecorded (its hash could not cover it).
    status_after: carried ? (shown?.statusAfter ?? null) : after.status, epcis_hash: ev.hash, epcis_error: ev.error,
    epcis_type: ev.type, epc_keys: ev.epcKeys, read_point: ev.readPoint, biz_location: ev.bizLocation,
    epcis_context: ev.context ?? null,
  };
  return { row, link, content, after, bizStep, disposition: disposition ?? null, eventTime, locationId: (content.locationId as string | undefined) ?? ev.locationId };
}
