import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type PartitionMetadata, type EachBatchPayload, type EachMessagePayload, type IHeaders, type KafkaMessage, type Producer } from 'kafkajs';
import { deadLetterTopic } from '@trace/contracts';
import type { Logger } from '@trace/platform';
import type { BatchDispatchFn, DeadLetterSink, DispatchFn, EventTransport, InboundMessage, OutboundMessage } from './types';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Idempotent producer: on in production; the test broker cannot do it. */
  idempotent: boolean;
  logger: Logger;
  /**
   * Consumer lag after each processed batch: messages of the partition not yet
   * consumed by this group (high watermark of the fetch response minus the
   * next offset to consume). From the consumer's own fetches, so it needs no
   * admin API; a partition no longer assigned to this member is dropped (lag undefined).
   */
  onLag?: (consumerGroup: string, topic: string, partition: number, lag: number | undefined) => void;
  /**
   * Partitions a consumer works on at once (default 3): each partition stays
   * in order, and a recall's chunks (keyed by recall, domain and chunk) spread
   * over partitions are applied side by side instead of one after another.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * At most this many messages of one partition per dispatch when the
   * consumer takes batches (default 100): one inbox transaction for them,
   * then their offsets are committed.
   */
  batchSize?: number;
  /**
   * Prepended to every topic on the wire (KAFKA_TOPIC_PREFIX): services and
   * the inbox keep speaking of the contract's topic names.
   */
  topicPrefix?: string;
}

function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

/**
 * Kafka delivery via kafkajs. Publishing waits for all in-sync replicas
 * (acks = -1) before the relay may mark rows sent. Each service consumes in
 * its own consumer group; an offset is committed only after the dispatcher
 * has applied or dead-lettered the message, so a crash re-delivers.
 */
