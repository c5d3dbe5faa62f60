import { Topics } from '@trace/contracts';
import type { BatchDispatchFn, DeadLetterSink, DispatchFn, EventTransport, OutboundMessage } from './types';

interface Subscription {
  consumer: string;
  topics: Set<string>;
  dispatch: DispatchFn;
  dispatchBatch?: BatchDispatchFn;
}

/** A string's bucket among `n`: the same key always lands in the same one. */
function bucketOf(key: string, n: number): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h >>> 0) % n;
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
  /**
   * Topics whose deliveries take the next free slot before anything else
   * waiting (default: the recall topic). In one process every consumer shares
   * the same cores: a recall must not queue behind ten thousand trace events
   * for the read models, which may lag a few seconds without harm.
   */
  priorityTopics?: string[];
  /**
   * At most this many messages per batch for a consumer that takes batches
   * (default 100): one transaction applies them. Priority-topic messages
   * always go alone: each is already a chunk of work that must not wait.
   */
  batchSize?: number;
}

/**
 * Delivery slots shared by every publish of this transport (every relay of
 * the process), so `concurrency` bounds the process, not each relay; a freed
 * slot goes to a waiting priority delivery first, then in arrival order.
 */
class Slots {
  private readonly waiting: { high: boolean; resolve: () => void }[] = [];

  constructor(private free: number) {}

  acquire(high: boolean): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ high, resolve }));
  }

  release(): void {
    const i = this.waiting.findIndex((w) => w.high);
    const next = i >= 0 ? this.waiting.splice(i, 1)[0] : this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }
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
  private readonly slots: Slots;
  private readonly priority: Set<string>;
  private readonly batchSize: number;
  /** Priority deliveries waiting for a slot or running. */
  private urgent = 0;

  constructor(options: EmbeddedTransportOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 100));
    this.slots = new Slots(this.concurrency);
    this.priority = new Set(options.priorityTopics ?? [Topics.recall]);
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (this.concurrency === 1) {
      for (const m of messages) {
        for (const s of this.subscriptions) {
          if (!s.topics.has(m.topic)) continue;
          await this.slots.acquire(this.priority.has(m.topic));
          try {
            await s.dispatch({ topic: m.topic, key: m.key, value: m.value, headers: m.headers });
          } finally {
            this.slots.release();
          }
        }
      }
      return;
    }
    // One lane per consumer and key, in publish order; lanes run side by side.
    // A consumer taking batches gets `concurrency` lanes instead, keys spread
    // over them by hash: a key's messages still go in order, in one lane.
    const lanes: { s: Subscription; messages: OutboundMessage[] }[] = [];
    for (const s of this.subscriptions) {
      if (s.dispatchBatch) {
        const buckets: OutboundMessage[][] = Array.from({ length: this.concurrency }, () => []);
        for (const m of messages) if (s.topics.has(m.topic)) buckets[bucketOf(m.key, this.concurrency)].push(m);
        for (const lane of buckets) if (lane.length) lanes.push({ s, messages: lane });
        continue;
      }
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
    let failure: { error: unknown } | undefined;
    const run = async ({ s, messages: lane }: { s: Subscription; messages: OutboundMessage[] }) => {
      let started = false;
      for (const step of this.steps(s, lane)) {
        // After a failure no new lane starts (the relay re-delivers the batch); one under way finishes.
        if (failure && !started) return;
        const high = this.priority.has(step[0].topic);
        if (high) this.urgent++;
        await this.slots.acquire(high);
        try {
          if (failure && !started) return;
          started = true;
          const inbound = step.map((m) => ({ topic: m.topic, key: m.key, value: m.value, headers: m.headers }));
          if (step.length === 1 || !s.dispatchBatch) await s.dispatch(inbound[0]);
          else await s.dispatchBatch(inbound);
        } catch (error) {
          // The rest of this lane must wait for the re-delivery, in order; other lanes finish what they started.
          failure ??= { error };
          return;
        } finally {
          this.slots.release();
          if (high) this.urgent--;
        }
      }
    };
    await Promise.all(lanes.map(run));
    if (failure) throw failure.error;
  }

  /** A lane in delivery steps: batches of up to `batchSize` for a consumer taking them, a priority message alone. */
  private *steps(s: Subscription, lane: OutboundMessage[]): Generator<OutboundMessage[]> {
    if (!s.dispatchBatch) {
      for (const m of lane) yield [m];
      return;
    }
    let batch: OutboundMessage[] = [];
    for (const m of lane) {
      if (this.priority.has(m.topic)) {
        if (batch.length) yield batch;
        batch = [];
        yield [m];
        continue;
      }
      batch.push(m);
      // While a priority delivery waits or runs, one message at a time: a batch is denser work
      // (it catches a read model up twice as fast) that would take the cores a recall needs.
      if (batch.length === this.batchSize || this.urgent > 0) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  async subscribe(consumer: string, topics: string[], dispatch: DispatchFn, dispatchBatch?: BatchDispatchFn): Promise<void> {
    if (this.subscriptions.some((s) => s.consumer === consumer)) {
      throw new Error(`consumer ${consumer} is already subscribed`);
    }
    this.subscriptions.push({ consumer, topics: new Set(topics), dispatch, dispatchBatch });
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
