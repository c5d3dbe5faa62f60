import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import type { Outbox } from '@trace/messaging';
import { nextLink, type Transition } from '@trace/trace-chain';
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
  const [row] = (await m.query(
    `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING *`,
    [eventId, batch.id, link.seq, e.bizStep, e.disposition ?? null, e.eventTime, e.orgId, content, link.prevHash, link.hash],
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
  const quantity = e.details?.quantity as { value: number; unit: string } | undefined;
  await outbox.append(
    m,
    'traceEventRecorded',
    {
      batch: { domain: DOMAIN_ENUM[domain], batchId: batch.id },
      eventId,
      seq: BigInt(link.seq),
      bizStep: e.bizStep,
      disposition: e.disposition ?? '',
      eventTime: timestampFromDate(e.eventTime),
      locationId: e.locationId,
      holderOrgId: after.holderOrgId,
      toOrgId: (e.details?.toOrgId as string | undefined) ?? '',
      toLocationId: (e.details?.toLocationId as string | undefined) ?? '',
      quantity: quantity ? { value: String(quantity.value), unit: quantity.unit } : undefined,
      hash: link.hash,
      prevHash: link.prevHash,
      statusAfter: after.status,
      documents: ((e.details?.documents as { type: string; id: string }[] | undefined) ?? []).map((d) => ({ type: d.type, id: d.id })),
    },
    { subject: batch.id, orgId: e.orgId, occurredAt: e.eventTime },
  );
  return row;
}
