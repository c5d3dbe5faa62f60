import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Topics } from '@trace/contracts';
import { createTopics, EmbeddedTransport, topicPlan } from '@trace/messaging';
import { dropSchemas, eventually, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { startTestService, type TestService } from './harness';

/**
 * The backbone's promise on a real three-node Apache Kafka cluster
 * (scripts/kafka/start.sh --nodes 3: replication factor 3,
 * min.insync.replicas 2, idempotent producer): whatever dies — a partition
 * leader, a broker for 30 s, the consuming service mid-batch, the relay
 * between publishing and marking sent — every event is applied exactly once.
 * Counted end to end by the consumer's inbox (one row per subject with the
 * number of times it was applied), never by send() results.
 *
 * The relay and the consumer run as their own processes (backbone-worker.ts),
 * so the kills are real SIGKILLs. Runs where the run has a real broker
 * (KAFKA_BROKERS, as scripts/dev/up.sh and CI start it: Java and the Kafka
 * jars are then present); each outcome is appended to
 * .data/kafka-faults.jsonl for the README's table.
 */
const ROOT = resolve(__dirname, '../..');
const DATA = resolve(ROOT, '.data/kafka-faults');
const PORT = Number(process.env.KAFKA_FAULTS_PORT ?? 29092);
const clusterEnv = { ...process.env, KAFKA_DATA: DATA, KAFKA_PORT: String(PORT) };
const enabled = Boolean(process.env.KAFKA_BROKERS);

interface Outcome {
  scenario: string;
  events: number;
  applied: number;
  lost: number;
  duplicateEffects: number;
  messagesOnTopic: number;
  seconds: number;
}

(enabled ? describe : describe.skip)('Kafka faults on a three-node cluster (replication 3, min.insync.replicas 2)', () => {
  let brokers: string[];
  let admin: Admin;
  const workers: ChildProcess[] = [];

  // A fresh cluster for each scenario: what one fault leaves behind (a broker still catching up,
  // moved coordinators) must not decide the next one's outcome.
  beforeEach(async () => {
    mkdirSync(DATA, { recursive: true });
    const r = spawnSync('bash', [resolve(ROOT, 'scripts/kafka/start.sh'), '--nodes', '3'], { env: clusterEnv, encoding: 'utf8', timeout: 240_000 });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !last.startsWith('KAFKA_BROKERS=')) throw new Error(`three-node cluster did not start:\n${r.stdout}\n${r.stderr}`);
    brokers = last.slice('KAFKA_BROKERS='.length).split(',');
    admin = new Kafka({ clientId: 'fault-test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 300_000);

  afterEach(async () => {
    for (const w of workers.splice(0)) w.kill('SIGKILL');
    await admin?.disconnect();
    spawnSync('bash', [resolve(ROOT, 'scripts/kafka/stop.sh')], { env: clusterEnv, timeout: 60_000 });
  }, 90_000);

  /** A fresh pair of schemas, topics of its own on the cluster, and the relay and consumer processes. */
  async function scenario(relayEnv: NodeJS.ProcessEnv = {}) {
    const prefix = uniquePrefix('kf');
    const topicPrefix = `${prefix}.`;
    await createTopics(brokers, topicPlan(6, 3, topicPrefix), 'fault-test');
    // The parent's own handles on both schemas: to write the producer's outbox and read the consumer's effects.
    const producer = await startTestService('agri', prefix, new EmbeddedTransport());
    const consumer = await startTestService('lineage', prefix, new EmbeddedTransport());
    const env = { DB_PREFIX: prefix, KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: topicPrefix, DATABASE_URL: testDatabaseUrl() };
    const start = async (role: 'relay' | 'consumer', extra: NodeJS.ProcessEnv = {}) => {
      const child = spawn(process.execPath, [resolve(ROOT, 'scripts/run.js'), 'tests/integration/backbone-worker.ts'], {
        cwd: ROOT,
        env: { ...process.env, ...env, ROLE: role, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.push(child);
      let out = '';
      // Kept for a failure's post-mortem next to the brokers' own logs.
      const log = resolve(DATA, `${prefix}-${role}-${child.pid}.log`);
      const keep = (d: Buffer) => {
        out += d;
        writeFileSync(log, d, { flag: 'a' });
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      await eventually(async () => {
        if (child.exitCode !== null && !out.includes('ready')) throw new Error(`${role} worker exited ${child.exitCode}: ${out}`);
        return out.includes('ready');
      }, 60_000);
      return child;
    };
    return {
      prefix,
      topic: `${topicPrefix}${Topics.batch}`,
      producer,
      consumer,
      consumerProcess: await start('consumer'),
      relayProcess: await start('relay', relayEnv),
      start,
      stop: async () => {
        await producer.ds.destroy();
        await consumer.ds.destroy();
        await dropSchemas(testDatabaseUrl(), prefix);
      },
    };
  }

  /** The producing service's state changes: `n` events written with their outbox rows, 200 to a transaction. */
  async function emit(svc: TestService, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    for (let at = 0; at < n; at += 200) {
      await svc.ds.transaction(async (m) => {
        for (const id of ids.slice(at, at + 200)) {
          await svc.outbox.append(
            m,
            'batchRegistered',
            { batch: { domain: 1, batchId: id }, gtin: '09506000134352', lot: `L-${id.slice(0, 8)}`, ownerOrgId: 'org-a' },
            { subject: id, orgId: 'org-a' },
          );
        }
      });
    }
    return ids;
  }

  async function tally(consumer: TestService, ids: string[]) {
    const rows: { subject: string; applied: number }[] = await consumer.ds.query('SELECT subject, applied FROM effects WHERE subject = ANY($1)', [ids]);
    return { applied: rows.length, duplicateEffects: rows.filter((r) => r.applied > 1).length };
  }

  async function appliedCount(consumer: TestService): Promise<number> {
    const [{ n }] = await consumer.ds.query('SELECT count(*)::int AS n FROM effects');
    return n;
  }

  async function messagesOn(topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  async function leaderOf(topic: string, partition = 0): Promise<number> {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0].partitions.find((p) => p.partitionId === partition)!.leader;
  }

  const pidOf = (node: number) => Number(readFileSync(resolve(DATA, `node-${node}/pid`), 'utf8'));

  async function bringBack(node: number): Promise<void> {
    const r = spawnSync('bash', [resolve(ROOT, 'scripts/kafka/start.sh'), '--restart-node', String(node)], { env: clusterEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node ${node} did not restart: ${r.stderr}`);
    await eventually(async () => (await admin.describeCluster()).brokers.length === 3, 120_000, 500);
  }

  async function finish(name: string, s: Awaited<ReturnType<typeof scenario>>, ids: string[], startedAt: number): Promise<Outcome> {
    try {
      await eventually(async () => (await tally(s.consumer, ids)).applied === ids.length, 240_000, 250);
    } catch (err) {
      const [{ n: unsent }] = await s.producer.ds.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL');
      const t = await tally(s.consumer, ids);
      throw new Error(`${name}: ${t.applied} of ${ids.length} applied, ${unsent} outbox rows unsent, ${await messagesOn(s.topic)} messages on ${s.topic} (${(err as Error).message})`);
    }
    const t = await tally(s.consumer, ids);
    const outcome: Outcome = {
      scenario: name,
      events: ids.length,
      applied: t.applied,
      lost: ids.length - t.applied,
      duplicateEffects: t.duplicateEffects,
      messagesOnTopic: await messagesOn(s.topic),
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
    writeFileSync(resolve(ROOT, '.data/kafka-faults.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...outcome })}\n`, { flag: 'a' });
    return outcome;
  }

  it('kill -9 of a partition leader while 10,000 events flow: none lost, none applied twice', async () => {
    const s = await scenario();
    try {
      const startedAt = Date.now();
      const flowing = emit(s.producer, 10_000);
      await eventually(async () => (await appliedCount(s.consumer)) >= 1_000, 120_000, 100);
      const leader = await leaderOf(s.topic);
      process.kill(pidOf(leader), 'SIGKILL');
      const ids = await flowing;
      const outcome = await finish('kill -9 the leader of partition 0 mid-flow', s, ids, startedAt);
      expect(outcome).toMatchObject({ applied: 10_000, lost: 0, duplicateEffects: 0 });
      // A new leader took over: the killed broker no longer leads the partition.
      expect(await leaderOf(s.topic)).not.toBe(leader);
    } finally {
      await s.stop();
    }
  }, 420_000);

  it('a broker stopped for 30 s and brought back: writes go on with two in-sync replicas, nothing lost or doubled', async () => {
    const s = await scenario();
    try {
      const startedAt = Date.now();
      const node = await leaderOf(s.topic);
      process.kill(pidOf(node), 'SIGTERM');
      await eventually(async () => (await admin.describeCluster()).brokers.length === 2, 60_000, 250);
      const down = Date.now();
      const ids = await emit(s.producer, 3_000);
      await eventually(async () => (await appliedCount(s.consumer)) >= 1_000, 120_000, 100);
      await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
      await bringBack(node);
      const more = await emit(s.producer, 1_000);
      const outcome = await finish('one broker stopped for 30 s, then started again', s, [...ids, ...more], startedAt);
      expect(outcome).toMatchObject({ applied: 4_000, lost: 0, duplicateEffects: 0 });
    } finally {
      await s.stop();
    }
  }, 420_000);

  it('kill -9 of the consuming service mid-batch: the next one applies the rest, each once', async () => {
    const s = await scenario();
    try {
      const startedAt = Date.now();
      const flowing = emit(s.producer, 10_000);
      await eventually(async () => (await appliedCount(s.consumer)) >= 2_000, 120_000, 20);
      s.consumerProcess.kill('SIGKILL');
      const before = await appliedCount(s.consumer);
      await s.start('consumer');
      const ids = await flowing;
      const outcome = await finish('kill -9 the consuming service mid-batch', s, ids, startedAt);
      expect(before).toBeLessThan(10_000);
      expect(outcome).toMatchObject({ applied: 10_000, lost: 0, duplicateEffects: 0 });
    } finally {
      await s.stop();
    }
  }, 420_000);

  it('kill -9 of the relay between publishing and marking sent: re-sent, absorbed by the inbox', async () => {
    // The relay kills itself right after its 5th publish was acknowledged by the brokers, before it marks the rows.
    const s = await scenario({ KILL_AFTER_PUBLISH: '5' });
    try {
      const startedAt = Date.now();
      const ids = await emit(s.producer, 3_000);
      await eventually(async () => s.relayProcess.exitCode !== null || s.relayProcess.signalCode !== null, 120_000, 50);
      expect(s.relayProcess.signalCode).toBe('SIGKILL');
      await s.start('relay');
      const outcome = await finish('kill -9 the relay between publish and mark', s, ids, startedAt);
      expect(outcome).toMatchObject({ applied: 3_000, lost: 0, duplicateEffects: 0 });
      // What it had published but not marked went out twice: the topic holds more messages than events.
      expect(outcome.messagesOnTopic).toBeGreaterThan(3_000);
    } finally {
      await s.stop();
    }
  }, 420_000);
});
