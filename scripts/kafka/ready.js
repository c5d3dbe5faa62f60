// Waits until a Kafka cluster accepts produce requests with acks=all on a topic
// replicated to `rf` nodes. Usage: node ready.js host:port,… rf [timeoutSeconds]
const { Kafka, logLevel } = require('kafkajs');
const [brokers, rfArg, timeoutArg] = process.argv.slice(2);
const rf = Number(rfArg || 1);
const deadline = Date.now() + Number(timeoutArg || 120) * 1000;
const kafka = new Kafka({ clientId: 'trace-kafka-ready', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });

async function attempt() {
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes('_trace_ready')) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: '_trace_ready', numPartitions: 1, replicationFactor: rf }] });
    }
    await producer.connect();
    await producer.send({ topic: '_trace_ready', acks: -1, messages: [{ value: String(Date.now()) }] });
    return true;
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

(async () => {
  let last;
  while (Date.now() < deadline) {
    try {
      if (await attempt()) return process.exit(0);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`Kafka at ${brokers} not ready: ${last && last.message}`);
  process.exit(1);
})();
