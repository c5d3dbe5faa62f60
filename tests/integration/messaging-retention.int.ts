import { randomUUID } from 'node:crypto';
import { MessagingRetention, pruneMessagingTables } from '@trace/messaging';
import { createLogger } from '@trace/platform';
import { eventually } from '@trace/testing';
import { startBackbonePair, type BackbonePair } from './harness';

const HOUR = 3_600_000;

/**
 * The outbox and the inbox do not grow for ever: sent outbox rows and inbox rows past their retention are
 * deleted (MessagingRetention runs this hourly in every service). What must never go: an unsent outbox row,
 * however old (it is an event still to deliver), and anything younger than its retention.
 */
describe('outbox and inbox retention (real PostgreSQL)', () => {
  let pair: BackbonePair;
  beforeAll(async () => {
    pair = await startBackbonePair('embedded');
    await pair.producer.relay.stop();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  /** Outbox rows in id order: `age` hours since creation, sent then (or never). */
  const outboxRows = async (rows: { age: number; sent: boolean }[]) => {
    const ids: string[] = [];
    for (const r of rows) {
      const [{ id }] = (await pair.producer.ds.query(
        `INSERT INTO outbox (event_id, topic, message_key, event_type, payload, created_at, sent_at)
         VALUES ($1, 'trace.batch.v1', 'k', 'trace.v1.BatchRegistered', '\\x00', now() - $2 * interval '1 hour', CASE WHEN $3 THEN now() - $2 * interval '1 hour' END)
         RETURNING id::text`,
        [randomUUID(), r.age, r.sent],
      )) as { id: string }[];
      ids.push(id);
    }
    return ids;
  };
  const remainingOutbox = async () => ((await pair.producer.ds.query('SELECT id::text FROM outbox ORDER BY id')) as { id: string }[]).map((r) => r.id);

  it('deletes sent outbox rows past their retention, a chunk at a time, and keeps every unsent row however old', async () => {
    const ids = await outboxRows([
      { age: 300, sent: true },
      { age: 299, sent: false }, // never delivered (a relay that was down): an event still owed to its consumers
      { age: 298, sent: true },
      { age: 297, sent: true },
      { age: 296, sent: true },
      { age: 295, sent: true },
      { age: 10, sent: true }, // within the retention
      { age: 1, sent: false },
    ]);
    // Chunks of two: the walk goes on past chunks, and past the unsent row among the old ones.
    expect(await pruneMessagingTables(pair.producer.ds, { outboxMs: 168 * HOUR, inboxMs: 0, chunk: 2 })).toEqual({ outbox: 5, inbox: 0 });
    expect(await remainingOutbox()).toEqual([ids[1], ids[6], ids[7]]);
    // Nothing more to do: a second run deletes nothing.
    expect(await pruneMessagingTables(pair.producer.ds, { outboxMs: 168 * HOUR, inboxMs: 0, chunk: 2 })).toEqual({ outbox: 0, inbox: 0 });
    // 0 keeps everything.
    expect(await pruneMessagingTables(pair.producer.ds, { outboxMs: 0, inboxMs: 0 })).toEqual({ outbox: 0, inbox: 0 });
    expect(await remainingOutbox()).toEqual([ids[1], ids[6], ids[7]]);
  });

  it('deletes inbox rows past their retention and keeps those within it, finding them by an index', async () => {
    const { ds } = pair.consumer;
    const consumer = pair.consumer.inbox.consumer;
    const old = [randomUUID(), randomUUID(), randomUUID()];
    const young = randomUUID();
    for (const id of old) {
      await ds.query(`INSERT INTO inbox (consumer, event_id, topic, event_type, processed_at) VALUES ($1, $2, 't', 'e', now() - interval '800 hours')`, [consumer, id]);
    }
    await ds.query(`INSERT INTO inbox (consumer, event_id, topic, event_type, processed_at) VALUES ($1, $2, 't', 'e', now() - interval '700 hours')`, [consumer, young]);
    expect(await pruneMessagingTables(ds, { outboxMs: 0, inboxMs: 720 * HOUR, chunk: 2 })).toEqual({ outbox: 0, inbox: 3 });
    const left = ((await ds.query('SELECT event_id FROM inbox WHERE event_id = ANY($1::uuid[])', [[...old, young]])) as { event_id: string }[]).map((r) => r.event_id);
    expect(left).toEqual([young]);
    // The old rows are found through the BRIN index, not by reading the whole inbox. On a table this small the
    // planner rightly reads it all, so it is asked for its plan with sequential scans off, on one connection.
    const runner = ds.createQueryRunner();
    try {
      await runner.query('SET enable_seqscan = off');
      const [{ 'QUERY PLAN': plan }] = (await runner.query(
        `EXPLAIN (FORMAT JSON) SELECT ctid FROM inbox WHERE processed_at < now() - interval '720 hours' LIMIT 5000`,
      )) as { 'QUERY PLAN': unknown }[];
      expect(JSON.stringify(plan)).toContain('inbox_processed_at_brin');
      await runner.query('RESET enable_seqscan');
    } finally {
      await runner.release();
    }
  });

  it('runs by itself once started, and stops', async () => {
    const [old] = await outboxRows([{ age: 400, sent: true }]);
    const retention = new MessagingRetention(pair.producer.ds, { service: 'agri', outboxMs: 168 * HOUR, inboxMs: 720 * HOUR, everyMs: HOUR, firstAfterMs: 10, logger: createLogger('silent') });
    retention.start();
    try {
      await eventually(async () => !(await remainingOutbox()).includes(old), 10_000, 20);
    } finally {
      await retention.stop();
    }
  });
});
