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
): Promise<EventRow> {
  const [row] = await appendChainEvents(m, outbox, domain, [{ batch, event: e, after }]);
  return row;
}

/**
 * Appends one link to each of many batches' chains in a handful of
 * statements, whatever their number (a recall marks hundreds of batches in one
 * transaction; one statement per batch would take seconds). Same rows, same
 * hashes and same announcements as one appendChainEvent per batch. The
 * caller holds every batch row lock; a batch appears at most once.
 */
export async function appendChainEvents(
  m: EntityManager,
  outbox: Outbox,
  domain: DomainName,
  appends: readonly ChainAppend[],
): Promise<EventRow[]> {
  if (appends.length === 0) return [];
  if (new Set(appends.map((a) => a.batch.id)).size !== appends.length) {
    // Two links on one batch in one statement would both claim the same seq.
    throw new Error('appendChainEvents: a batch may appear only once');
  }
  const links = appends.map(({ batch, event: e }) => {
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
    // receiving moves the batch to where it was received; nothing else moves it.
    const locationAfter = e.bizStep === 'receiving' ? e.locationId : batch.location_id;
    return { eventId, content, link, locationAfter };
  });
  const rows = (await m.query(
    `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::jsonb[], $9::text[], $10::text[])
     RETURNING *`,
    [
      links.map((l) => l.eventId),
      appends.map((a) => a.batch.id),
      links.map((l) => l.link.seq),
      appends.map((a) => a.event.bizStep),
      appends.map((a) => a.event.disposition ?? null),
      appends.map((a) => a.event.eventTime),
      appends.map((a) => a.event.orgId),
      links.map((l) => JSON.stringify(l.content)),
      links.map((l) => l.link.prevHash),
      links.map((l) => l.link.hash),
    ],
  )) as EventRow[];
  await m.query(
    `UPDATE batches AS b SET chain_seq = u.seq, chain_head = u.hash, status = u.status, holder_org_id = u.holder,
            pending_receiver_org_id = u.pending, quantity_value = u.quantity, location_id = u.location
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[])
            AS u (id, seq, hash, status, holder, pending, quantity, location)
      WHERE b.id = u.id`,
    [
      appends.map((a) => a.batch.id),
      links.map((l) => l.link.seq),
      links.map((l) => l.link.hash),
      appends.map((a) => a.after.status),
      appends.map((a) => a.after.holderOrgId),
      appends.map((a) => a.after.pendingReceiverOrgId),
      appends.map((a) => a.after.quantity),
      links.map((l) => l.locationAfter),
    ],
  );
  const moved = appends.filter((a) => a.after.holderOrgId !== a.batch.holder_org_id);
  if (moved.length > 0) {
    await m.query(
      `INSERT INTO batch_custody (batch_id, org_id) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`,
      [moved.map((a) => a.batch.id), moved.map((a) => a.after.holderOrgId)],
    );
  }
  await outbox.appendMany(
    m,
    'traceEventRecorded',
    appends.map(({ batch, event: e, after }, i) => {
      const { eventId, link, locationAfter } = links[i];
      const quantity = e.details?.quantity as { value: number; unit: string } | undefined;
      return {
        payload: {
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
          batchQuantity: { value: String(after.quantity), unit: batch.quantity_unit },
          batchLocationId: locationAfter,
        },
        opts: { subject: batch.id, orgId: e.orgId, occurredAt: e.eventTime },
      };
    }),
  );
  // RETURNING follows the input order for an INSERT … SELECT from unnest, but nothing promises it: match by id.
  const byId = new Map(rows.map((r) => [r.id, r]));
  return links.map((l) => byId.get(l.eventId) as EventRow);
}
