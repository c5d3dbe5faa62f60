import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  CURRENT_SCHEMA_VERSION,
  encodeEnvelope,
  EVENT_TYPE_NAMES,
  timestampFromDate,
  TOPIC_OF,
  type EnvelopeInit,
  type EventCase,
  type PayloadInit,
} from '@trace/contracts';
import { afterCommit, deferToCommit, RequestContext, type EventLoopSlices } from '@trace/platform';
import { hasLocalRelay, wakeLocalRelays } from './relay';

/** An event written to the outbox: its id (the inbox de-duplicates on it) and type name. */
export interface OutboxedEvent {
  id: string;
  type: string;
}

export interface OutboxEventOptions {
  /** Batch (or recall) id: the message key, so a subject's events stay in order. */
  subject: string;
  orgId: string;
  occurredAt?: Date;
}

/**
 * Writes events into the outbox table of the caller's transaction. Nothing is
 * published here: if the transaction rolls back the event never existed, and
 * if it commits the relay will publish it even after a crash.
 */
export class Outbox {
  constructor(
    private readonly source: string,
    private readonly notifyChannel: string,
  ) {}

  async append<C extends EventCase>(
    manager: EntityManager,
    eventCase: C,
    payload: PayloadInit<C>,
    opts: OutboxEventOptions,
  ): Promise<OutboxedEvent> {
    const [envelope] = await this.appendMany(manager, [{ eventCase, payload, opts } as OutboxItem]);
    return envelope;
  }

  /**
   * Several events of one state change (a chunk of a large EPCIS capture), in
   * the given order, with one INSERT and one wake-up of the relay. With
   * `slices`, the encoding (about 0.1 ms an event: 500 of them held the event
   * loop for 50-70 ms) gives the event loop back whenever they say so.
   */
  async appendMany(manager: EntityManager, items: OutboxItem[], { slices }: { slices?: EventLoopSlices } = {}): Promise<OutboxedEvent[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      // An outbox row outside the state change's transaction defeats its purpose.
      throw new Error('Outbox.append must run inside the transaction of the state change');
    }
    if (items.length === 0) return [];
    const ctx = RequestContext.current();
    const now = new Date();
    // Encoded from its init shape: the message object (protobuf-es create()) is never needed here.
    const envelope = ({ eventCase, payload, opts }: OutboxItem): EnvelopeInit & OutboxedEvent => ({
      id: randomUUID(),
      type: EVENT_TYPE_NAMES[eventCase],
      version: CURRENT_SCHEMA_VERSION,
      source: this.source,
      orgId: opts.orgId,
      subject: opts.subject,
      occurredAt: timestampFromDate(opts.occurredAt ?? now),
      recordedAt: timestampFromDate(now),
      correlationId: ctx?.correlationId ?? randomUUID(),
      causationId: ctx?.causationId ?? '',
      payload: { case: eventCase, value: payload } as never,
    });
    // The relay must hear of the rows once they are committed, without polling. When it runs in this process
    // (every service relays its own outbox), the commit wakes it directly; otherwise the INSERT also NOTIFYs
    // (delivered at commit), in the same statement. Not always NOTIFY: a transaction that NOTIFYs holds
    // PostgreSQL's one notification lock through its commit, which made concurrent commits queue one by one
    // (backbone-throughput.ts: 1,700 → 2,400 events/s without it, and 0.15 ms of server CPU per event).
    const channel = this.notifyChannel;
    const wake = hasLocalRelay(channel) && afterCommit(manager, () => wakeLocalRelays(channel), `wake-relay:${channel}`) ? 'SELECT $CH::text' : "SELECT pg_notify($CH, '')";
    // Nothing in the transaction reads the row back: in a pipelined transaction it goes out with the COMMIT.
    const send = async (text: string, values: unknown[]) => {
      if (!deferToCommit(manager, text, values)) await manager.query(text, values);
    };
    if (items.length === 1) {
      const e = envelope(items[0]);
      await send(
        `WITH wake AS MATERIALIZED (${wake.replace('$CH', '$6')})
         INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
         SELECT $1::uuid, $2::text, $3::text, $4::text, $5::bytea FROM wake`,
        [e.id, TOPIC_OF[items[0].eventCase], items[0].opts.subject, e.type, encodeEnvelope(e), this.notifyChannel],
      );
      return [{ id: e.id, type: e.type }];
    }
    const envelopes: OutboxedEvent[] = [];
    const rows: { event_id: string; topic: string; message_key: string; event_type: string; payload: string }[] = [];
    for (const item of items) {
      if (slices?.due()) await slices.yieldNow();
      const e = envelope(item);
      envelopes.push({ id: e.id, type: e.type });
      rows.push({ event_id: e.id, topic: TOPIC_OF[item.eventCase], message_key: item.opts.subject, event_type: e.type, payload: encodeEnvelope(e).toString('base64') });
    }
    // One JSON document (payloads in base64) rather than an array parameter per column, which the
    // driver escapes element by element; WITH ORDINALITY keeps the given order in the bigserial ids,
    // which is the relay's order.
    await send(
      `WITH wake AS MATERIALIZED (${wake.replace('$CH', '$2')})
       INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
       SELECT x.event_id, x.topic, x.message_key, x.event_type, decode(x.payload, 'base64')
         FROM wake,
              jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n),
              jsonb_to_record(e.doc) AS x(event_id uuid, topic text, message_key text, event_type text, payload text)
        ORDER BY e.n`,
      [JSON.stringify(rows), this.notifyChannel],
    );
    return envelopes;
  }
}

/** One event for Outbox.appendMany. */
export type OutboxItem = { [C in EventCase]: { eventCase: C; payload: PayloadInit<C>; opts: OutboxEventOptions } }[EventCase];

export const outboxChannel = (schema: string) => `outbox_${schema}`;
