/**
 * One-shot topic creation for a Kafka cluster where topics are not created
 * on first use (docker-compose.yml's kafka-init job; any managed cluster):
 * every topic of libs/contracts' Topics and its dead-letter twin.
 *
 *   KAFKA_BROKERS=kafka:9092 [TOPIC_PARTITIONS=6] [TOPIC_REPLICATION_FACTOR=1] \
 *     node scripts/run.js scripts/create-topics.ts
 *
 * Idempotent: existing topics are left alone (a topic with fewer partitions
 * than asked is reported, not changed: adding partitions moves keys).
 * Exits 0 once every topic exists.
 */
import { Kafka, logLevel } from 'kafkajs';
import { deadLetterTopic, Topics } from '@trace/contracts';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

const DAY_MS = 86_400_000;

/** The topics the services use, with their settings (dead letters: fewer partitions, kept two weeks). */
export function topicPlan(partitions: number, replicationFactor: number): TopicSpec[] {
  const minIsr = String(Math.min(2, Math.max(1, replicationFactor - 1)));
  return Object.values(Topics).flatMap((topic) => [
    {
      topic,
      numPartitions: partitions,
      replicationFactor,
      configEntries: [
        { name: 'min.insync.replicas', value: minIsr },
        { name: 'retention.ms', value: String(7 * DAY_MS) },
      ],
    },
    {
      topic: deadLetterTopic(topic),
      numPartitions: Math.min(partitions, 3),
      replicationFactor,
      configEntries: [
        { name: 'min.insync.replicas', value: minIsr },
        { name: 'retention.ms', value: String(14 * DAY_MS) },
      ],
    },
  ]);
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got "${raw}"`);
    process.exit(78);
  }
  return n;
}

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.error('KAFKA_BROKERS is required (host:port,…)');
    process.exit(78);
  }
  const plan = topicPlan(positiveInt('TOPIC_PARTITIONS', 6), positiveInt('TOPIC_REPLICATION_FACTOR', 1));
  const admin = new Kafka({
    clientId: 'trace-create-topics',
    brokers: brokers.split(','),
    logLevel: logLevel.WARN,
    // The broker may still be electing its controller right after start-up.
    retry: { initialRetryTime: 500, retries: 10 },
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = plan.filter((t) => !existing.has(t.topic));
    if (missing.length) await admin.createTopics({ topics: missing, waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: plan.map((t) => t.topic) });
    for (const t of plan) {
      const have = meta.topics.find((m) => m.name === t.topic)?.partitions.length ?? 0;
      const note = missing.includes(t) ? 'created' : have < t.numPartitions ? `exists with FEWER partitions than ${t.numPartitions}` : 'exists';
      console.log(`${t.topic}: ${have} partitions, ${note}`);
    }
  } finally {
    await admin.disconnect();
  }
}

// Run directly (compiled, in the image: node dist/scripts/create-topics.js) or
// through scripts/run.js; not when a test imports topicPlan().
if (require.main === module || /create-topics\.ts$/.test(process.argv[2] ?? '')) {
  main().catch((err) => {
    console.error(`topic creation failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
