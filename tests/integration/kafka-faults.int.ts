import { randomUUID } from 'node:crypto';
import { eventually } from '@trace/testing';
import {
  changeStateAndEmit,
  effects,
  startBackbonePair,
  unsent,
  type BackbonePair,
  type TestService,
  type TransportFixture,
} from './harness';

/**
 * Broker faults, injected through librdkafka's mock cluster: while the broker
 * is down or refuses produce requests, events wait in the outbox; when it is
 * back they are delivered, once.
 */
describe('Kafka broker faults', () => {
  let pair: BackbonePair;
  let fx: TransportFixture;
  let producer: TestService;
  let consumer: TestService;

  beforeEach(async () => {
    pair = await startBackbonePair('kafka-mock');
    ({ fx, producer, consumer } = pair);
    // One event through first, so the producer is connected and the topic exists.
    const warm = randomUUID();
    producer.relay.start();
    await changeStateAndEmit(producer, warm);
    await eventually(async () => (await effects(consumer)).get(warm) === 1, 30_000);
  });

  /** An outbox row the relay tried to send and could not: attempts counted, the broker's error kept. */
  const failedSend = async () =>
    ((await producer.ds.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND attempts > 0 AND last_error IS NOT NULL`)) as { n: number }[])[0].n > 0 || undefined;

  afterEach(async () => {
    await pair.stop();
  });

  it('keeps events in the outbox while produce requests fail, then delivers each once', async () => {
    // NOT_LEADER_OR_FOLLOWER (6) is retriable; 40 failures outlast kafkajs's own retries.
    await fx.cluster!.failRequests(0, 6, 40);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await changeStateAndEmit(producer, id);
    // A refused send is recorded on its row (attempts, last_error) while the row stays unsent.
    await eventually(failedSend, 30_000);
    expect(await unsent(producer)).toBeGreaterThan(0);

    const got = await eventually(async () => {
      const e = await effects(consumer);
      return ids.every((id) => e.get(id) === 1) ? e : undefined;
    }, 60_000);
    expect(ids.map((id) => got.get(id))).toEqual([1, 1, 1]);
    await eventually(async () => (await unsent(producer)) === 0);
    const [{ errors }] = await producer.ds.query(`SELECT count(*)::int AS errors FROM outbox WHERE attempts > 1`);
    expect(errors).toBeGreaterThan(0); // the failed passes were recorded, not hidden
  });

  it('survives the broker going down and coming back', async () => {
    await fx.cluster!.brokerDown(1);
    const id = randomUUID();
    await changeStateAndEmit(producer, id);
    // The relay tried and failed (recorded on the row): only now does "not delivered" say something.
    await eventually(failedSend, 60_000);
    expect(await unsent(producer)).toBe(1);
    expect((await effects(consumer)).has(id)).toBe(false);

    await fx.cluster!.brokerUp(1);
    await eventually(async () => (await effects(consumer)).get(id) === 1, 60_000);
    expect(await unsent(producer)).toBe(0);
  });

  it('a consumer back from a stop takes what waited on its partition in one run: one inbox transaction', async () => {
    await fx.transport.stopConsuming?.();
    // Five events under one key (one partition, in order), written together so the relay sends them
    // in one produce request (the mock broker answers a fetch with one record batch at a time).
    const ids = Array.from({ length: 5 }, () => randomUUID());
    await producer.ds.transaction(async (m) => {
      for (const id of ids) {
        await producer.outbox.append(m, 'batchRegistered', { batch: { domain: 1, batchId: id }, gtin: '09506000134352', lot: 'L', ownerOrgId: 'o' }, { subject: 'one-key', orgId: 'o' });
      }
    });
    await eventually(async () => (await unsent(producer)) === 0, 30_000);
    expect((await effects(consumer)).has(ids[0])).toBe(false);
    await fx.transport.subscribe(
      consumer.name,
      consumer.inbox.topics(),
      (m) => consumer.inbox.dispatch(m),
      (ms) => consumer.inbox.dispatchBatch(ms),
    );
    const got = await eventually(async () => {
      const e = await effects(consumer);
      return ids.every((id) => e.get(id) === 1) ? e : undefined;
    }, 60_000);
    expect(ids.map((id) => got.get(id))).toEqual([1, 1, 1, 1, 1]);
    // Each effect row was written by the transaction that applied its event: one for all five.
    const [{ xacts }] = await consumer.ds.query('SELECT count(DISTINCT xmin::text)::int AS xacts FROM effects WHERE subject = ANY($1)', [ids]);
    expect(xacts).toBe(1);
  });
});
