import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Domain, timestampDate, type BatchRegistered, type EventEnvelope, type TraceEventRecorded } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';
import { queryOrDefer } from '@trace/platform';
import { domainName } from '../domain-name';
import { parseUuid } from '../lineage-graph';

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
 * ends in the same rows. A run of the backbone is written in one statement per
 * table (LineageProjector hands its runs over): one INSERT per message was most
 * of what delivering a 10,000-event capture cost.
 */
@Injectable()
export class FsmaProjector {
  async onBatchesRegistered(events: readonly { payload: BatchRegistered; envelope: EventEnvelope }[], manager: EntityManager): Promise<void> {
    const rows = events.map(({ payload: e, envelope }) => {
      const id = batchId(e.batch?.batchId, 'BatchRegistered');
      // Refused like the lineage projector refuses it (whichever handler runs first); the date falls back like its registered_at.
      if (!/^\d{14}$/.test(e.gtin) || !e.lot || !e.ownerOrgId) throw new PoisonMessageError('BatchRegistered without GTIN-14, lot or owner');
      const producedAt = e.producedAt ? timestampDate(e.producedAt) : envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
      const inputs = e.inputs.map((i) => ({
        batchId: batchId(i.batch?.batchId, 'transformation input'),
        quantity: i.quantity ? { value: i.quantity.value, unit: i.quantity.unit } : null,
      }));
      return {
        batch_id: id,
        domain: domainName(e.batch?.domain ?? Domain.UNSPECIFIED),
        gtin: e.gtin,
        lot: e.lot,
        product_name: e.productName || null,
        owner_org_id: e.ownerOrgId,
        location_id: e.locationId,
        quantity_value: e.quantity?.value ?? null,
        quantity_unit: e.quantity?.unit ?? null,
        produced_at: producedAt.toISOString(),
        inputs,
        documents: e.documents.map((d) => ({ type: d.type, id: d.id })),
        serial: e.serial,
      };
    });
    if (rows.length === 0) return;
    // In the given order: of the same batch twice, the first is kept (ON CONFLICT DO NOTHING, as one by one).
    // Nothing waits for it: it goes out with the inbox transaction's next statement or COMMIT.
    await queryOrDefer(
      manager,
      `INSERT INTO fsma_lots (batch_id, domain, gtin, lot, product_name, owner_org_id, location_id, quantity_value, quantity_unit, produced_at,
                              inputs, documents, serial)
       SELECT batch_id, domain, gtin, lot, product_name, owner_org_id, location_id, quantity_value, quantity_unit, produced_at, inputs, documents, serial
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (batch_id uuid, domain text, gtin text, lot text, product_name text, owner_org_id text,
              location_id text, quantity_value text, quantity_unit text, produced_at timestamptz, inputs jsonb, documents jsonb, serial boolean)) WITH ORDINALITY AS x
        ORDER BY x.ordinality
       ON CONFLICT (batch_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  async onTraceEventsRecorded(events: readonly { payload: TraceEventRecorded; envelope: EventEnvelope }[], manager: EntityManager): Promise<void> {
    const rows = events.flatMap(({ payload: e, envelope }) => {
      if (!FSMA_BIZ_STEPS.has(e.bizStep)) return [];
      const id = batchId(e.batch?.batchId, 'TraceEventRecorded');
      const eventTime = e.eventTime ? timestampDate(e.eventTime) : envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
      return [
        {
          batch_id: id,
          seq: e.seq.toString(),
          event_id: e.eventId && parseUuid(e.eventId, scratch) ? e.eventId.toLowerCase() : null,
          biz_step: e.bizStep,
          event_time: eventTime.toISOString(),
          org_id: envelope.orgId || e.holderOrgId,
          location_id: e.locationId,
          to_org_id: e.toOrgId || null,
          to_location_id: e.toLocationId || null,
          quantity_value: e.quantity?.value ?? null,
          quantity_unit: e.quantity?.unit ?? null,
          documents: e.documents.map((d) => ({ type: d.type, id: d.id })),
          epcis_hash: e.epcisHash || null,
          epcis_error: e.epcisError,
        },
      ];
    });
    if (rows.length === 0) return;
    // Nothing waits for it: it goes out with the inbox transaction's next statement or COMMIT.
    await queryOrDefer(
      manager,
      `INSERT INTO fsma_events (batch_id, seq, event_id, biz_step, event_time, org_id, location_id, to_org_id, to_location_id,
                                quantity_value, quantity_unit, documents, epcis_hash, epcis_error)
       SELECT batch_id, seq, event_id, biz_step, event_time, org_id, location_id, to_org_id, to_location_id,
              quantity_value, quantity_unit, documents, epcis_hash, epcis_error
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (batch_id uuid, seq bigint, event_id uuid, biz_step text, event_time timestamptz, org_id text,
              location_id text, to_org_id text, to_location_id text, quantity_value text, quantity_unit text, documents jsonb, epcis_hash text,
              epcis_error boolean)) WITH ORDINALITY AS x
        ORDER BY x.ordinality
       ON CONFLICT (batch_id, seq) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }
}
