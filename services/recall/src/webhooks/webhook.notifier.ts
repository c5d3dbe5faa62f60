import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  domainNameOf,
  timestampDate,
  type EventEnvelope,
  type IncidentOverdue,
  type InspectionRecorded,
  type RecallClosed,
  type RecallInitiated,
  type TraceEventRecorded,
} from '@trace/contracts';
import { InboxDispatcher, type HandlerContext } from '@trace/messaging';
import { PLATFORM_CONFIG, schemaFor, type PlatformConfig } from '@trace/platform';
import type { WebhookEvent } from './events';

const eventTime = (envelope: EventEnvelope) => (envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date());

/** A chain event that is a shipment to a named organisation of a known domain: what `shipment.incoming` is about. */
export const isShipmentToOrganisation = (e: TraceEventRecorded, envelope: EventEnvelope): boolean =>
  e.bizStep === 'shipping' && !!e.toOrgId && !!e.eventId && !!e.batch?.batchId && !!domainNameOf(e.batch.domain) && !!envelope.orgId;

/** The NOTIFY channel that wakes the delivery workers of a schema when deliveries commit. */
export const webhookChannel = (schema: string) => `webhooks_${schema}`;

/**
 * Who holds what of a recall: the organisations that held some of a batch or
 * had some in transit when it joined the scope; for a batch without holdings
 * (a scope from before holdings), its one holder. The same rule as
 * RecallService's holdersOf, over the stored rows.
 */
const HELD = `
  held AS (
    SELECT h.org_id, h.batch_id, h.quantity, h.in_transit, h.unit FROM recall_holdings h
     WHERE h.recall_id = $1 AND (h.quantity > 0 OR h.in_transit > 0)
    UNION ALL
    SELECT b.holder_org_id, b.batch_id, b.quantity_value, 0, b.quantity_unit FROM recall_batches b
     WHERE b.recall_id = $1 AND b.holder_org_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM recall_holdings x WHERE x.recall_id = $1 AND x.batch_id = b.batch_id)
  )`;

interface Subscriber {
  id: string;
  org_id: string;
  org_role: 'operator' | 'regulator';
}

interface HeldBatch {
  org_id: string;
  domain: string;
  batch_id: string;
  gtin: string | null;
  lot: string | null;
  quantity: string | null;
  in_transit: string | null;
  unit: string | null;
}

/** Whether a live subscription names the event type ($1): one row of webhook_event_types (see its migration). */
export const ANY_SUBSCRIBED = 'SELECT 1 FROM webhook_event_types WHERE type = $1 AND subscriptions > 0';

/**
 * Turns the recall service's own events into webhook deliveries. It consumes
 * them through the inbox like any consumer, and writes the delivery rows in
 * the inbox transaction: once the event is recorded as applied its
 * deliveries exist, and if the process dies before, the event is delivered
 * again and applied then. The rows are sent by WebhookDeliveryWorker.
 *
 * One delivery per event and subscription (event_key): the chunks of a
 * recall's `recallInitiated` give each subscriber one `recall.started`, with
 * every batch of the recall its organisation holds; a batch that joins the
 * scope later concerns an organisation already told nothing new, and a newly
 * concerned organisation hears of the recall then.
 */
@Injectable()
export class WebhookNotifier implements OnModuleInit {
  private readonly channel: string;

  constructor(
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.channel = webhookChannel(schemaFor('recall', config.DB_SCHEMA_PREFIX));
  }

  onModuleInit() {
    this.inbox.on('recallInitiated', (e, ctx) => this.onRecallInitiated(e, ctx));
    this.inbox.on('recallClosed', (e, ctx) => this.onRecallClosed(e, ctx));
    this.inbox.on('inspectionRecorded', (e, ctx) => this.onInspectionRecorded(e, ctx));
    this.inbox.on('incidentOverdue', (e, ctx) => this.onIncidentOverdue(e, ctx));
    // The chain-event topic is the busiest, and most of it is not a shipment: only shipments reach the
    // handler (the others cost no transaction and no inbox row here), in runs.
    this.inbox.onRun('traceEventRecorded', (events, ctx) => this.onTraceEventsRecorded(events, ctx.manager), { when: isShipmentToOrganisation });
  }