export class KafkaTransport implements EventTransport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private producer?: Producer;
  private producerReady?: Promise<Producer>;
  private readonly consumers: Consumer[] = [];
  private connected = false;
  private lastError?: string;
  /** Set once shutting down: a consumer that crashes then is not replaced. */
  private stopping = false;

  constructor(private readonly opts: KafkaTransportOptions) {
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => ({ namespace, level, log }) => {
        const { message, ...extra } = log;
        const fn = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
        opts.logger[fn]({ namespace, ...extra }, `kafka: ${message}`);
      },
      retry: { initialRetryTime: 100, retries: 8 },
    });
  }

  private getProducer(): Promise<Producer> {
    if (!this.producerReady) {
      const producer = this.kafka.producer({
        idempotent: this.opts.idempotent,
        // One request in flight per broker, idempotent or not: kafkajs implements idempotence as
        // KIP-98 first specified it and does not reassign sequence numbers when one of several
        // in-flight batches fails (KAFKA-5494). The relay sends one batch at a time anyway.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        // Murmur2 as the Java client: the same key lands on the same partition whichever client wrote it.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producer.on(producer.events.CONNECT, () => (this.connected = true));
      producer.on(producer.events.DISCONNECT, () => (this.connected = false));
      this.producerReady = producer.connect().then(
        () => (this.producer = producer),
        (err) => {
          this.producerReady = undefined;
          this.lastError = (err as Error).message;
          throw err;
        },
      );
    }
    return this.producerReady;
  }

  private wire(topic: string): string {
    return (this.opts.topicPrefix ?? '') + topic;
  }

  private contract(wireTopic: string): string {
    const prefix = this.opts.topicPrefix ?? '';
    return prefix && wireTopic.startsWith(prefix) ? wireTopic.slice(prefix.length) : wireTopic;
  }

  /**
   * Sends each partition's messages in a request of their own (in parallel).
   * kafkajs' sendBatch over several brokers keeps the answer of a broker that
   * succeeded and, on its retry, skips every broker that already answered —
   * also when a partition whose leader died has moved to that broker in the
   * meantime: its messages are then never sent, and the call resolves
   * (kafkajs 2.2.4, sendMessages.js). Killing a partition leader on a
   * three-node cluster lost 24-35 of 10,000 events that way. One partition a
   * call is one broker a call, so a retry has nothing to skip. Partitions are
   * chosen as kafkajs would (its default, Java-compatible partitioner, from
   * the topic's partition list); the list is fetched again after a failure.
   */
  async publish(messages: OutboundMessage[]): Promise<void> {
    const producer = await this.getProducer();
    const byPartition = new Map<string, { topic: string; partition: number | undefined; messages: OutboundMessage[] }>();
    try {
      for (const m of messages) {
        const topic = this.wire(m.topic);
        const partitionMetadata = await this.partitionsOf(topic);
        // A topic not created yet (a broker that creates topics on first use): kafkajs picks the partition.
        const partition = partitionMetadata ? this.partitioner({ topic, partitionMetadata, message: { key: m.key, value: m.value } }) : undefined;
        const at = `${topic}\u0000${partition ?? '*'}`;
        const group = byPartition.get(at) ?? { topic, partition, messages: [] };
        group.messages.push(m);
        byPartition.set(at, group);
      }
      await Promise.all(
        [...byPartition.values()].map((g) =>
          producer.send({
            topic: g.topic,
            acks: -1,
            messages: g.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: g.partition })),
          }),
        ),
      );
    } catch (err) {
      this.partitionLists.clear();
      await this.discardProducer(producer, err);
      throw err;
    }
  }

  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitionLists = new Map<string, PartitionMetadata[]>();
  private adminReady?: Promise<Admin>;

  private async partitionsOf(topic: string): Promise<PartitionMetadata[] | undefined> {
    const known = this.partitionLists.get(topic);
    if (known) return known;
    if (!this.adminReady) {
      const admin = this.kafka.admin();
      this.adminReady = admin.connect().then(
        () => admin,
        (err) => {
          this.adminReady = undefined;
          throw err;
        },
      );
    }
    const admin = await this.adminReady;
    let partitions: PartitionMetadata[] = [];
    try {
      partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
    } catch (err) {
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    if (partitions.length === 0) return undefined;
    this.partitionLists.set(topic, partitions);
    return partitions;
  }

  /**
   * After a failed send the idempotent producer's sequence numbers no longer
   * match the broker's (kafkajs advances them for a batch that never landed),
   * and every later send fails with OUT_OF_ORDER_SEQUENCE_NUMBER: found on a
   * three-node cluster when a partition leader was killed. A new producer gets
   * a new producer id and starts its sequences afresh; the relay sends the
   * unmarked rows again and the inboxes absorb what had landed.
   */
  private async discardProducer(producer: Producer, err: unknown): Promise<void> {
    if (this.producer !== producer) return;
    this.lastError = (err as Error).message;
    this.producer = undefined;
    this.producerReady = undefined;
    await producer.disconnect().catch(() => undefined);
  }

  async subscribe(consumerGroup: string, topics: string[], dispatch: DispatchFn, dispatchBatch?: BatchDispatchFn): Promise<void> {
    if (topics.length === 0) return;
    await this.startConsumer(consumerGroup, topics, dispatch, dispatchBatch);
  }

  /**
   * A consumer that kafkajs gives up on (retries exhausted while a broker is
   * gone) is replaced by a new one instead of kafkajs' own restart: on a
   * three-node cluster whose partition leader was killed, the restarted
   * consumer sat silent with messages waiting. The new member rejoins the group
   * and resumes from the committed offsets; the inbox absorbs any re-delivery.
   */
  private async startConsumer(consumerGroup: string, topics: string[], dispatch: DispatchFn, dispatchBatch?: BatchDispatchFn): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: consumerGroup,
      allowAutoTopicCreation: true,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // Short long-polls: lower latency when idle and a quick, clean disconnect.
      maxWaitTimeInMs: 1_000,
      // Until it has joined its group kafkajs restarts it (a cluster still electing its group
      // coordinator answers "loading" for a while); after that a crash is this transport's to handle.
      retry: { initialRetryTime: 200, retries: 8, restartOnFailure: async () => !member },
    });
    this.consumers.push(consumer);
    let member = false;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopping) return;
      this.opts.logger.warn({ consumerGroup, err: payload.error?.message }, 'kafka consumer crashed; replacing it');
      void this.replaceConsumer(consumer, consumerGroup, topics, dispatch, dispatchBatch);
    });
    const onLag = this.opts.onLag;
    if (onLag) {
      const assigned = new Set<string>();
      // Before a batch: its own messages count (a batch stuck in retries shows as lag);
      // after it: only what the fetch response said lies beyond it.
      // Labelled with the contract's topic names: a prefixed deployment's dashboards read the same.
      consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
        assigned.add(`${this.contract(payload.topic)}\u0000${payload.partition}`);
        onLag(consumerGroup, this.contract(payload.topic), payload.partition, Math.max(0, Number(payload.offsetLagLow) + 1));
      });
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        onLag(consumerGroup, this.contract(payload.topic), payload.partition, Math.max(0, Number(payload.offsetLag)));
      });
      // After a rebalance, partitions that went to other members are theirs to report.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const now = new Set(Object.entries(payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${this.contract(t)}\u0000${p}`)));
        for (const key of assigned) {
          if (now.has(key)) continue;
          const [topic, partition] = key.split('\u0000');
          onLag(consumerGroup, topic, Number(partition), undefined);
          assigned.delete(key);
        }
      });
    }
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        member = true;
        resolve();
      });
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: topics.map((t) => this.wire(t)), fromBeginning: true });
      const inbound = (topic: string, partition: number, message: KafkaMessage): InboundMessage => ({
        topic: this.contract(topic),
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: message.value ?? Buffer.alloc(0),
        headers: headersToRecord(message.headers),
      });
      const size = Math.max(1, this.opts.batchSize ?? 100);
      await consumer.run({
        autoCommit: true,
        partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
        // The dispatchers throw only when even dead-lettering failed: kafkajs then retries
        // from the last resolved offset instead of skipping anything.
        ...(dispatchBatch
          ? {
              // Offsets are resolved run by run, never for a whole fetch before it is applied.
              eachBatchAutoResolve: false,
              eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
                for (let at = 0; at < batch.messages.length; at += size) {
                  if (!isRunning() || isStale()) return;
                  const run = batch.messages.slice(at, at + size);
                  await dispatchBatch(run.map((m) => inbound(batch.topic, batch.partition, m)));
                  resolveOffset(run[run.length - 1].offset);
                  await heartbeat();
                }
              },
            }
          : {
              eachMessage: async ({ topic, partition, message }: EachMessagePayload) => {
                await dispatch(inbound(topic, partition, message));
              },
            }),
      });
      await joined;
    } catch (err) {
      const at = this.consumers.indexOf(consumer);
      if (at >= 0) this.consumers.splice(at, 1);
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private async replaceConsumer(old: Consumer, consumerGroup: string, topics: string[], dispatch: DispatchFn, dispatchBatch?: BatchDispatchFn): Promise<void> {
    const at = this.consumers.indexOf(old);
    if (at >= 0) this.consumers.splice(at, 1);
    await old.disconnect().catch(() => undefined);
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))));
      if (this.stopping) return;
      try {
        await this.startConsumer(consumerGroup, topics, dispatch, dispatchBatch);
        return;
      } catch (err) {
        this.opts.logger.warn({ consumerGroup, err: (err as Error).message, attempt }, 'kafka consumer could not be replaced yet; trying again');
      }
    }
  }

  deadLetterSink(): DeadLetterSink {
    return {
      deadLetter: async (message, consumer, reason, attempts) => {
        const producer = await this.getProducer();
        await producer.send({
          topic: this.wire(deadLetterTopic(message.topic)),
          acks: -1,
          messages: [
            {
              key: message.key,
              value: message.value,
              headers: {
                ...message.headers,
                'dlq-reason': reason.slice(0, 4000),
                'dlq-consumer': consumer,
                'dlq-attempts': String(attempts),
                'dlq-original-topic': message.topic,
                'dlq-original-partition': String(message.partition ?? ''),
                'dlq-original-offset': String(message.offset ?? ''),
              },
            },
          ],
        });
      },
    };
  }

  async health() {
    if (this.connected) return { ok: true };
    try {
      await this.getProducer();
      return { ok: this.connected, detail: this.connected ? undefined : 'producer not connected' };
    } catch (err) {
      return { ok: false, detail: this.lastError ?? (err as Error).message };
    }
  }

  async stopConsuming(): Promise<void> {
    this.stopping = true;
    // consumer.stop() waits for the batch being processed, commits and leaves the group.
    await Promise.allSettled(this.consumers.map((c) => c.stop()));
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    this.consumers.length = 0;
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
    const admin = this.adminReady;
    this.adminReady = undefined;
    this.partitionLists.clear();
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
    this.producer = undefined;
    this.producerReady = undefined;
  }
}
