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
    const [envelope] = await this.appendMany(manager, eventCase, [{ payload, opts }]);
    return envelope;
  }

  /**
   * Many events of one kind in one statement (a recall marks hundreds of
   * batches in one transaction): the same rows `append` would write, in the
   * order given, with one wake-up for the relay.
   */
  async appendMany<C extends EventCase>(
    manager: EntityManager,
    eventCase: C,
    events: readonly { payload: PayloadInit<C>; opts: OutboxEventOptions }[],
  ): Promise<EventEnvelope[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      // An outbox row outside the state change's transaction defeats its purpose.
      throw new Error('Outbox.append must run inside the transaction of the state change');
    }
    if (events.length === 0) return [];
    const ctx = RequestContext.current();
    const now = new Date();
    const envelopes = events.map(({ payload, opts }) =>
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
    // unnest keeps the array order, and the bigserial ids follow it: the relay publishes in that order.
    await manager.query(
      `INSERT INTO outbox (event_id, topic, message_key, event_type, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])`,
      [
        envelopes.map((e) => e.id),
        envelopes.map(() => TOPIC_OF[eventCase]),
        events.map((e) => e.opts.subject),
        envelopes.map((e) => e.type),
        envelopes.map((e) => Buffer.from(encodeEnvelope(e))),
      ],
    );
    // Delivered only when the transaction commits: wakes the relay without polling.
    await manager.query('SELECT pg_notify($1, $2)', [this.notifyChannel, '']);
    return envelopes;
  }
}

export const outboxChannel = (schema: string) => `outbox_${schema}`;