  /**
   * A shipment to an organisation (shipping with a receiver, recorded over
   * REST or captured from EPCIS with a destination of ours; a return under a
   * recall too): `shipment.incoming` to the receiver's subscriptions and
   * regulators. The sender is the organisation the event was recorded for.
   */
  async onTraceEventsRecorded(events: { payload: TraceEventRecorded; envelope: EventEnvelope }[], manager: EntityManager): Promise<void> {
    const type: WebhookEvent = 'shipment.incoming';
    // The inbox hands over shipments only (`when: isShipmentToOrganisation`): not filtered a second time here.
    const shipments = events;
    if (shipments.length === 0 || !(await this.anySubscribed(manager, type))) return;
    const receivers = [...new Set(shipments.map(({ payload: e }) => e.toOrgId))];
    const subscribers = await this.subscribersOf(manager, type, receivers);
    if (subscribers.length === 0) return;
    for (const { payload: e, envelope } of shipments) {
      const concerned = subscribers.filter((s) => s.org_role === 'regulator' || s.org_id === e.toOrgId);
      const domain = domainNameOf(e.batch?.domain ?? 0) as string;
      const batchId = (e.batch?.batchId ?? '').toLowerCase();
      const shipmentId = e.eventId.toLowerCase();
      const value = e.quantity?.value ? Number(e.quantity.value) : NaN;
      const toReceiver = e.holdings?.items.find((h) => h.orgId === e.toOrgId);
      const shippedAt = e.eventTime ? timestampDate(e.eventTime) : eventTime(envelope);
      const data = {
        shipmentId,
        domain,
        batchId,
        gtin: e.gtin || null,
        lot: e.lot || null,
        serial: e.serial,
        quantity: Number.isFinite(value) ? value : null,
        unit: e.quantity?.unit || e.batchQuantity?.unit || null,
        // All of the batch now on its way to the receiver (this shipment and any earlier one not yet received).
        inTransit: toReceiver ? Number(toReceiver.inTransit) : null,
        fromOrgId: envelope.orgId,
        toOrgId: e.toOrgId,
        toLocationId: e.toLocationId || null,
        disposition: e.disposition || null,
        shippedAt: shippedAt.toISOString(),
        href: `/v1/${domain}/batches/${batchId}`,
      };
      await this.deliver(manager, shippedAt, type, `${type}:${shipmentId}`, concerned, () => data);
    }
  }

  async onRecallInitiated(e: RecallInitiated, { manager, envelope }: HandlerContext): Promise<void> {
    const type: WebhookEvent = 'recall.started';
    if (!(await this.anySubscribed(manager, type))) return;
    const items = e.items.length ? e.items : e.item ? [e.item] : [];
    const chunk = items.map((i) => i.batch?.batchId.toLowerCase()).filter((id): id is string => !!id);
    const subscribers = (await manager.query(
      `WITH ${HELD}, concerned AS (SELECT DISTINCT org_id FROM held WHERE batch_id = ANY($2::uuid[]))
       SELECT id, org_id, org_role FROM webhook_subscriptions
        WHERE deleted_at IS NULL AND events @> ARRAY[$3]::text[] AND (org_role = 'regulator' OR org_id IN (SELECT org_id FROM concerned))`,
      [e.recallId, chunk, type],
    )) as Subscriber[];
    if (subscribers.length === 0) return;
    const orgs = [...new Set(subscribers.map((s) => s.org_id))];
    const held = (await manager.query(
      `WITH ${HELD}
       SELECT held.org_id, b.domain, b.batch_id, b.gtin, b.lot, held.quantity::text, held.in_transit::text, held.unit
         FROM held JOIN recall_batches b ON b.recall_id = $1 AND b.batch_id = held.batch_id
        WHERE held.org_id = ANY($2::text[]) ORDER BY b.position, held.org_id`,
      [e.recallId, orgs],
    )) as HeldBatch[];
    const [{ n: batchCount, started_at: startedAt }] = (await manager.query(
      'SELECT count(*)::int AS n, (SELECT created_at FROM recalls WHERE id = $1) AS started_at FROM recall_batches WHERE recall_id = $1',
      [e.recallId],
    )) as { n: number; started_at: Date | null }[];
    const common = {
      recallId: e.recallId,
      level: e.level,
      reason: e.reason,
      hazard: e.hazard || null,
      regulatorOrgId: e.regulatorOrgId,
      startBy: e.startBy ? timestampDate(e.startBy).toISOString() : null,
      completeBy: e.completeBy ? timestampDate(e.completeBy).toISOString() : null,
      batchCount,
      href: `/v1/recalls/${e.recallId}`,
    };
    await this.deliver(manager, startedAt ?? eventTime(envelope), type, `${type}:${e.recallId}`, subscribers, (s) => ({
      ...common,
      // The subscriber's own part of the scope: what it is asked to recover.
      batches: held
        .filter((h) => h.org_id === s.org_id)
        .map((h) => ({
          domain: h.domain,
          batchId: h.batch_id,
          gtin: h.gtin,
          lot: h.lot,
          quantity: h.quantity === null ? null : Number(h.quantity),
          inTransit: h.in_transit === null ? 0 : Number(h.in_transit),
          unit: h.unit,
        })),
    }));
  }

