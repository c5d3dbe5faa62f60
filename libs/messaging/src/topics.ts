import { Kafka, logLevel } from 'kafkajs';
import { deadLetterTopic, Topics } from '@trace/contracts';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

const DAY_MS = 86_400_000;

/**
 * The topics the services use, with their settings (dead letters: fewer
 * partitions, kept two weeks). `prefix` is KAFKA_TOPIC_PREFIX: the names on
 * the wire of a deployment that shares its cluster.
 */
export function topicPlan(partitions: number, replicationFactor: number, prefix = ''): TopicSpec[] {
  // Two in-sync replicas where there are three: one broker may be down without stopping writes,
  // and an acknowledged event is never on a single disk.
  const minIsr = String(Math.min(2, Math.max(1, replicationFactor - 1)));
  return Object.values(Topics).flatMap((topic) => [
    {
      topic: prefix + topic,
      numPartitions: partitions,
      replicationFactor,
      configEntries: [
        { name: 'min.insync.replicas', value: minIsr },
        { name: 'retention.ms', value: String(7 * DAY_MS) },
      ],
    },
    {
      topic: prefix + deadLetterTopic(topic),
      numPartitions: Math.min(partitions, 3),
      replicationFactor,
      configEntries: [
        { name: 'min.insync.replicas', value: minIsr },
        { name: 'retention.ms', value: String(14 * DAY_MS) },
      ],
    },
  ]);
}

export interface TopicReport {
  topic: string;
  partitions: number;
  note: 'created' | 'exists' | 'fewer-partitions';
}

/**
 * Creates every missing topic of the plan through the admin API and waits for
 * their leaders. Idempotent: existing topics are left alone (a topic with fewer
 * partitions than planned is reported, not changed: adding partitions moves keys).
 */
export async function createTopics(brokers: string[], plan: TopicSpec[], clientId = 'trace-create-topics'): Promise<TopicReport[]> {
  const admin = new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    // The broker may still be electing its controller right after start-up.
    retry: { initialRetryTime: 500, retries: 10 },
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = plan.filter((t) => !existing.has(t.topic));
    // A broker back from a restart answers "unknown topic" to the leader wait for a moment: a
    // repeat creates only what is still missing and waits again.
    await withRetries(async () => {
      const now = new Set(await admin.listTopics());
      const todo = missing.filter((t) => !now.has(t.topic));
      if (todo.length) await admin.createTopics({ topics: todo, waitForLeaders: true });
    });
    const meta = await withRetries(() => admin.fetchTopicMetadata({ topics: plan.map((t) => t.topic) }));
    return plan.map((t) => {
      const have = meta.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
      const note = missing.includes(t) ? 'created' : have < t.numPartitions ? 'fewer-partitions' : 'exists';
      return { topic: t.topic, partitions: have, note };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Right after creation (or a broker's return) a broker may not know a new topic yet for a moment. */
async function withRetries<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * Math.min(i, 4)));
    }
  }
}
