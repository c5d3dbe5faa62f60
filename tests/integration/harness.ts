import { randomUUID } from 'node:crypto';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createEnvelope, encodeEnvelope, EVENT_TYPE_NAMES, timestampFromDate, TOPIC_OF, type EventCase, type PayloadInit } from '@trace/contracts';
import {
  EmbeddedTransport,
  InboxDispatcher,
  KafkaTransport,
  MESSAGING_MIGRATIONS,
  Outbox,
  outboxChannel,
  OutboxRelay,
  TableDeadLetterSink,
  type DispatchOutcome,
  type EventTransport,
  type InboundMessage,
  type OutboundMessage,
} from '@trace/messaging';
import { createLogger, createServiceDataSource, initializeServiceDatabase, schemaFor } from '@trace/platform';
import { dropSchemas, dropTopics, KafkaMockCluster, sharedKafka, testDatabaseUrl, uniquePrefix } from '@trace/testing';

export const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** A deliberately non-idempotent effect: applying an event twice would count twice. */
class EffectsTable1700000000000 implements MigrationInterface {
  name = 'EffectsTable1700000000000';
  async up(q: QueryRunner) {
    await q.query(`CREATE TABLE effects (subject text PRIMARY KEY, applied int NOT NULL DEFAULT 0)`);
    await q.query(`CREATE TABLE state (id text PRIMARY KEY, value text NOT NULL)`);
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE effects');
    await q.query('DROP TABLE state');
  }
}

export interface TestService {
  name: string;
  schema: string;
  ds: DataSource;
  outbox: Outbox;
  relay: OutboxRelay;
  inbox: InboxDispatcher;
  outcomes: DispatchOutcome[];
}

export interface RelayFaults {
  afterPublish?: (messages: OutboundMessage[]) => void | Promise<void>;
}

export async function startTestService(
  name: string,
  prefix: string,
  transport: EventTransport,
  faults: RelayFaults = {},
): Promise<TestService> {
  const url = testDatabaseUrl();
  const schema = schemaFor(name, prefix);
  const ds = createServiceDataSource({
    service: name,
    schemaPrefix: prefix,
    url,
    poolSize: 6,
    entities: [],
    migrations: [...MESSAGING_MIGRATIONS, EffectsTable1700000000000],
  });
  await initializeServiceDatabase(ds);
  const outcomes: DispatchOutcome[] = [];
  const inbox = new InboxDispatcher(ds, transport.deadLetterSink(name, new TableDeadLetterSink(ds)), {
    consumer: name,
    maxAttempts: 4,
    retryBaseMs: 20,
    logger,
    onOutcome: (o) => outcomes.push(o),
  });
  const relay = new OutboxRelay(ds, transport, {
    service: name,
    schema,
    databaseUrl: url,
    notifyChannel: outboxChannel(schema),
    pollMs: 50,
    batchSize: 100,
    logger,
    afterPublish: faults.afterPublish,
  });
  return { name, schema, ds, outbox: new Outbox(name, outboxChannel(schema)), relay, inbox, outcomes };
}

export type Mode = 'embedded' | 'kafka';

export interface TransportFixture {
  transport: EventTransport;
  /** Brokers of the Kafka transport: the run's real broker, or this test's mock cluster. */
  brokers?: string[];
  /** Prefix of this test's topics on a shared broker ('' on a private mock). */
  topicPrefix: string;
  cluster?: KafkaMockCluster;
  stop(): Promise<void>;
}

/**
 * `kafka` is the run's real Apache Kafka (KAFKA_BROKERS, as CI and
 * scripts/dev/up.sh start it) with the idempotent producer on and topics of
 * this test's own, created through the admin API; without KAFKA_BROKERS, a
 * private librdkafka mock cluster. `kafka-mock` is always the mock: the tests
 * that inject broker faults need its controls.
 */
