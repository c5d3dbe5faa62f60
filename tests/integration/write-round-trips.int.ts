import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditStore } from '@trace/platform';
import { eventually } from '@trace/testing';
import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/**
 * What one write costs in round trips to PostgreSQL (issue 14 item 1): every
 * statement the process sends through `pg` while a request is answered is
 * recorded with the connection that sent it. The chain event's transaction is
 * found by its INSERT INTO trace_events and counted from its START
 * TRANSACTION to its COMMIT on that connection; statements on other
 * connections in the same window (delivery, relays) are not counted, only
 * checked for the reads the write no longer makes.
 */
describe('round trips of the write path (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  const query = Client.prototype.query;
  /** `steps`: a pipeline's statements (several in one round trip), each with its parameters. */
  let sent: { client: unknown; text: string; steps?: { text: string; values?: unknown[] }[] }[] | undefined;

  beforeAll(async () => {
    Client.prototype.query = function recorded(this: Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string; steps?: { text: string; values?: unknown[] }[] };
      sent?.push({
        client: this,
        text: (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').trim(),
        ...(typeof first === 'object' && first?.steps ? { steps: first.steps } : {}),
      });
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query;
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Round-trip farm');
    await aProduct(A.api, 'agri', '09506000134352', 'grain');
  });
  afterAll(async () => {
    Client.prototype.query = query;
    await t?.close();
  });

  /**
   * The round trips sent while `write` runs, and those of the transaction that wrote `marker` on its connection: from
   * the one that starts with START TRANSACTION to the one that ends with COMMIT (statements pipelined in one round trip
   * are one text, joined by "; ").
   */
  async function recording(write: () => Promise<unknown>, marker: RegExp) {
    sent = [];
    await write();
    const all = sent;
    sent = undefined;
    const writer = all.find((s) => marker.test(s.text))?.client;
    const own = all.filter((s) => s.client === writer).map((s) => s.text);
    const at = own.findIndex((s) => marker.test(s));
    let begin = at;
    while (begin > 0 && !own[begin].startsWith('START TRANSACTION')) begin--;
    const end = own.findIndex((s, i) => i >= at && /(^|; )COMMIT$/.test(s));
    return { all: all.map((s) => s.text), transaction: own.slice(begin, end + 1) };
  }

  /** Each round trip as the first two words of each statement in it. */
  const shape = (trips: string[]) => trips.map((t) => t.split('; ').map((q) => q.split(' ').slice(0, 2).join(' ')).join(' + '));

  it('a chain event is one transaction of two round trips: START with lock, visibility and holdings; link, head and outbox with COMMIT', async () => {
    const batch = await A.api.post('/v1/agri/batches', aBatch('RT-1', A.locations.farm));
    expect(batch.status).toBe(201);
    const storing = { bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm };
    // The first event has the directory asked for the location; the second finds it in memory.
    expect((await A.api.post(`/v1/agri/batches/${batch.body.id}/events`, storing)).status).toBe(201);
    const { all, transaction } = await recording(
      async () => expect((await A.api.post(`/v1/agri/batches/${batch.body.id}/events`, storing)).status).toBe(201),
      /INSERT INTO trace_events/,
    );
    expect(shape(transaction)).toEqual([
      // the row lock and "may they see it" in one statement, sent with the START; the holdings and what left the
      // batch read right after it, under the lock, in the same round trip
      'START TRANSACTION + SELECT b.*, + SELECT org_id,',
      'WITH link + WITH wake + COMMIT', // the link and the new chain head, and the outbox row, sent with the COMMIT
    ]);
    expect(transaction[0]).toMatch(/FOR UPDATE OF b; SELECT org_id, .* FROM batch_holdings WHERE batch_id = \$1 ORDER BY org_id$/);
    expect(transaction[1]).toMatch(/UPDATE batches SET .* WHERE id = \$4::uuid\)/);
    // No read ahead of the transaction that the write answers itself.
    expect(all.filter((s) => /FROM batches WHERE id = \$1$|FROM batch_custody WHERE|FROM locations/.test(s))).toEqual([]);
  });

  it('delivery: a relay pass is two round trips (START with lock and claim; mark with COMMIT), a consumer\'s START goes with its inbox rows', async () => {
    sent = [];
    expect((await A.api.post('/v1/agri/batches', aBatch('RT-3', A.locations.farm))).status).toBe(201);
    // A pass begun before the recording (the previous test's delivery) is seen without its claim: wait for one seen whole.
    const claimOf = (all: { client: unknown; text: string }[], mark: { client: unknown; text: string }) => {
      const own = all.filter((s) => s.client === mark.client);
      return own[own.indexOf(mark) - 1]?.text;
    };
    const all = await eventually(async () =>
      sent?.some((s) => /^UPDATE outbox SET sent_at/.test(s.text) && claimOf(sent!, s) !== undefined) ? [...sent] : undefined,
    );
    sent = undefined;
    const mark = all.find((s) => /^UPDATE outbox SET sent_at/.test(s.text) && claimOf(all, s) !== undefined)!;
    expect(claimOf(all, mark)).toMatch(
      /^START TRANSACTION; SET LOCAL enable_bitmapscan = off; WITH lock AS MATERIALIZED \(SELECT pg_try_advisory_xact_lock\(.*FROM lock LEFT JOIN LATERAL \( SELECT \* FROM outbox WHERE id = ANY\(ARRAY\(SELECT id FROM outbox WHERE lock.locked .*FOR UPDATE SKIP LOCKED \) o ON true$/,
    );
    expect(mark.text).toMatch(/; COMMIT$/);
    expect(all.filter((s) => /^SELECT pg_try_advisory_xact_lock/.test(s.text))).toEqual([]);
    // Each consumer's transaction opens with its inbox rows in the same round trip.
    const consumers = all.filter((s) => /INSERT INTO inbox/.test(s.text)).map((s) => s.text);
    expect(consumers.length).toBeGreaterThan(0);
    // One text whatever the run's length (the rows as arrays), so it runs prepared.
    for (const text of consumers) expect(text).toMatch(/^START TRANSACTION; INSERT INTO inbox \(consumer, event_id, topic, event_type\) SELECT \$1, \* FROM unnest\(/);
  });

  /** The statements of `consumer`'s transaction that applied `batchId`'s event (from its START with the inbox rows to its COMMIT), once it committed. */
  async function consumerTransaction(consumer: string, write: () => Promise<void>, applies: RegExp): Promise<string[]> {
    sent = [];
    await write();
    const found = await eventually(async () => {
      const all = [...(sent ?? [])];
      const starts = all.filter((s) => s.text.startsWith('START TRANSACTION; INSERT INTO inbox') && s.steps?.[1]?.values?.[0] === consumer);
      for (const start of starts) {
        const own = all.filter((s) => s.client === start.client);
        const tx = own.slice(own.indexOf(start)).map((s) => s.text);
        const end = tx.findIndex((q) => /(^|; )COMMIT$/.test(q));
        if (end > 0 && tx.slice(0, end).some((q) => applies.test(q))) return tx.slice(0, end + 1);
      }
      return undefined;
    });
    sent = undefined;
    // Each round trip as the first three words of each statement in it.
    return found.map((q) => q.split('; ').map((x) => x.split(' ').slice(0, 3).join(' ')).join(' + '));
  }

  it('lineage applies a registration in two round trips after its inbox rows (the second with the COMMIT), and a chain event in two', async () => {
    let batchId = '';
    const registration = await consumerTransaction(
      'lineage',
      async () => {
        const r = await A.api.post('/v1/agri/batches', aBatch('RT-4', A.locations.farm));
        expect(r.status).toBe(201);
        batchId = r.body.id;
      },
      /INSERT INTO lineage_nodes/,
    );
    expect(registration).toEqual([
      'START TRANSACTION + INSERT INTO inbox',
      'WITH x AS', // nodes and the owner's custody (their rows update the in-memory graph)
      // holdings and the FSMA projector's lots: nothing reads them back, they go with the COMMIT
      'INSERT INTO lineage_holdings + INSERT INTO fsma_lots + COMMIT',
    ]);
    const storing = { bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm };
    const event = await consumerTransaction(
      'lineage',
      async () => expect((await A.api.post(`/v1/agri/batches/${batchId}/events`, storing)).status).toBe(201),
      /UPDATE lineage_nodes/,
    );
    expect(event).toEqual([
      'START TRANSACTION + INSERT INTO inbox',
      'SELECT batch_id, status,', // the nodes under their row locks (placeholders only for those missing)
      'WITH custody AS', // custody and the nodes' new state
      'COMMIT',
    ]);
  });

  it('audit entries recorded together are one INSERT, kept in the order recorded', async () => {
    const store = t.app.get(AuditStore, { strict: false });
    const orgId = `rt-audit-${randomUUID()}`;
    sent = [];
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((resourceId) =>
        store.record({ clientId: 'rt', orgId, role: 'operator', method: 'POST', route: '/v1/rt', resourceId, correlationId: null, status: 201 }),
      ),
    );
    const inserts = sent.filter((s) => /INSERT INTO audit_log/.test(s.text));
    sent = undefined;
    expect(inserts).toHaveLength(1);
    const page = await t.as('platform', 'admin').get(`/v1/audit?orgId=${orgId}`);
    expect(page.status).toBe(200);
    expect(page.body.items.map((e: { resourceId: string }) => e.resourceId)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a registration is one transaction of two round trips: START with batch, custody, holdings and first link together, outbox with COMMIT', async () => {
    const { all, transaction } = await recording(
      async () => expect((await A.api.post('/v1/agri/batches', aBatch('RT-2', A.locations.farm))).status).toBe(201),
      /INSERT INTO batches/,
    );
    expect(shape(transaction)).toEqual(['START TRANSACTION + WITH x', 'WITH wake + COMMIT']);
    expect(transaction[0]).toMatch(/INSERT INTO batch_custody.*INSERT INTO batch_holdings.*INSERT INTO batches.*INSERT INTO trace_events/);
    // The lot's identity claim and the row that holds it: one statement.
    expect(all.filter((s) => /item_claims/.test(s))).toEqual([expect.stringMatching(/^WITH x AS MATERIALIZED .*INSERT INTO item_claims .*UNION ALL SELECT .* CROSS JOIN LATERAL \(SELECT \* FROM item_claims c WHERE/)]);
    // The product is known from the first registration; the lot's uniqueness is the index's to refuse.
    expect(all.filter((s) => /FROM products WHERE gtin|SELECT 1 FROM batches WHERE gtin/.test(s))).toEqual([]);
    // And it does refuse, with the same answer as before, and rolls back.
    const again = await A.api.post('/v1/agri/batches', aBatch('RT-2', A.locations.farm));
    expect({ status: again.status, type: again.body.type }).toEqual({ status: 409, type: expect.stringMatching(/duplicate-lot$/) });
  });

  it('a refused chain event rolls back after its pipelined START, and the connections serve the next writes', async () => {
    const batch = await A.api.post('/v1/agri/batches', aBatch('RT-5', A.locations.farm));
    expect(batch.status).toBe(201);
    // Refused under the row lock, that is after the START went out with the lock.
    const commissioning = { bizStep: 'commissioning', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm };
    const { all } = await recording(
      async () => expect((await A.api.post(`/v1/agri/batches/${batch.body.id}/events`, commissioning)).status).toBe(422),
      /FOR UPDATE OF b$/,
    );
    expect(all.filter((s) => /^START TRANSACTION; SELECT b\.\*|^ROLLBACK$/.test(s)).map((s) => s.split(';')[0])).toEqual(['START TRANSACTION', 'ROLLBACK']);
    const storing = { bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm };
    const answers = await Promise.all(Array.from({ length: 8 }, () => A.api.post(`/v1/agri/batches/${batch.body.id}/events`, storing)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((a) => a.body.seq)).size).toBe(8);
  });
});
