import type { EntityManager } from 'typeorm';
import type { EventCase, EventEnvelope, PayloadOf } from '@trace/contracts';

/** A message on its way to a broker (or to in-process subscribers). */
export interface OutboundMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A message as a consumer receives it, from Kafka or the embedded relay. */
export interface InboundMessage {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition?: number;
  offset?: string;
}

export interface HandlerContext {
  envelope: EventEnvelope;
  /** The consumer's transaction: write the effect here so it commits with the inbox row. */
  manager: EntityManager;
}

export type EventHandler<C extends EventCase> = (payload: PayloadOf<C>, ctx: HandlerContext) => Promise<void>;

/**
 * Applies several events of one case at once, in the order given (a run of
 * consecutive messages, or a single one), in the consumer's transaction: for
 * read models that can write many events in a few set-based statements.
 */
export type RunHandler<C extends EventCase> = (
  events: { payload: PayloadOf<C>; envelope: EventEnvelope }[],
  ctx: { manager: EntityManager },
) => Promise<void>;

/**
 * Which events of a case a handler acts on, decided from the event alone (no database, no clock): the
 * others never reach it. An event no handler of its consumer acts on is `ignored` without a transaction
 * or an inbox row, which is safe because the decision is the same at every re-delivery.
 */
export type EventFilter<C extends EventCase> = (payload: PayloadOf<C>, envelope: EventEnvelope) => boolean;

/** Thrown by a handler when a message can never succeed: it is dead-lettered at once, not retried. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

export type DispatchOutcome = 'processed' | 'duplicate' | 'ignored' | 'dead-lettered';

/** Receives a message that must not block the stream any longer. */
export interface DeadLetterSink {
  deadLetter(message: InboundMessage, consumer: string, reason: string, attempts: number): Promise<void>;
}

/** Delivers inbound messages of given topics to one consumer's dispatch function. */
export type DispatchFn = (message: InboundMessage) => Promise<DispatchOutcome>;

/**
 * Delivers several messages at once, applied in the order given (the caller
 * keeps same-key messages in publish order); one outcome per message.
 */
export type BatchDispatchFn = (messages: InboundMessage[]) => Promise<DispatchOutcome[]>;

/**
 * The one thing that differs between the two run modes: how outbox rows reach
 * consumers. Outbox, relay loop, inbox and handlers are shared.
 */
export interface EventTransport {
  readonly kind: 'embedded' | 'kafka';
  publish(messages: OutboundMessage[]): Promise<void>;
  /**
   * `dispatchBatch`, when given, may be used instead of `dispatch` for runs of
   * messages (one transaction for many): the transport decides.
   */
  subscribe(consumer: string, topics: string[], dispatch: DispatchFn, dispatchBatch?: BatchDispatchFn): Promise<void>;
  /** Where this transport puts poison messages of a consumer. */
  deadLetterSink(consumer: string, fallback: DeadLetterSink): DeadLetterSink;
  health(): Promise<{ ok: boolean; detail?: string }>;
  /**
   * Graceful shutdown, first step: fetch nothing more, let the handlers in
   * flight finish and commit their offsets; publishing keeps working (the
   * outbox is flushed afterwards). Optional: in-process delivery has nothing to stop.
   */
  stopConsuming?(): Promise<void>;
  close(): Promise<void>;
}
