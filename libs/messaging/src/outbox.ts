import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  createEnvelope,
  CURRENT_SCHEMA_VERSION,
  encodeEnvelope,
  EVENT_TYPE_NAMES,
  timestampFromDate,
  TOPIC_OF,
  type EventCase,
  type EventEnvelope,
  type PayloadInit,
} from '@trace/contracts';
import { RequestContext } from '@trace/platform';

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
  ): Promise<EventEnvelope> {
    const [envelope] = await this.appendMany(manager, [{ eventCase, payload, opts } as OutboxItem]);
    return envelope;
  }

  /**
   * Several events of one state change (a chunk of a large EPCIS capture), in
   * the given order, with one INSERT and one wake-up of the relay.
   */
  async appendMany(manager: EntityManager, items: OutboxItem[]): Promise<EventEnvelope[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      // An outbox row outside the state change's transaction defeats its purpose.
      throw new Error('Outbox.append must run inside the transaction of the state change');
    }
    if (items.length === 0) return [];
    const ctx = RequestContext.current();
    const now = new Date();
    const envelopes = items.map(({ eventCase, payload, opts }) =>
      createEnvelope({
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
      }),
    );
    if (items.length === 1) {
      const [e] = envelopes;
      await manager.query(
        `INSERT INTO outbox (event_id, topic, message_key, event_type, payload) VALUES ($1, $2, $3, $4, $5)`,
        [e.id, TOPIC_OF[items[0].eventCase], items[0].opts.subject, e.type, Buffer.from(encodeEnvelope(e))],
      );
    } else {
      // unnest … WITH ORDINALITY keeps the given order in the bigserial ids, which is the relay's order.
      await manager.query(
        `INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
         SELECT u.event_id, u.topic, u.message_key, u.event_type, u.payload
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY
                AS u(event_id, topic, message_key, event_type, payload, n)
          ORDER BY u.n`,
        [
          envelopes.map((e) => e.id),
          items.map((i) => TOPIC_OF[i.eventCase]),
          items.map((i) => i.opts.subject),
          envelopes.map((e) => e.type),
          envelopes.map((e) => Buffer.from(encodeEnvelope(e))),
        ],
      );
    }
    // Delivered only when the transaction commits: wakes the relay without polling.
    await manager.query('SELECT pg_notify($1, $2)', [this.notifyChannel, '']);
    return envelopes;
  }
}

/** One event for Outbox.appendMany. */
export type OutboxItem = { [C in EventCase]: { eventCase: C; payload: PayloadInit<C>; opts: OutboxEventOptions } }[EventCase];

export const outboxChannel = (schema: string) => `outbox_${schema}`;
