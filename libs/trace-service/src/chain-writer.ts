import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import type { Outbox, OutboxItem } from '@trace/messaging';
import { nextLink, type ChainLink, type Transition } from '@trace/trace-chain';
import { DOMAIN_ENUM, type DomainName } from './domains';
import type { BatchRow, EventRow } from './rows';

export interface NewChainEvent {
  bizStep: string;
  disposition?: string | null;
  eventTime: Date;
  locationId: string;
  orgId: string;
  /** Everything else the event says (what/where/why/how); hashed with it. */
  details?: Record<string, unknown>;
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
): Promise<EventRow> {
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
  const link = nextLink(batch.chain_seq > 0 ? { seq: batch.chain_seq, hash: batch.chain_head.trim() } : undefined, content);
  return writeLink(m, outbox, domain, batch, { ...e, eventId, content }, link, after);
}

/** EPCIS facts a captured event keeps beside its hashed content, for de-duplication and queries. */
export interface EpcisColumns {
  hash: string;
  /** An error declaration names the same event (same hash) as the one it corrects. */
  error: boolean;
  type: string;
  epcKeys: string[];
  readPoint: string | null;
  bizLocation: string | null;
  captureId: string;
  recordTime: Date;
}

/**
 * Stores a link whose hash was already computed (`nextLink` over `content`)
 * and applies it to the batch: new head, custody, the announcement on the
 * outbox. Shared by REST events and EPCIS capture so both reach lineage and
 * the scan the same way.
 */
export async function writeLink(
  m: EntityManager,
  outbox: Outbox,
  domain: DomainName,
  batch: BatchRow,
  e: NewChainEvent & { eventId: string; content: Record<string, unknown>; epcis?: EpcisColumns },
  link: ChainLink,
  after: Transition,
): Promise<EventRow> {
  const eventId = e.eventId;
  const x = e.epcis;
  const [row] = (await m.query(
    `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash,
                               record_time, epcis_hash, epcis_error, epcis_type, epc_keys, read_point, biz_location, capture_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, COALESCE($11, now()), $12, COALESCE($13, false), $14, $15, $16, $17, $18) RETURNING *`,
    [eventId, batch.id, link.seq, e.bizStep, e.disposition ?? null, e.eventTime, e.orgId, e.content, link.prevHash, link.hash,
      x?.recordTime ?? null, x?.hash ?? null, x?.error ?? null, x?.type ?? null, x?.epcKeys ?? null, x?.readPoint ?? null, x?.bizLocation ?? null, x?.captureId ?? null],
  )) as EventRow[];
  await m.query(
    `UPDATE batches SET chain_seq = $2, chain_head = $3, status = $4, holder_org_id = $5,
            pending_receiver_org_id = $6, quantity_value = $7,
            location_id = CASE WHEN $8::text = 'receiving' THEN $9 ELSE location_id END
      WHERE id = $1`,
    [batch.id, link.seq, link.hash, after.status, after.holderOrgId, after.pendingReceiverOrgId, after.quantity, e.bizStep, e.locationId],
  );
  if (after.holderOrgId !== batch.holder_org_id) {
    await m.query(`INSERT INTO batch_custody (batch_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [batch.id, after.holderOrgId]);
  }
  const item = traceEventItem(domain, batch.id, { ...e, eventId }, link, after);
  await outbox.append(m, item.eventCase, item.payload, item.opts);
  return row;
}

/** The `traceEventRecorded` announcement of a stored link (shared with the EPCIS bulk writer). */
export function traceEventItem(
  domain: DomainName,
  batchId: string,
  e: NewChainEvent & { eventId: string; content: Record<string, unknown> },
  link: ChainLink,
  after: Transition,
): OutboxItem & { eventCase: 'traceEventRecorded' } {
  const quantity = (e.content.quantity ?? e.details?.quantity) as { value: number; unit: string } | undefined;
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
    },
    opts: { subject: batchId, orgId: e.orgId, occurredAt: e.eventTime },
  };
}
