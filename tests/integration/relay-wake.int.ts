import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createLogger } from '@trace/platform';
import { Outbox, OutboxRelay } from '@trace/messaging';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { changeStateAndEmit, effects, startBackbonePair, type BackbonePair } from './harness';

/** Longer than any test here may take: a delivery inside it came from a NOTIFY, not from polling. */
const POLL_MS = 120_000;

/**
 * An idle relay does not poll: a commit wakes it, and polling is only a slow
 * safety net. A commit in the relay's own process wakes it directly (no
 * NOTIFY, which would serialise commits on PostgreSQL's notification lock);
 * one from elsewhere, or a relay locked out by another replica's, goes
 * through NOTIFY. Here both the poll and the safety net are two minutes, so
 * every delivery timed below is a wake-up, including one that arrives while
 * the relay is busy publishing.
 */
describe('outbox relay woken by commits', () => {
  let pair: BackbonePair;
  let relay: OutboxRelay;
  let during: (() => Promise<void>) | undefined;

  /** A relay of the producer's outbox that neither polls nor looks on its own within a test. */
  const relayOptions = () => ({
    service: pair.producer.name,
    schema: pair.producer.schema,
    databaseUrl: testDatabaseUrl(),
    notifyChannel: `outbox_${pair.producer.schema}`,
    pollMs: POLL_MS,
    idlePollMs: POLL_MS,
    batchSize: 100,
    logger: createLogger('silent'),
  });

  beforeEach(async () => {
    pair = await startBackbonePair('embedded');
    relay = new OutboxRelay(pair.producer.ds, pair.fx.transport, {
      ...relayOptions(),
      afterPublish: async () => {
        const run = during;
        during = undefined;
        await run?.();
      },
    });
    relay.start();
    await eventually(async () => relay.listening);
  });

  afterEach(async () => {
    await relay?.stop();
    await pair?.stop();
  });

  const deliveredWithin = async (id: string, committedAt: number) => {
    await eventually(async () => (await effects(pair.consumer)).get(id) === 1, 10_000, 10);
    return Date.now() - committedAt;
  };

  it('delivers a committed event at once, not at the next poll', async () => {
    const id = randomUUID();
    await changeStateAndEmit(pair.producer, id);
    const ms = await deliveredWithin(id, Date.now());
    expect(ms).toBeLessThan(3_000);
  });

  it('looks for rows nobody notified about at its safety-net interval, one statement when idle', async () => {
    // A second relay on the same outbox, polling every 50 ms while not listening, every 500 ms as a safety net.
    const { producer } = pair;
    let transactions = 0;
    let statements = 0;
    const ds = Object.create(producer.ds) as typeof producer.ds;
    ds.transaction = ((...args: Parameters<typeof producer.ds.transaction>) => {
      transactions++;
      return (producer.ds.transaction as (...a: unknown[]) => Promise<unknown>).apply(producer.ds, args);
    }) as typeof producer.ds.transaction;
    ds.query = ((...args: Parameters<typeof producer.ds.query>) => {
      statements++;
      return producer.ds.query(...args);
    }) as typeof producer.ds.query;
    await relay.stop();
    relay = new OutboxRelay(ds, pair.fx.transport, {
      service: producer.name,
      schema: producer.schema,
      databaseUrl: testDatabaseUrl(),
      notifyChannel: `outbox_${producer.schema}`,
      pollMs: 50,
      idlePollMs: 500,
      batchSize: 100,
      logger: createLogger('silent'),
    });
    relay.start();
    await eventually(async () => relay.listening);
    // Idle, listening: the safety net's probe (one statement) per 500 ms, not a pass (four) per 50 ms.
    const [t0, s0, started] = [transactions, statements, Date.now()];
    await eventually(async () => statements >= s0 + 3, 5_000, 10);
    const perProbe = (Date.now() - started) / (statements - s0);
    expect(perProbe).toBeGreaterThan(300);
    expect(transactions - t0).toBe(0);
    // A row whose notification nobody hears (as if it was lost) still goes out, at the safety net's pace.
    const id = randomUUID();
    const unheard = new Outbox(producer.name, `nobody_listens_${producer.schema}`);
    await producer.ds.transaction((m) => unheard.append(m, 'batchRegistered', { batch: { domain: 1, batchId: id } }, { subject: id, orgId: 'o' }));
    expect(await deliveredWithin(id, Date.now())).toBeLessThan(3_000);
  });

  it('does not lose a wake-up that arrives while it is publishing', async () => {
    const first = randomUUID();
    const second = randomUUID();
    let secondCommitted = 0;
    // While the first event is being published, the second one commits (and NOTIFYs); the
    // pause gives the listener time to receive that notification before the pass ends.
    during = async () => {
      await changeStateAndEmit(pair.producer, second);
      secondCommitted = Date.now();
      await new Promise((r) => setTimeout(r, 200));
    };
    await changeStateAndEmit(pair.producer, first);
    await deliveredWithin(first, Date.now());
    // The first event may reach the consumer before its publish call returns: wait for the second commit.
    await eventually(async () => secondCommitted > 0);
    const ms = await deliveredWithin(second, secondCommitted);
    expect(ms).toBeLessThan(3_000);
  });

  /** A LISTEN connection of the test's own on the relay's channel: the payloads it heard, in commit order. */
  const listenOnChannel = async () => {
    const heard: string[] = [];
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    client.on('notification', (n) => heard.push(n.payload ?? ''));
    await client.query(`LISTEN "outbox_${pair.producer.schema}"`);
    return { heard, end: () => client.end() };
  };

  it('wakes a relay of the same process without a NOTIFY', async () => {
    const listener = await listenOnChannel();
    try {
      const id = randomUUID();
      await changeStateAndEmit(pair.producer, id);
      expect(await deliveredWithin(id, Date.now())).toBeLessThan(3_000);
      // Notifications arrive in commit order: had the event's commit notified, its (empty) payload would come first.
      await pair.producer.ds.query(`SELECT pg_notify($1, 'barrier')`, [`outbox_${pair.producer.schema}`]);
      await eventually(async () => listener.heard.includes('barrier'));
      expect(listener.heard).toEqual(['barrier']);
    } finally {
      await listener.end();
    }
  });

  it("delivers at once a commit made while another replica's relay holds the lock", async () => {
    // Replica A: a relay no commit of this process reaches directly, only NOTIFY. While it is publishing (and
    // so holds the schema's relay lock, past its claim), this process starts its relay (B) and an event
    // commits here: B is woken, cannot take the lock, and must get A to look again rather than leave the
    // event to the two-minute safety net.
    const { producer } = pair;
    const listener = await listenOnChannel();
    const options = relayOptions();
    let late = '';
    let committedAt = 0;
    let release = false;
    const replicaA = new OutboxRelay(producer.ds, pair.fx.transport, {
      ...options,
      local: false,
      afterPublish: async () => {
        if (late) return;
        late = randomUUID();
        relay = new OutboxRelay(producer.ds, pair.fx.transport, options);
        relay.start();
        const heard = listener.heard.length;
        await changeStateAndEmit(producer, late);
        committedAt = Date.now();
        // Hold the lock until B, locked out, has notified.
        await eventually(async () => listener.heard.length > heard || release, 10_000, 10);
      },
    });
    try {
      // Only A may take the first event (its commit NOTIFYs: no relay of this process is running).
      await relay.stop();
      replicaA.start();
      await eventually(async () => replicaA.listening);
      const first = randomUUID();
      await changeStateAndEmit(producer, first);
      await deliveredWithin(first, Date.now());
      await eventually(async () => committedAt > 0);
      expect(await deliveredWithin(late, committedAt)).toBeLessThan(3_000);
    } finally {
      release = true;
      await replicaA.stop();
      await listener.end();
    }
  });
});
