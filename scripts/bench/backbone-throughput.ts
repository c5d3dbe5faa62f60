/* eslint-disable no-console */
/**
 * Event backbone throughput: N state changes with their outbox rows, relayed
 * and applied through a consumer's inbox, end to end.
 *
 *   node scripts/run.js scripts/bench/backbone-throughput.ts [events=5000] [embedded|kafka|kafka-mock]
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) in
 * throw-away schemas. `kafka` is a real Apache Kafka at KAFKA_BROKERS
 * (scripts/kafka/start.sh) with the idempotent producer on and topics of the
 * run's own (created through the admin API, dropped after); `kafka-mock` a
 * private librdkafka mock cluster, what the numbers before real Kafka were
 * measured on.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  EmbeddedTransport,
  InboxDispatcher,
  KafkaTransport,
  MESSAGING_MIGRATIONS,
  Outbox,
  outboxChannel,
  OutboxRelay,
  TableDeadLetterSink,
  type EventTransport,
} from '@trace/messaging';
import { createLogger, createServiceDataSource, initializeServiceDatabase, pipelinedTransaction, schemaFor } from '@trace/platform';
import { dropSchemas, dropTopics, KafkaMockCluster, sharedKafka } from '@trace/testing';
import { cpuMs, mainThreadSchedule, postgresCpuMs } from './support/measure';

class BenchTables1700000000001 implements MigrationInterface {
  name = 'BenchTables1700000000001';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE bench_state (id uuid PRIMARY KEY)');
    await q.query('CREATE TABLE bench_effects (id uuid PRIMARY KEY)');
    await q.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY, payload bytea NOT NULL)');
  }
  async down() {}
}

async function main() {
  // argv: node, scripts/run.js, this file, then ours.
  const [countArg, modeArg] = process.argv.slice(3);
  const total = Number(countArg ?? 5000);
  const mode = (modeArg ?? 'embedded') as 'embedded' | 'kafka' | 'kafka-mock';
  if (!Number.isInteger(total) || total < 1 || !['embedded', 'kafka', 'kafka-mock'].includes(mode)) {
    throw new Error('usage: backbone-throughput.ts [events] [embedded|kafka|kafka-mock]');
  }
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const prefix = `bench${Date.now() % 100000}_`;
  const logger = createLogger('warn');
  const real = mode === 'kafka' ? await sharedKafka(prefix, 6) : undefined;
  if (mode === 'kafka' && !real) throw new Error('kafka mode needs KAFKA_BROKERS (bash scripts/kafka/start.sh)');
  const mock = mode === 'kafka-mock' ? await KafkaMockCluster.start() : undefined;
  const transport: EventTransport = real
    ? new KafkaTransport({ brokers: real.brokers, clientId: 'bench', idempotent: true, topicPrefix: real.topicPrefix, logger })
    : mock
      ? new KafkaTransport({ brokers: mock.brokers, clientId: 'bench', idempotent: false, logger })
      : new EmbeddedTransport();
  const make = async (service: string) => {
    const ds = createServiceDataSource({ service, url, schemaPrefix: prefix, poolSize: 8, entities: [], migrations: [...MESSAGING_MIGRATIONS, BenchTables1700000000001] });
    await initializeServiceDatabase(ds);
    return ds;
  };
  const producerDs = await make('agri');
  const consumerDs = await make('lineage');
  const schema = schemaFor('agri', prefix);
  const outbox = new Outbox('agri', outboxChannel(schema));
  const inbox = new InboxDispatcher(consumerDs, new TableDeadLetterSink(consumerDs), { consumer: `lineage-${prefix}`, maxAttempts: 3, retryBaseMs: 50, logger });
  inbox.on('batchRegistered', async (e, { manager }) => {
    await manager.query('INSERT INTO bench_effects (id) VALUES ($1)', [e.batch?.batchId]);
  });
  // As the services subscribe (messaging.module.ts): runs of messages in one inbox transaction where the transport gives them.
  await transport.subscribe(`lineage-${prefix}`, inbox.topics(), (m) => inbox.dispatch(m), (ms) => inbox.dispatchBatch(ms));
  const relay = new OutboxRelay(producerDs, transport, { service: 'agri', schema, databaseUrl: url, notifyChannel: outboxChannel(schema), pollMs: 20, batchSize: 500, logger });
  relay.start();

  // Where the end-to-end time goes: the app's CPU (this process: producers, relay and consumer alike), the
  // database's, and the main thread's time waiting for a core it was ready to run on.
  const runCpu = cpuSince();
  const scheduleFrom = mainThreadSchedule(process.pid);
  const started = Date.now();
  const concurrency = 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const id = randomUUID();
        // As the write path does (record-event.ts, register-batch.ts): START with the first statement, COMMIT with the outbox row.
        await pipelinedTransaction(producerDs, async (m) => {
          await m.query('INSERT INTO bench_state (id) VALUES ($1)', [id]);
          await outbox.append(m, 'batchRegistered', { batch: { domain: 1, batchId: id }, gtin: '09506000134352', lot: id.slice(0, 20), ownerOrgId: 'o' }, { subject: id, orgId: 'o' });
        });
      }
    }),
  );
  const written = Date.now();
  for (;;) {
    const [{ n }] = await consumerDs.query('SELECT count(*)::int AS n FROM bench_effects');
    if (n >= total) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const done = Date.now();
  const { app: appCpu, postgres: pgCpu } = runCpu();
  const schedule = mainThreadSchedule(process.pid);
  // The baseline, in the same run: as many plain autocommit INSERTs of a row of the same size (no outbox,
  // no relay, no consumer), from a bare pg pool at the same concurrency: the database's own rate.
  const raw = new Pool({ connectionString: url, max: concurrency, options: `-c search_path=${schema}` });
  const payload = Buffer.alloc(200, 7);
  let rawNext = 0;
  const baselineCpu = cpuSince();
  const rawStarted = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (rawNext < total) {
        rawNext++;
        await raw.query('INSERT INTO bench_raw (id, payload) VALUES ($1, $2)', [randomUUID(), payload]);
      }
    }),
  );
  const rawSeconds = (Date.now() - rawStarted) / 1000;
  // The baseline's CPU per insert, client and server: with the app's per event, a ratio the machine's other
  // load moves far less than the rates (on two shared cores both rates swing by a third from run to run).
  const { app: rawAppCpu, postgres: rawPgCpu } = baselineCpu();
  const rawCpu = rawAppCpu + rawPgCpu;
  await raw.end();
  const eventsPerSecond = Math.round(total / ((done - started) / 1000));
  const baselinePerSecond = Math.round(total / rawSeconds);
  console.log(
    JSON.stringify({
      mode,
      events: total,
      writeSeconds: (written - started) / 1000,
      endToEndSeconds: (done - started) / 1000,
      eventsPerSecond,
      plainInsertsPerSecond: baselinePerSecond,
      ratio: Number((eventsPerSecond / baselinePerSecond).toFixed(2)),
      appCpuMsPerEvent: Number((appCpu / total).toFixed(3)),
      postgresCpuMsPerEvent: Number((pgCpu / total).toFixed(3)),
      baselineCpuMsPerInsert: Number((rawCpu / total).toFixed(3)),
      cpuRatio: Number((rawCpu / (appCpu + pgCpu)).toFixed(2)),
      mainThread: {
        ranMs: Math.round(schedule.runMs - scheduleFrom.runMs),
        waitedForCoreMs: Math.round(schedule.waitMs - scheduleFrom.waitMs),
        preempted: schedule.involuntarySwitches - scheduleFrom.involuntarySwitches,
      },
    }),
  );
  await relay.stop();
  await transport.close();
  await producerDs.destroy();
  await consumerDs.destroy();
  await dropTopics(real);
  await mock?.stop();
  await dropSchemas(url, prefix);
}

/** This process's and PostgreSQL's CPU ms from now: call the answer to read how much each has spent since. */
function cpuSince(): () => { app: number; postgres: number } {
  const app = cpuMs(process.pid);
  const postgres = postgresCpuMs();
  return () => ({ app: cpuMs(process.pid) - app, postgres: postgresCpuMs() - postgres });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
