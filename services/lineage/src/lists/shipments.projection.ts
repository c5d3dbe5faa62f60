import type { EntityManager } from 'typeorm';
import { domainNameOf, timestampDate, type EventEnvelope, type TraceEventRecorded } from '@trace/contracts';
import { queryOrDefer } from '@trace/platform';

/**
 * lineage_shipments: every shipping event with a receiver, once (its event id
 * is the key, so a redelivered event adds nothing). The sender is the
 * organisation the event was recorded for (the envelope's org): the batch
 * row's holder is only the last receiver, and a batch has many holders.
 * Whether a shipment is still on its way is not stored here: receipts and
 * voids change the holdings, which lineage_holdings keeps in chain order.
 */
export async function projectShipments(manager: EntityManager, events: { payload: TraceEventRecorded; envelope: EventEnvelope }[]): Promise<void> {
  const rows = events
    .filter(({ payload: e, envelope }) => e.bizStep === 'shipping' && e.toOrgId && e.eventId && e.batch?.batchId && domainNameOf(e.batch.domain) && envelope.orgId)
    .map(({ payload: e, envelope }) => {
      const value = e.quantity?.value === undefined || e.quantity.value === '' ? null : Number(e.quantity.value);
      return {
        event_id: e.eventId.toLowerCase(),
        batch_id: (e.batch?.batchId ?? '').toLowerCase(),
        domain: domainNameOf(e.batch?.domain ?? 0) as string,
        seq: e.seq.toString(),
        from_org_id: envelope.orgId,
        to_org_id: e.toOrgId,
        quantity: value !== null && Number.isFinite(value) && value > 0 ? value : null,
        unit: e.quantity?.unit || e.batchQuantity?.unit || null,
        shipped_at: (e.eventTime ? timestampDate(e.eventTime) : new Date()).toISOString(),
      };
    });
  if (rows.length === 0) return;
  // Nothing reads it back in the inbox transaction: it goes out with the COMMIT.
  await queryOrDefer(
    manager,
    `INSERT INTO lineage_shipments (event_id, batch_id, domain, seq, from_org_id, to_org_id, quantity, unit, shipped_at)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (event_id uuid, batch_id uuid, domain text, seq bigint, from_org_id text, to_org_id text,
                                                       quantity numeric, unit text, shipped_at timestamptz)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
