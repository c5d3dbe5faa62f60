import { createTopics, topicPlan } from '@trace/messaging';

/** Where a test's Kafka traffic goes on the broker of the run (KAFKA_BROKERS). */
export interface SharedKafka {
  brokers: string[];
  /** KAFKA_TOPIC_PREFIX of this test: its own topics, so runs on one cluster never read each other's events. */
  topicPrefix: string;
  /** The real broker has the idempotent producer, the production default: tests keep it on. */
  idempotent: true;
}

/** The real Apache Kafka of the run (scripts/kafka/start.sh), or undefined when KAFKA_BROKERS is not set. */
export function realKafkaBrokers(): string[] | undefined {
  const b = process.env.KAFKA_BROKERS;
  return b ? b.split(',') : undefined;
}

/**
 * Creates this test's topics (every contract topic and its dead-letter twin,
 * under `prefix`) on the run's broker, through the admin API as
 * scripts/create-topics.ts does, with the replication the cluster allows
 * (KAFKA_TEST_REPLICATION, default 1).
 */
export async function sharedKafka(prefix: string, partitions = 3): Promise<SharedKafka | undefined> {
  const brokers = realKafkaBrokers();
  if (!brokers) return undefined;
  const topicPrefix = prefix.endsWith('.') || prefix.endsWith('_') ? prefix : `${prefix}.`;
  const rf = Number(process.env.KAFKA_TEST_REPLICATION ?? 1);
  await createTopics(brokers, topicPlan(partitions, rf, topicPrefix), 'trace-test-topics');
  return { brokers, topicPrefix, idempotent: true };
}

/** Deletes a test's topics again, so a long run does not pile up partitions on the broker. */
export async function dropTopics(kafka: SharedKafka | undefined): Promise<void> {
  if (!kafka) return;
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'trace-test-topics', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(kafka.topicPrefix));
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