export async function startTransport(mode: Mode | 'kafka-mock', prefix = uniquePrefix()): Promise<TransportFixture> {
  if (mode === 'embedded') {
    const transport = new EmbeddedTransport();
    return { transport, topicPrefix: '', stop: () => transport.close() };
  }
  const real = mode === 'kafka' ? await sharedKafka(prefix) : undefined;
  if (real) {
    const transport = new KafkaTransport({ brokers: real.brokers, clientId: 'test', idempotent: true, topicPrefix: real.topicPrefix, logger });
    return {
      transport,
      brokers: real.brokers,
      topicPrefix: real.topicPrefix,
      stop: async () => {
        await transport.close();
        await dropTopics(real);
      },
    };
  }
  const cluster = await KafkaMockCluster.start();
  const transport = new KafkaTransport({ brokers: cluster.brokers, clientId: 'test', idempotent: false, logger });
  return {
    transport,
    brokers: cluster.brokers,
    topicPrefix: '',
    cluster,
    stop: async () => {
      await transport.close();
      await cluster.stop();
    },
  };
}

/** The producing side's state change: a row and its event, in one transaction. */
export async function changeStateAndEmit(svc: TestService, id: string, orgId = 'org-a'): Promise<string> {
  return svc.ds.transaction(async (m) => {
    await m.query('INSERT INTO state (id, value) VALUES ($1, $2)', [id, 'registered']);
    const env = await svc.outbox.append(
      m,
      'batchRegistered',
      { batch: { domain: 1, batchId: id }, gtin: '09506000134352', lot: `L-${id.slice(0, 8)}`, ownerOrgId: orgId },
      { subject: id, orgId },
    );
    return env.id;
  });
}

/** The consuming side's effect: counts how often each subject was applied. */
export function countEffects(svc: TestService): void {
  svc.inbox.on('batchRegistered', async (e, { manager }) => {
    await manager.query(
      `INSERT INTO effects (subject, applied) VALUES ($1, 1)
       ON CONFLICT (subject) DO UPDATE SET applied = effects.applied + 1`,
      [e.batch?.batchId],
    );
  });
}

export async function effects(svc: TestService): Promise<Map<string, number>> {
  const rows: { subject: string; applied: number }[] = await svc.ds.query('SELECT subject, applied FROM effects');
  return new Map(rows.map((r) => [r.subject, r.applied]));
}

export async function unsent(svc: TestService): Promise<number> {
  const [{ n }] = await svc.ds.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL');
  return n;
}

/** A producing and a consuming service joined by one transport: the setup every backbone test starts from. */
export interface BackbonePair {
  prefix: string;
  fx: TransportFixture;
  producer: TestService;
  consumer: TestService;
  stop(): Promise<void>;
}

export async function startBackbonePair(mode: Mode | 'kafka-mock'): Promise<BackbonePair> {
  const prefix = uniquePrefix();
  const fx = await startTransport(mode, prefix);
  const producer = await startTestService('agri', prefix, fx.transport);
  const consumer = await startTestService('lineage', prefix, fx.transport);
  countEffects(consumer);
  // Wired as the services wire it: the transport may hand over runs of messages. A group of the
  // test's own, as a deployment's services get one per schema prefix: tests share the run's broker.
  await fx.transport.subscribe(
    `${prefix}${consumer.name}`,
    consumer.inbox.topics(),
    (m) => consumer.inbox.dispatch(m),
    (ms) => consumer.inbox.dispatchBatch(ms),
  );
  return {
    prefix,
    fx,
    producer,
    consumer,
    stop: async () => {
      await producer.relay.stop();
      await fx.stop();
      await producer.ds.destroy();
      await consumer.ds.destroy();
      await dropSchemas(testDatabaseUrl(), prefix);
    },
  };
}

/** An inbound message of one event, as a relay would hand it to a consumer (agri's, of org-1, keyed batch-1). */
export function inboundMessage<C extends EventCase>(eventCase: C, payload: PayloadInit<C>): InboundMessage {
  return {
    topic: TOPIC_OF[eventCase],
    key: 'batch-1',
    headers: {},
    value: Buffer.from(
      encodeEnvelope(
        createEnvelope({
          id: randomUUID(),
          type: EVENT_TYPE_NAMES[eventCase],
          version: 1,
          source: 'agri',
          orgId: 'org-1',
          subject: 'batch-1',
          occurredAt: timestampFromDate(new Date()),
          payload: { case: eventCase, value: payload } as never,
        }),
      ),
    ),
  };
}
