import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Domain, timestampDate, type BatchRegistered, type TraceEventRecorded } from '@trace/contracts';
import { InboxDispatcher, PoisonMessageError, type HandlerContext } from '@trace/messaging';
import { parseUuid } from '../lineage-graph';
import { domainName } from '../lineage.projector';

/** The chain events a spreadsheet row comes from (void_shipping only to drop the shipment it voids). */
export const FSMA_BIZ_STEPS = new Set(['shipping', 'receiving', 'void_shipping']);

const scratch = new Uint32Array(4);

function batchId(id: string | undefined, what: string): string {
  if (!id || !parseUuid(id, scratch)) throw new PoisonMessageError(`${what} has no valid batch id`);
  return id.toLowerCase();
}

/**
 * Keeps the FSMA 204 read model (fsma_lots, fsma_events) from the events the
 * lineage service consumes anyway, in the same inbox transaction as the graph.
 * Inserts only, keyed by batch and chain seq, so a replay or any arrival order
 * ends in the same rows.
 */
@Injectable()
export class FsmaProjector implements OnModuleInit {
  constructor(@Inject(InboxDispatcher) private readonly inbox: InboxDispatcher) {}

  onModuleInit() {
    this.inbox.on('batchRegistered', (e, ctx) => this.onBatchRegistered(e, ctx));
    this.inbox.on('traceEventRecorded', (e, ctx) => this.onTraceEventRecorded(e, ctx));
  }

  async onBatchRegistered(e: BatchRegistered, { manager, envelope }: HandlerContext): Promise<void> {
    const id = batchId(e.batch?.batchId, 'BatchRegistered');
    // Refused like the lineage projector refuses it (whichever handler runs first); the date falls back like its registered_at.
    if (!/^\d{14}$/.test(e.gtin) || !e.lot || !e.ownerOrgId) throw new PoisonMessageError('BatchRegistered without GTIN-14, lot or owner');
    const producedAt = e.producedAt ? timestampDate(e.producedAt) : envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
    const inputs = e.inputs.map((i) => ({
      batchId: batchId(i.batch?.batchId, 'transformation input'),
      quantity: i.quantity ? { value: i.quantity.value, unit: i.quantity.unit } : null,
    }));
    await manager.query(
      `INSERT INTO fsma_lots (batch_id, domain, gtin, lot, product_name, owner_org_id, location_id, quantity_value, quantity_unit, produced_at,
                              inputs, documents, serial)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
       ON CONFLICT (batch_id) DO NOTHING`,
      [
        id,
        domainName(e.batch?.domain ?? Domain.UNSPECIFIED),
        e.gtin,
        e.lot,
        e.productName || null,
        e.ownerOrgId,
        e.locationId,
        e.quantity?.value ?? null,
        e.quantity?.unit ?? null,
        producedAt,
        JSON.stringify(inputs),
        JSON.stringify(e.documents.map((d) => ({ type: d.type, id: d.id }))),
        e.serial,
      ],
    );
  }

  async onTraceEventRecorded(e: TraceEventRecorded, { manager, envelope }: HandlerContext): Promise<void> {
    if (!FSMA_BIZ_STEPS.has(e.bizStep)) return;
    const id = batchId(e.batch?.batchId, 'TraceEventRecorded');
    const eventTime = e.eventTime ? timestampDate(e.eventTime) : envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
    await manager.query(
      `INSERT INTO fsma_events (batch_id, seq, event_id, biz_step, event_time, org_id, location_id, to_org_id, to_location_id,
                                quantity_value, quantity_unit, documents, epcis_hash, epcis_error)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
       ON CONFLICT (batch_id, seq) DO NOTHING`,
      [
        id,
        e.seq.toString(),
        e.eventId && parseUuid(e.eventId, scratch) ? e.eventId.toLowerCase() : null,
        e.bizStep,
        eventTime,
        envelope.orgId || e.holderOrgId,
        e.locationId,
        e.toOrgId || null,
        e.toLocationId || null,
        e.quantity?.value ?? null,
        e.quantity?.unit ?? null,
        JSON.stringify(e.documents.map((d) => ({ type: d.type, id: d.id }))),
        e.epcisHash || null,
        e.epcisError,
      ],
    );
  }
}
