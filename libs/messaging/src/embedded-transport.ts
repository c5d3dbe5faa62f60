import type { DeadLetterSink, DispatchFn, EventTransport, OutboundMessage } from './types';

interface Subscription {
  consumer: string;
  topics: Set<string>;
  dispatch: DispatchFn;
}

export interface EmbeddedTransportOptions {
  /**
   * How many deliveries may run at once (default 4). Messages with the same
   * key always go to a consumer one after the other, in the order published;
   * messages with different keys, and different consumers, may overlap — the
   * guarantees Kafka gives with partitions keyed the same way, and what lets a
   * recall's chunks for several domains, or ten thousand trace events for
   * lineage, use more than one database connection. 1 delivers strictly in
   * order, one message and one consumer at a time.
   */
  concurrency?: number;
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
  private readonly concurrency: number;

  constructor(options: EmbeddedTransportOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (this.concurrency === 1) {
      for (const m of messages) {
        for (const s of this.subscriptions) {
          if (!s.topics.has(m.topic)) continue;
          await s.dispatch({ topic: m.topic, key: m.key, value: m.value, headers: m.headers });
        }
      }
      return;
    }
    // One lane per consumer and key, in publish order; lanes run side by side.
    const lanes: { s: Subscription; messages: OutboundMessage[] }[] = [];
    for (const s of this.subscriptions) {
      const byKey = new Map<string, OutboundMessage[]>();
      for (const m of messages) {
        if (!s.topics.has(m.topic)) continue;
        let lane = byKey.get(m.key);
        if (!lane) {
          lane = [];
          byKey.set(m.key, lane);
          lanes.push({ s, messages: lane });
        }
        lane.push(m);
      }
    }
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (!failure && next < lanes.length) {
        const { s, messages: lane } = lanes[next++];
        for (const m of lane) {
          try {
            await s.dispatch({ topic: m.topic, key: m.key, value: m.value, headers: m.headers });
          } catch (error) {
            // The rest of this lane must wait for the re-delivery, in order; other lanes finish what they started.
            failure ??= { error };
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, lanes.length) }, worker));
    if (failure) throw failure.error;
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
