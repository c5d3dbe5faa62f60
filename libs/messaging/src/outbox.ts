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
    if (!manager.queryRunner?.isTransactionActive) {
      // An outbox row outside the state change's transaction defeats its purpose.
      throw new Error('Outbox.append must run inside the transaction of the state change');
    }
    const ctx = RequestContext.current();
    const now = new Date();
    const envelope = createEnvelope({
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
    await manager.query(
      `INSERT INTO outbox (event_id, topic, message_key, event_type, payload) VALUES ($1, $2, $3, $4, $5)`,
      [envelope.id, TOPIC_OF[eventCase], opts.subject, envelope.type, Buffer.from(encodeEnvelope(envelope))],
    );
    // Delivered only when the transaction commits: wakes the relay without polling.
    await manager.query('SELECT pg_notify($1, $2)', [this.notifyChannel, '']);
    return envelope;
  }
}

export const outboxChannel = (schema: string) => `outbox_${schema}`;