  async onRecallClosed(e: RecallClosed, { manager, envelope }: HandlerContext): Promise<void> {
    const type: WebhookEvent = 'recall.closed';
    if (!(await this.anySubscribed(manager, type))) return;
    const subscribers = (await manager.query(
      `WITH ${HELD}
       SELECT id, org_id, org_role FROM webhook_subscriptions
        WHERE deleted_at IS NULL AND events @> ARRAY[$2]::text[] AND (org_role = 'regulator' OR org_id IN (SELECT org_id FROM held))`,
      [e.recallId, type],
    )) as Subscriber[];
    const data = {
      recallId: e.recallId,
      closedAt: e.closedAt ? timestampDate(e.closedAt).toISOString() : null,
      effectiveness: e.effectiveness,
      href: `/v1/recalls/${e.recallId}`,
    };
    await this.deliver(manager, e.closedAt ? timestampDate(e.closedAt) : eventTime(envelope), type, `${type}:${e.recallId}`, subscribers, () => data);
  }

  /**
   * A failed sample: every organisation holding part of the batch (or having
   * some in transit to it) when it was recorded, and regulators; when the
   * result put the batch on hold, `batch.held` to the same. Shares the inbox
   * transaction with the case projector, so it never throws on a payload the
   * projector judges: what it cannot read, it leaves.
   */
  async onInspectionRecorded(e: InspectionRecorded, ctx: HandlerContext): Promise<void> {
    await this.onInspectionFailed(e, ctx);
    await this.onBatchHeld(e, ctx);
  }

  /** The batch's holders as the result names them; an event from before holdings names its one holder. */
  /** The live subscriptions to `type` of the organisations named, and of every regulator (who hears all). */
  private async subscribersOf(manager: EntityManager, type: WebhookEvent, orgIds: string[]): Promise<Subscriber[]> {
    return (await manager.query(
      `SELECT id, org_id, org_role FROM webhook_subscriptions
        WHERE deleted_at IS NULL AND events @> ARRAY[$1]::text[] AND (org_role = 'regulator' OR org_id = ANY($2::text[]))`,
      [type, orgIds],
    )) as Subscriber[];
  }

  private holdersOf(e: InspectionRecorded): string[] {
    return e.holderOrgIds.length ? e.holderOrgIds : e.holderOrgId ? [e.holderOrgId] : [];
  }

  private async onInspectionFailed(e: InspectionRecorded, { manager, envelope }: HandlerContext): Promise<void> {
    const type: WebhookEvent = 'inspection.failed';
    const domain = e.batch ? domainNameOf(e.batch.domain) : undefined;
    if (e.conclusion !== 'fail' || !domain || !e.batch?.batchId || !e.inspectionId) return;
    if (!(await this.anySubscribed(manager, type))) return;
    const subscribers = await this.subscribersOf(manager, type, this.holdersOf(e));
    const batchId = e.batch.batchId.toLowerCase();
    const data = {
      inspectionId: e.inspectionId,
      domain,
      batchId,
      gtin: e.gtin,
      lot: e.lot,
      holderOrgId: e.holderOrgId,
      reportNo: e.reportNo,
      agency: e.agency,
      sampledAt: e.sampledAt ? timestampDate(e.sampledAt).toISOString() : null,
      retestOf: e.retestOf || null,
      retestDeadline: e.retestDeadline ? timestampDate(e.retestDeadline).toISOString() : null,
      failedItems: e.items.filter((i) => i.result === 'fail').map((i) => ({ name: i.name, value: i.value, unit: i.unit, limit: i.limit })),
      href: `/v1/${domain}/batches/${batchId}/inspections`,
    };
    await this.deliver(manager, eventTime(envelope), type, `${type}:${e.inspectionId}`, subscribers, () => data);
  }

