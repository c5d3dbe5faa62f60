import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createEnvelope, decodeEnvelope, encodeEnvelope, EVENT_TYPE_NAMES, Topics, timestampFromDate } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';
import { eventually } from '@trace/testing';
import {
  changeStateAndEmit,
  effects,
  startBackbonePair,
  startTestService,
  unsent,
  type BackbonePair,
  type Mode,
  type TestService,
  type TransportFixture,
} from './harness';

/**
 * The event backbone, the same assertions in both run modes: outbox in the
 * writer's transaction, relay, inbox; re-sends absorbed; poison dead-lettered
 * without blocking; out-of-order commits not skipped.
 */
describe.each<Mode>(['embedded', 'kafka'])('event backbone (%s)', (mode) => {
  let pair: BackbonePair;
  let fx: TransportFixture;
  let producer: TestService;
  let consumer: TestService;
  let prefix: string;

  beforeEach(async () => {
    pair = await startBackbonePair(mode);
    ({ fx, producer, consumer, prefix } = pair);
  });

  afterEach(async () => {
    await pair.stop();
  });

  it('delivers an event written with its state change to another service exactly once in effect', async () => {
    producer.relay.start();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) await changeStateAndEmit(producer, id);

    // A state change that rolls back must not leak its event.
    const rolledBack = randomUUID();
    await expect(
      producer.ds.transaction(async (m) => {
        await producer.outbox.append(m, 'batchRegistered', { batch: { domain: 1, batchId: rolledBack } }, { subject: rolledBack, orgId: 'o' });
        throw new Error('business rule refused');
      }),
    ).rejects.toThrow('business rule refused');

    const applied = await eventually(async () => {
      const e = await effects(consumer);
      return ids.every((id) => e.get(id) === 1) ? e : undefined;
    });
    expect([...applied.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(applied.has(rolledBack)).toBe(false);
    // The relay marks rows sent after the transport accepted them, which may be after the consumer applied them.
    await eventually(async () => (await unsent(producer)) === 0);

    // The broker (or relay) delivering the same message again changes nothing.
    const [row] = await producer.ds.query('SELECT topic, message_key, payload FROM outbox ORDER BY id LIMIT 1');
    await fx.transport.publish([{ topic: row.topic, key: row.message_key, value: row.payload, headers: {} }]);
    await eventually(async () => consumer.outcomes.includes('duplicate'));
    expect((await effects(consumer)).get(ids[0])).toBe(1);
    const [{ n }] = await consumer.ds.query('SELECT count(*)::int AS n FROM inbox');
    expect(n).toBe(5);
  });

  it('re-sends after a relay dies between publishing and marking sent, and the inbox absorbs it', async () => {
    const crashing = await startTestService('agri', prefix, fx.transport, {
      afterPublish: () => {
        throw new Error('relay process killed');
      },
    });
    const id = randomUUID();
    await changeStateAndEmit(producer, id);

    await expect(crashing.relay.relayOnce()).rejects.toThrow('relay process killed');
    // The message went out, but the row is still unsent: the crash lost nothing.
    await eventually(async () => (await effects(consumer)).get(id) === 1);
    expect(await unsent(producer)).toBe(1);

    // The restarted relay publishes it again; the consumer applies it once.
    expect(await producer.relay.drain()).toBe(1);
    await eventually(async () => consumer.outcomes.includes('duplicate'));
    expect((await effects(consumer)).get(id)).toBe(1);
    expect(await unsent(producer)).toBe(0);
    await crashing.ds.destroy();
  });

  it('dead-letters a poison message with the reason and still delivers the next one', async () => {
    producer.relay.start();
    const garbage = Buffer.from('this is not a protobuf envelope \xff\xfe', 'binary');
    const mismatched = createEnvelope({
      id: randomUUID(),
      type: EVENT_TYPE_NAMES.traceEventRecorded, // says one thing, carries another
      version: 1,
      source: 'agri',
      orgId: 'o',
      subject: 's',
      occurredAt: timestampFromDate(new Date()),
      payload: { case: 'batchRegistered', value: {} },
    });
    await fx.transport.publish([
      { topic: Topics.batch, key: 'poison-1', value: garbage, headers: {} },
      { topic: Topics.batch, key: 'poison-2', value: Buffer.from(encodeEnvelope(mismatched)), headers: {} },
    ]);
    const id = randomUUID();
    await changeStateAndEmit(producer, id);
    await eventually(async () => (await effects(consumer)).get(id) === 1);

    const reasons = await deadLetterReasons(mode, consumer, fx);
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^undecodable message/), expect.stringMatching(/^invalid envelope: type/)]),
    );
    expect(consumer.outcomes.filter((o) => o === 'dead-lettered')).toHaveLength(2);
  });

  it('applies a run of messages in one transaction; a poison one among them costs the others a second try, nothing more', async () => {
    const envelopeFor = (batchId: string) =>
      createEnvelope({
        id: randomUUID(),
        type: EVENT_TYPE_NAMES.batchRegistered,
        version: 1,
        source: 'agri',
        orgId: 'o',
        subject: batchId,
        occurredAt: timestampFromDate(new Date()),
        payload: { case: 'batchRegistered', value: { batch: { domain: 1, batchId }, gtin: '09506000134352', lot: 'L', ownerOrgId: 'o' } },
      });
    const inbound = (env: ReturnType<typeof createEnvelope>) => ({ topic: Topics.batch, key: env.subject, value: Buffer.from(encodeEnvelope(env)), headers: {} });
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const run = ids.map((id) => inbound(envelopeFor(id)));

    // The same event twice in one run, and one already applied before: each applied once.
    const before = run[0];
    expect(await consumer.inbox.dispatchBatch([before])).toEqual(['processed']);
    const outcomes = await consumer.inbox.dispatchBatch([...run, run[2]]);
    expect(outcomes).toEqual(['duplicate', 'processed', 'processed', 'processed', 'duplicate']);
    let applied = await effects(consumer);
    expect(ids.map((id) => applied.get(id))).toEqual([1, 1, 1, 1]);
    // One transaction for the run: its three inbox rows share one transaction id.
    const [{ xacts }] = await consumer.ds.query('SELECT count(DISTINCT xmin::text)::int AS xacts FROM inbox WHERE event_id = ANY($1::uuid[])', [
      run.slice(1).map((m) => decodeEnvelope(m.value).id),
    ]);
    expect(xacts).toBe(1);

    // A handler refusing one message of a run: the run rolls back and goes one by one.
    const poisonId = randomUUID();
    consumer.inbox.on('batchRegistered', async (e) => {
      if (e.batch?.batchId === poisonId) throw new PoisonMessageError('not this one');
    });
    const next = [randomUUID(), randomUUID()];
    const mixed = await consumer.inbox.dispatchBatch([inbound(envelopeFor(next[0])), inbound(envelopeFor(poisonId)), inbound(envelopeFor(next[1]))]);
    expect(mixed).toEqual(['processed', 'dead-lettered', 'processed']);
    applied = await effects(consumer);
    expect([applied.get(next[0]), applied.get(poisonId), applied.get(next[1])]).toEqual([1, undefined, 1]);
    expect(await deadLetterReasons(mode, consumer, fx, 1)).toEqual([expect.stringMatching(/^rejected by handler: not this one/)]);
  });

  it('retries a transient handler failure with back-off and applies the event once', async () => {
    let failures = 2;
    consumer.inbox.on('batchRegistered', async () => {
      if (failures-- > 0) throw new Error('database hiccup');
    });
    producer.relay.start();
    const id = randomUUID();
    await changeStateAndEmit(producer, id);
    await eventually(async () => (await effects(consumer)).get(id) === 1);
    expect(failures).toBeLessThan(0);
    expect(consumer.outcomes).toEqual(['processed']);
  });

  it('loses no outbox row when a long transaction commits after shorter, later ones', async () => {
    producer.relay.start();
    const longId = randomUUID();
    const runner = producer.ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('INSERT INTO state (id, value) VALUES ($1, $2)', [longId, 'slow']);
    await producer.outbox.append(runner.manager, 'batchRegistered', { batch: { domain: 1, batchId: longId } }, { subject: longId, orgId: 'o' });

    // Later transactions take higher outbox ids and commit first; the relay publishes them.
    const shortIds = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(shortIds.map((id) => changeStateAndEmit(producer, id)));
    await eventually(async () => {
      const e = await effects(consumer);
      return shortIds.every((id) => e.get(id) === 1);
    });
    expect((await effects(consumer)).has(longId)).toBe(false);

    await runner.commitTransaction();
    await runner.release();
    await eventually(async () => (await effects(consumer)).get(longId) === 1);

    const rows: { id: string; message_key: string }[] = await producer.ds.query('SELECT id, message_key FROM outbox ORDER BY id');
    expect(rows[0].message_key).toBe(longId); // lowest id, committed last, still delivered
    expect(await unsent(producer)).toBe(0);
  });

  it('loses nothing under many concurrent transactions of random length', async () => {
    producer.relay.start();
    const ids = Array.from({ length: 40 }, () => randomUUID());
    await Promise.all(
      ids.map((id, i) =>
        producer.ds.transaction(async (m) => {
          await m.query('INSERT INTO state (id, value) VALUES ($1, $2)', [id, 'x']);
          await producer.outbox.append(m, 'batchRegistered', { batch: { domain: 1, batchId: id } }, { subject: id, orgId: 'o' });
          await m.query('SELECT pg_sleep($1)', [((i * 37) % 11) / 100]);
        }),
      ),
    );
    const e = await eventually(async () => {
      const got = await effects(consumer);
      return ids.every((id) => got.get(id) === 1) ? got : undefined;
    }, 30_000);
    expect(e.size).toBe(40);
  });
});

async function deadLetterReasons(mode: Mode, consumer: TestService, fx: TransportFixture, expected = 2): Promise<string[]> {
  if (mode === 'embedded') {
    const rows: { reason: string }[] = await consumer.ds.query('SELECT reason FROM dead_letters ORDER BY id');
    return rows.map((r) => r.reason);
  }
  const kafka = new Kafka({ brokers: fx.brokers!, clientId: 'dlq-reader', logLevel: logLevel.NOTHING });
  const reader = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
  const reasons: string[] = [];
  await reader.connect();
  await reader.subscribe({ topic: `${fx.topicPrefix}${Topics.batch}.dlq`, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      reasons.push(String(message.headers?.['dlq-reason'] ?? ''));
    },
  });
  await eventually(async () => reasons.length >= expected, 20_000);
  await reader.disconnect();
  return reasons;
}
