import type { DataSource } from 'typeorm';
import {
  CURRENT_SCHEMA_VERSION,
  decodeEnvelope,
  EVENT_TYPE_NAMES,
  TOPIC_OF,
  type EventCase,
  type EventEnvelope,
} from '@trace/contracts';
import { RequestContext, type Logger } from '@trace/platform';
import { backoffDelay, sleep } from './backoff';
import {
  PoisonMessageError,
  type DeadLetterSink,
  type DispatchOutcome,
  type EventHandler,
  type InboundMessage,
} from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The work context a handler runs in: the event's correlation, caused by the event itself. */
const contextOf = (envelope: EventEnvelope) => ({
  correlationId: envelope.correlationId || envelope.id,
  causationId: envelope.id,
  orgId: envelope.orgId,
});

/** A decoded, valid message of a batch, with the handlers it goes to. */
interface Ready {
  i: number;
  envelope: EventEnvelope;
  topic: string;
  handlers: EventHandler<EventCase>[];
}

export interface InboxOptions {
  consumer: string;
  maxAttempts: number;
  retryBaseMs: number;
  logger: Logger;
  onOutcome?: (outcome: DispatchOutcome, topic: string) => void;
}

/** Why an envelope is unusable, or undefined when it is fine. */
export function envelopeProblem(env: EventEnvelope, topic: string): string | undefined {
  const c = env.payload.case;
  if (!c) return 'envelope has no payload';
  if (!UUID.test(env.id)) return `event id ${JSON.stringify(env.id)} is not a UUID`;
  if (env.type !== EVENT_TYPE_NAMES[c]) return `type ${JSON.stringify(env.type)} does not match payload ${c}`;
  if (TOPIC_OF[c] !== topic) return `${c} does not belong on topic ${topic}`;
  if (env.version < 1 || env.version > CURRENT_SCHEMA_VERSION) return `unsupported schema version ${env.version}`;
  if (!env.subject) return 'envelope has no subject';
  if (!env.source) return 'envelope has no source';
  if (!env.occurredAt) return 'envelope has no occurredAt';
  return undefined;
}

/**
 * The consuming half of the backbone, identical in both run modes: decode and
 * validate, then apply the handlers and record the event id in the inbox in ONE
 * transaction, so a re-delivered event is recognised and skipped. Transient
 * failures are retried with back-off; a message that can never succeed goes to
 * the dead letters with the reason and the stream moves on.
 */
export class InboxDispatcher {
  private readonly handlers = new Map<EventCase, EventHandler<EventCase>[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly deadLetters: DeadLetterSink,
    private readonly opts: InboxOptions,
  ) {}

  get consumer(): string {
    return this.opts.consumer;
  }

  on<C extends EventCase>(eventCase: C, handler: EventHandler<C>): void {
    const list = this.handlers.get(eventCase) ?? [];
    list.push(handler as unknown as EventHandler<EventCase>);
    this.handlers.set(eventCase, list);
  }

  /** Topics this consumer must subscribe to. */
  topics(): string[] {
    return [...new Set([...this.handlers.keys()].map((c) => TOPIC_OF[c]))].sort();
  }