  /**
   * A batch put on hold: today only a failed sample does it (an active batch
   * becomes held; a fail on a batch held already, or recalled, changes
   * nothing and says nothing). Its holders and regulators are told; the
   * delivery names the result that caused it. An event from before
   * `batch_status_before` was set is taken as a change.
   */
  private async onBatchHeld(e: InspectionRecorded, { manager, envelope }: HandlerContext): Promise<void> {
    const type: WebhookEvent = 'batch.held';
    const domain = e.batch ? domainNameOf(e.batch.domain) : undefined;
    if (e.batchStatus !== 'held' || e.batchStatusBefore === 'held' || !domain || !e.batch?.batchId || !e.inspectionId) return;
    if (!(await this.anySubscribed(manager, type))) return;
    const subscribers = await this.subscribersOf(manager, type, this.holdersOf(e));
    const batchId = e.batch.batchId.toLowerCase();
    const data = {
      domain,
      batchId,
      gtin: e.gtin,
      lot: e.lot,
      status: 'held',
      cause: 'inspection.failed',
      inspectionId: e.inspectionId,
      reportNo: e.reportNo,
      retestDeadline: e.retestDeadline ? timestampDate(e.retestDeadline).toISOString() : null,
      href: `/v1/${domain}/batches/${batchId}`,
    };
    await this.deliver(manager, eventTime(envelope), type, `${type}:${e.inspectionId}`, subscribers, () => data);
  }

  /** An incident report not filed in time: the organisation that owes it, and regulators. */
  async onIncidentOverdue(e: IncidentOverdue, { manager, envelope }: HandlerContext): Promise<void> {
    const type: WebhookEvent = 'incident.overdue';
    if (!e.incidentId || !(await this.anySubscribed(manager, type))) return;
    const subscribers = await this.subscribersOf(manager, type, [e.responsibleOrgId]);
    if (subscribers.length === 0) return;
    const [incident] = (await manager.query('SELECT domain, gtin, lot, severity FROM incidents WHERE id = $1', [e.incidentId])) as {
      domain: string;
      gtin: string;
      lot: string;
      severity: string;
    }[];
    const data = {
      incidentId: e.incidentId,
      responsibleOrgId: e.responsibleOrgId,
      reportDueBy: e.reportDueBy ? timestampDate(e.reportDueBy).toISOString() : null,
      domain: incident?.domain ?? null,
      gtin: incident?.gtin ?? null,
      lot: incident?.lot ?? null,
      severity: incident?.severity ?? null,
      href: `/v1/incidents/${e.incidentId}`,
    };
    await this.deliver(manager, eventTime(envelope), type, `${type}:${e.incidentId}`, subscribers, () => data);
  }

  /** Most events meet no subscription at all: one indexed probe (ANY_SUBSCRIBED), and nothing else is read. */
  private async anySubscribed(m: EntityManager, type: WebhookEvent): Promise<boolean> {
    const [row] = await m.query(ANY_SUBSCRIBED, [type]);
    return !!row;
  }

  private async deliver(
    m: EntityManager,
    occurredAt: Date,
    type: WebhookEvent,
    eventKey: string,
    subscribers: Subscriber[],
    dataFor: (s: Subscriber) => unknown,
  ): Promise<void> {
    if (subscribers.length === 0) return;
    const inserted = (await m.query(
      `INSERT INTO webhook_deliveries (id, subscription_id, event_key, type, occurred_at, data, status, next_attempt_at, created_at)
       SELECT x.id, x.subscription_id, $1, $2, $3, x.data, 'pending', now(), now()
         FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, subscription_id uuid, data jsonb)
       ON CONFLICT (subscription_id, event_key) DO NOTHING RETURNING id`,
      [eventKey, type, occurredAt, JSON.stringify(subscribers.map((s) => ({ id: randomUUID(), subscription_id: s.id, data: dataFor(s) })))],
    )) as unknown[];
    // Delivered on commit only: wakes the workers without their polling.
    if (inserted.length) await m.query('SELECT pg_notify($1, $2)', [this.channel, '']);
  }
}
