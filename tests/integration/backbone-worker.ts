/**
 * One side of the event backbone as its own process, so a fault test can
 * kill -9 it for real (tests/integration/kafka-cluster-faults.int.ts):
 *
 *   ROLE=relay     the producing service's outbox relay (agri schema)
 *   ROLE=consumer  the consuming service's inbox, counting effects (lineage schema)
 *
 * Env: DB_PREFIX, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, DATABASE_URL; for the relay,
 * KILL_AFTER_PUBLISH=N kills this process with SIGKILL right after its N-th
 * publish, before the rows are marked sent. Prints "ready" once it works.
 */
import { KafkaTransport } from '@trace/messaging';
import { countEffects, logger, startTestService } from './harness';

async function main(): Promise<void> {
  const role = process.env.ROLE;
  const prefix = process.env.DB_PREFIX ?? '';
  const transport = new KafkaTransport({
    brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
    clientId: `fault-${role}`,
    idempotent: true,
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? '',
    logger,
  });
  if (role === 'relay') {
    const killAfter = Number(process.env.KILL_AFTER_PUBLISH ?? 0);
    let published = 0;
    const svc = await startTestService('agri', prefix, transport, {
      afterPublish: () => {
        published += 1;
        if (killAfter && published >= killAfter) process.kill(process.pid, 'SIGKILL');
      },
    });
    svc.relay.start();
  } else if (role === 'consumer') {
    const svc = await startTestService('lineage', prefix, transport);
    countEffects(svc);
    await transport.subscribe(`${prefix}${svc.name}`, svc.inbox.topics(), (m) => svc.inbox.dispatch(m), (ms) => svc.inbox.dispatchBatch(ms));
  } else {
    throw new Error(`ROLE must be relay or consumer, got ${role}`);
  }
  process.stdout.write('ready\n');
}

main().catch((err) => {
  process.stderr.write(`backbone worker failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
