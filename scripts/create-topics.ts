/**
 * One-shot topic creation for a Kafka cluster where topics are not created
 * on first use (scripts/dev/up.sh, docker-compose.yml's kafka-init job, any
 * managed cluster): every topic of libs/contracts' Topics and its dead-letter
 * twin, through the admin API.
 *
 *   KAFKA_BROKERS=kafka:9092 [TOPIC_PARTITIONS=6] [TOPIC_REPLICATION_FACTOR=1] \
 *     [KAFKA_TOPIC_PREFIX=staging.] node scripts/run.js scripts/create-topics.ts
 *
 * Idempotent: existing topics are left alone (a topic with fewer partitions
 * than asked is reported, not changed: adding partitions moves keys).
 * Exits 0 once every topic exists.
 */
import { createTopics, topicPlan } from '@trace/messaging';

export { topicPlan, type TopicSpec } from '@trace/messaging';

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
  const prefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
  if (!/^[A-Za-z0-9._-]{0,100}$/.test(prefix)) {
    console.error('KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-"');
    process.exit(78);
  }
  const plan = topicPlan(positiveInt('TOPIC_PARTITIONS', 6), positiveInt('TOPIC_REPLICATION_FACTOR', 1), prefix);
  const wanted = new Map(plan.map((t) => [t.topic, t.numPartitions]));
  for (const r of await createTopics(brokers.split(','), plan)) {
    const note = r.note === 'fewer-partitions' ? `exists with FEWER partitions than ${wanted.get(r.topic)}` : r.note;
    console.log(`${r.topic}: ${r.partitions} partitions, ${note}`);
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
