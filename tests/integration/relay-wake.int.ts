import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { decodeEnvelope } from '@trace/contracts';
import { createLogger, EventLoopSlices } from '@trace/platform';
import { Outbox, OutboxRelay, outboxClaim } from '@trace/messaging';
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

  it('makes one pass for each commit at one writer, and none after it that finds nothing', async () => {
    const warm = randomUUID();
    await changeStateAndEmit(pair.producer, warm);
    await deliveredWithin(warm, Date.now());
    // Every claim of this relay from here on, with how many rows it came back with.
    const lockKey = `outbox-relay:${pair.producer.schema}`;
    const claims: number[] = [];
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      const answer = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (text?.includes(lockKey) && text.includes('pg_try_advisory_xact_lock') && answer instanceof Promise) {
        void answer.then((results: { rows: { id: string | null }[] }[]) => claims.push(results[results.length - 1].rows.filter((r) => r.id !== null).length), () => undefined);
      }
      return answer;
    });
    try {
      // One writer, each event delivered before the next commits: the drain that published it was the last pass.
      const oneByOne = Array.from({ length: 10 }, () => randomUUID());
      for (const id of oneByOne) {
        await changeStateAndEmit(pair.producer, id);
        await deliveredWithin(id, Date.now());
      }
      expect(claims).toEqual(oneByOne.map(() => 1));
      // Commits one after another, not waiting: passes claim several, each row once.
      claims.length = 0;
      const burst = Array.from({ length: 30 }, () => randomUUID());
      for (const id of burst) await changeStateAndEmit(pair.producer, id);
      for (const id of burst) await deliveredWithin(id, Date.now());
      expect(claims.reduce((a, b) => a + b, 0)).toBe(burst.length);
    } finally {
      spy.mockRestore();
    }
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

  it('goes on from the last id it sent, and still delivers in the same drain a lower id that committed late', async () => {
    // No relay of its own: this one runs passes of two rows when asked (drain).
    await relay.stop();
    const { producer } = pair;
    const held = producer.ds.createQueryRunner();
    const published: string[][] = [];
    const drainer = new OutboxRelay(producer.ds, pair.fx.transport, {
      ...relayOptions(),
      batchSize: 2,
      afterPublish: async (messages) => {
        published.push(messages.map((m) => m.key as string));
        // After the first pass the transaction holding the second lowest id commits: its row was not there for
        // the full pass, and the passes after it only look above the ids sent.
        if (held.isTransactionActive) await held.commitTransaction();
      },
    });
    try {
      await changeStateAndEmit(producer, randomUUID());
      await held.connect();
      await held.startTransaction();
      const late = randomUUID();
      await producer.outbox.append(held.manager, 'batchRegistered', { batch: { domain: 1, batchId: late }, gtin: '09506000134352', lot: `L-${late.slice(0, 8)}` }, { subject: late, orgId: 'org-a' });
      for (let i = 0; i < 4; i++) await changeStateAndEmit(producer, randomUUID());
      const [{ keys }] = (await producer.ds.query(`SELECT array_agg(message_key ORDER BY id) AS keys FROM outbox WHERE sent_at IS NULL`)) as { keys: string[] }[];
      expect(keys).toHaveLength(5);
      const [a, b, c, d, e] = keys;
      expect(await drainer.drain()).toBe(6);
      // a and b (a full pass), then above b: c and d, then e (less than a batch), then from the start again: the
      // late one. Claiming from the lowest id every pass would have sent a b, late c, d e.
      expect(published).toEqual([[a, b], [c, d], [e], [late]]);
      await eventually(async () => [...(await effects(pair.consumer)).values()].length === 6 || undefined, 10_000, 10);
      expect(await effects(pair.consumer)).toEqual(new Map([a, b, c, d, e, late].map((k) => [k, 1])));
    } finally {
      if (held.isTransactionActive) await held.rollbackTransaction();
      await held.release();
    }
  });

  it('writes a long run of events in slices of the event loop, the same rows in the same order', async () => {
    const { producer } = pair;
    const ids = Array.from({ length: 300 }, () => randomUUID());
    // Turns of the event loop while the events are encoded: a slice budget of 0 gives the loop back after each.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    const written = await producer.ds.transaction(async (m) => {
      setImmediate(tick);
      const envelopes = await producer.outbox.appendMany(
        m,
        ids.map((id) => ({ eventCase: 'batchRegistered' as const, payload: { batch: { domain: 1, batchId: id } }, opts: { subject: id, orgId: 'org-a' } })),
        { slices: new EventLoopSlices(0) },
      );
      ticking = false;
      return envelopes;
    });
    expect(turns).toBeGreaterThanOrEqual(ids.length);
    expect(written.map((e) => e.type)).toEqual(ids.map(() => 'trace.v1.BatchRegistered'));
    const rows = (await producer.ds.query('SELECT event_id, message_key, payload FROM outbox WHERE message_key = ANY($1) ORDER BY id', [ids])) as { event_id: string; message_key: string; payload: Buffer }[];
    expect(rows.map((r) => [r.event_id, r.message_key])).toEqual(written.map((e, i) => [e.id, ids[i]]));
    expect(rows.map((r) => decodeEnvelope(r.payload))).toEqual(
      written.map((e, i) => expect.objectContaining({ id: e.id, subject: ids[i], payload: { case: 'batchRegistered', value: expect.objectContaining({ batch: expect.objectContaining({ batchId: ids[i] }) }) } })),
    );
    // Each applied once: delivered in order through the relay, as any run of events.
    const applied = await eventually(async () => {
      const now = await effects(pair.consumer);
      return ids.every((id) => now.has(id)) && now;
    }, 10_000, 10);
    expect(ids.map((id) => applied.get(id))).toEqual(ids.map(() => 1));
  });

  it.each([
    ['an empty outbox', 0],
    ['an outbox of sent rows only', 20_000],
  ])('claims a batch by its ids, however many rows wait, with statistics taken on %s', async (_, sent) => {
    await relay.stop();
    const { producer } = pair;
    const insert = (n: number, sentAt: string) =>
      producer.ds.query(
        `INSERT INTO outbox (event_id, topic, message_key, event_type, payload, sent_at)
         SELECT gen_random_uuid(), 'trace.batch.v1', 'k' || n, 'trace.v1.BatchRegistered', decode(repeat('ab', 800), 'hex'), ${sentAt} FROM generate_series(1, $1) n`,
        [n],
      );
    // Statistics that count (almost) no unsent row, then thousands of them: what a large capture or a recall
    // leaves the planner with until autovacuum analyzes again.
    if (sent) await insert(sent, 'now()');
    await producer.ds.query('ANALYZE outbox');
    await insert(5000, 'NULL');
    const [{ first }] = (await producer.ds.query('SELECT min(id)::text AS first FROM outbox WHERE sent_at IS NULL')) as { first: string }[];
    // From the start, and after a full pass (drainPasses goes on from the last id sent).
    for (const after of [undefined, String(BigInt(first) + 200n)]) {
      const runner = producer.ds.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        const [setting, claim] = outboxClaim(`'explain-${randomUUID()}'`, 200, after);
        await runner.query(setting);
        const [{ 'QUERY PLAN': [plan] }] = (await runner.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claim}`)) as { 'QUERY PLAN': { Plan: Record<string, unknown> }[] }[];
        const nodes: Record<string, unknown>[] = [];
        const walk = (n: Record<string, unknown>) => {
          nodes.push(n);
          for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
        };
        walk(plan.Plan);
        expect(nodes.find((n) => n['Node Type'] === 'LockRows')?.['Actual Rows']).toBe(200);
        // No step handles many more rows than the claim takes (a join may look one past it). Reading every unsent row (a bitmap heap scan, then a sort
        // of whole rows) handled 5,000 of them; `id IN (SELECT … LIMIT 200)` planned as a semi-join, which ran
        // the picking again for each of the 5,000 unsent rows, a million.
        expect(nodes.map((n) => n['Node Type'])).not.toContain('Bitmap Heap Scan');
        expect(Math.max(...nodes.map((n) => Number(n['Actual Rows'] ?? 0) * Number(n['Actual Loops'] ?? 1)))).toBeLessThanOrEqual(400);
        // A few pages per row claimed (each id is looked up in the index on its own, then its row locked: about
        // 650 for 200), whatever waits behind them.
        expect(Number(plan.Plan['Shared Hit Blocks'] ?? 0) + Number(plan.Plan['Shared Read Blocks'] ?? 0)).toBeLessThan(1000);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
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