  /** Decodes and validates a message: what to apply, or the outcome already reached (dead-lettered, ignored). */
  private async prepare(message: InboundMessage): Promise<Omit<Ready, 'i'> | DispatchOutcome> {
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(message.value);
    } catch (err) {
      return this.reject(message, `undecodable message: ${(err as Error).message}`, 1);
    }
    const problem = envelopeProblem(envelope, message.topic);
    if (problem) return this.reject(message, `invalid envelope: ${problem}`, 1);
    const handlers = this.handlers.get(envelope.payload.case as EventCase);
    if (!handlers?.length) return this.done('ignored', message.topic);
    return { envelope, topic: message.topic, handlers };
  }

  async dispatch(message: InboundMessage): Promise<DispatchOutcome> {
    const prepared = await this.prepare(message);
    if (typeof prepared === 'string') return prepared;
    const { envelope, handlers } = prepared;

    return RequestContext.run(
      contextOf(envelope),
      async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            const applied = await this.applyOnce(envelope, message.topic, handlers);
            return this.done(applied ? 'processed' : 'duplicate', message.topic);
          } catch (err) {
            if (err instanceof PoisonMessageError) {
              return this.reject(message, `rejected by handler: ${err.message}`, attempt, envelope);
            }
            if (attempt >= this.opts.maxAttempts) {
              return this.reject(message, `failed after ${attempt} attempts: ${(err as Error).message}`, attempt, envelope);
            }
            const delay = backoffDelay(attempt, this.opts.retryBaseMs);
            this.opts.logger.warn(
              { err, consumer: this.consumer, eventId: envelope.id, attempt, delay },
              'event handler failed; retrying',
            );
            await sleep(delay);
          }
        }
      },
    );
  }

  /**
   * Several messages in ONE transaction: one inbox insert for all of them,
   * then their handlers in the order given, each under its own request
   * context. What a consumer applying thousands of events (lineage after a
   * recall) saves is a transaction, an inbox round trip and a commit flush
   * per event. If anything fails, the transaction rolls back and each message
   * goes through `dispatch` on its own, with its retries and its dead letter,
   * so one poison message costs its neighbours a second try, nothing more.
   */
  async dispatchBatch(messages: InboundMessage[]): Promise<DispatchOutcome[]> {
    if (messages.length === 1) return [await this.dispatch(messages[0])];
    const outcomes: DispatchOutcome[] = new Array(messages.length);
    const ready: Ready[] = [];
    for (let i = 0; i < messages.length; i++) {
      const prepared = await this.prepare(messages[i]);
      if (typeof prepared === 'string') outcomes[i] = prepared;
      else ready.push({ i, ...prepared });
    }
    if (ready.length === 0) return outcomes;
    let applied: Set<number>;
    try {
      applied = await this.applyMany(ready);
    } catch (err) {
      this.opts.logger.debug({ err, consumer: this.consumer, messages: ready.length }, 'batch failed; applying its messages one by one');
      for (const r of ready) outcomes[r.i] = await this.dispatch(messages[r.i]);
      return outcomes;
    }
    for (const r of ready) outcomes[r.i] = this.done(applied.has(r.i) ? 'processed' : 'duplicate', r.topic);
    return outcomes;
  }

  private async applyMany(ready: Ready[]): Promise<Set<number>> {
    return this.dataSource.transaction(async (manager) => {
      const inserted: { event_id: string }[] = await manager.query(
        `INSERT INTO inbox (consumer, event_id, topic, event_type)
         SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [this.consumer, ready.map((r) => r.envelope.id), ready.map((r) => r.topic), ready.map((r) => r.envelope.type)],
      );
      // The same event twice in one batch is inserted once: the first occurrence applies it.
      const fresh = new Set(inserted.map((r) => r.event_id.toLowerCase()));
      const applied = new Set<number>();
      for (const r of ready) {
        if (!fresh.delete(r.envelope.id.toLowerCase())) continue;
        const { envelope, handlers } = r;
        await RequestContext.run(contextOf(envelope), async () => {
          const payload = envelope.payload.value as never;
          for (const handler of handlers) await handler(payload, { envelope, manager });
        });
        applied.add(r.i);
      }
      return applied;
    });
  }

  private async applyOnce(envelope: EventEnvelope, topic: string, handlers: EventHandler<EventCase>[]): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO inbox (consumer, event_id, topic, event_type) VALUES ($1, $2, $3, $4)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [this.consumer, envelope.id, topic, envelope.type],
      );
      if (inserted.length === 0) return false;
      const payload = envelope.payload.value as never;
      for (const handler of handlers) await handler(payload, { envelope, manager });
      return true;
    });
  }

  private async reject(
    message: InboundMessage,
    reason: string,
    attempts: number,
    envelope?: EventEnvelope,
  ): Promise<DispatchOutcome> {
    this.opts.logger.error(
      { consumer: this.consumer, topic: message.topic, key: message.key, eventId: envelope?.id, reason },
      'message dead-lettered',
    );
    await this.deadLetters.deadLetter(message, this.consumer, reason, attempts);
    return this.done('dead-lettered', message.topic);
  }

  private done(outcome: DispatchOutcome, topic: string): DispatchOutcome {
    this.opts.onOutcome?.(outcome, topic);
    return outcome;
  }
}

/** Dead letters kept in the consumer's own schema (embedded mode, and the Kafka fallback). */
export class TableDeadLetterSink implements DeadLetterSink {
  constructor(private readonly dataSource: DataSource) {}

  async deadLetter(message: InboundMessage, consumer: string, reason: string, attempts: number): Promise<void> {
    let eventId: string | null = null;
    let eventType: string | null = null;
    try {
      const env = decodeEnvelope(message.value);
      eventId = env.id || null;
      eventType = env.type || null;
    } catch {
      // undecodable: keep the raw bytes only
    }
    await this.dataSource.query(
      `INSERT INTO dead_letters (consumer, topic, message_key, event_id, event_type, payload, reason, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [consumer, message.topic, message.key, eventId, eventType, message.value, reason.slice(0, 4000), attempts],
    );
  }
}
