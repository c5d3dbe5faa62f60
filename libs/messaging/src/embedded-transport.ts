import type { DeadLetterSink, DispatchFn, EventTransport, OutboundMessage } from './types';

interface Subscription {
  consumer: string;
  topics: Set<string>;
  dispatch: DispatchFn;
}

/**
 * In-process delivery for the embedded mode: publish hands each message to
 * every subscribed consumer and resolves only when all of them have either
 * applied it (inbox) or dead-lettered it. The relay marks rows sent only
 * then, so a crash mid-delivery re-delivers and the inboxes absorb it.
 */
export class EmbeddedTransport implements EventTransport {
  readonly kind = 'embedded' as const;
  private readonly subscriptions: Subscription[] = [];

  async publish(messages: OutboundMessage[]): Promise<void> {
    for (const m of messages) {
      for (const s of this.subscriptions) {
        if (!s.topics.has(m.topic)) continue;
        await s.dispatch({ topic: m.topic, key: m.key, value: m.value, headers: m.headers });
      }
    }
  }

  async subscribe(consumer: string, topics: string[], dispatch: DispatchFn): Promise<void> {
    if (this.subscriptions.some((s) => s.consumer === consumer)) {
      throw new Error(`consumer ${consumer} is already subscribed`);
    }
    this.subscriptions.push({ consumer, topics: new Set(topics), dispatch });
  }

  deadLetterSink(_consumer: string, table: DeadLetterSink): DeadLetterSink {
    return table;
  }

  async health() {
    return { ok: true, detail: 'in-process' };
  }

  async close(): Promise<void> {
    this.subscriptions.length = 0;
  }
}
