import { randomUUID } from 'node:crypto';
import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { inboundMessage, startTestService, startTransport, type TestService, type TransportFixture } from './harness';

/**
 * A handler may name the events of its case it acts on (`when`, decided from the event alone). An event
 * no handler of a consumer acts on costs that consumer no transaction and no inbox row: it is `ignored`,
 * at every delivery alike. The others are applied, in runs, as before.
 */
describe('inbox: handlers with a filter, steps applied topic by topic', () => {
  const prefix = uniquePrefix('filter');
  let fx: TransportFixture;
  let consumer: TestService;

  beforeAll(async () => {
    fx = await startTransport('embedded', prefix);
    consumer = await startTestService('notifier_like', prefix, fx.transport);
  });

  afterAll(async () => {
    await consumer?.ds.destroy();
    await fx?.stop();
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  const chainEvent = (bizStep: string, toOrgId = '') =>
    inboundMessage('traceEventRecorded', { batch: { domain: 1, batchId: randomUUID() }, eventId: randomUUID(), bizStep, toOrgId });
  /** A consumer of its own for one test (its handlers apart from the others'), closed after it. */
  const withConsumer = async (name: string, body: (other: TestService) => Promise<void>) => {
    const other = await startTestService(name, prefix, fx.transport);
    try {
      await body(other);
    } finally {
      await other.ds.destroy();
    }
  };
  const inboxRows = async () => ((await consumer.ds.query(`SELECT count(*)::int AS n FROM inbox`)) as { n: number }[])[0].n;

  it('applies the events it acts on, in one run; the others are ignored without an inbox row, again at a re-delivery', async () => {
    const runs: string[][] = [];
    consumer.inbox.onRun('traceEventRecorded', async (events) => void runs.push(events.map((e) => e.payload.bizStep)), {
      when: (e) => e.bizStep === 'shipping' && e.toOrgId !== '',
    });
    const messages = [chainEvent('storing'), chainEvent('shipping', 'org-2'), chainEvent('shipping'), chainEvent('shipping', 'org-3'), chainEvent('receiving')];
    expect(await consumer.inbox.dispatchBatch(messages)).toEqual(['ignored', 'processed', 'ignored', 'processed', 'ignored']);
    expect(runs).toEqual([['shipping', 'shipping']]);
    expect(await inboxRows()).toBe(2);
    // Delivered again: the shipments are duplicates, the rest ignored as before; nothing is applied twice.
    expect(await consumer.inbox.dispatchBatch(messages)).toEqual(['ignored', 'duplicate', 'ignored', 'duplicate', 'ignored']);
    expect(await consumer.inbox.dispatch(messages[0])).toBe('ignored');
    expect(runs).toHaveLength(1);
    expect(await inboxRows()).toBe(2);
  });

  it('applies a step topic by topic (batches first), each topic in its order: chain events cut by registrations make one run', async () => {
    await withConsumer('by_topic', async (other) => {
      const applied: string[] = [];
      other.inbox.onRun('traceEventRecorded', async (events) => void applied.push(`run ${events.map((e) => e.payload.bizStep).join(',')}`));
      other.inbox.onRun('batchRegistered', async (events) => void applied.push(`registered ${events.map((e) => e.payload.lot).join(',')}`));
      const registration = (lot: string) => inboundMessage('batchRegistered', { gtin: '09506000134352', lot });
      const step = [chainEvent('commissioning'), registration('L1'), chainEvent('shipping', 'org-2'), registration('L2'), chainEvent('receiving')];
      expect(await other.inbox.dispatchBatch(step)).toEqual(['processed', 'processed', 'processed', 'processed', 'processed']);
      expect(applied).toEqual(['registered L1,L2', 'run commissioning,shipping,receiving']);
    });
  });

  it('hands a run to every run handler of its case, in registration order, each with the events it acts on', async () => {
    await withConsumer('two_runs', async (other) => {
      const applied: string[] = [];
      other.inbox.onRun('traceEventRecorded', async (events) => void applied.push(`all ${events.map((e) => e.payload.bizStep).join(',')}`));
      other.inbox.onRun('traceEventRecorded', async (events) => void applied.push(`shipments ${events.map((e) => e.payload.bizStep).join(',')}`), {
        when: (e) => e.bizStep === 'shipping',
      });
      const step = [chainEvent('storing'), chainEvent('shipping', 'org-2'), chainEvent('receiving')];
      expect(await other.inbox.dispatchBatch(step)).toEqual(['processed', 'processed', 'processed']);
      expect(applied).toEqual(['all storing,shipping,receiving', 'shipments shipping']);
    });
  });

  it('dead-letters an event its filter fails on, as it would fail at every delivery', async () => {
    await withConsumer('filter_fails', async (other) => {
      other.inbox.on('traceEventRecorded', async () => undefined, {
        when: () => {
          throw new Error('no such field');
        },
      });
      expect(await other.inbox.dispatch(chainEvent('storing'))).toBe('dead-lettered');
      const [row] = (await other.ds.query(`SELECT reason FROM dead_letters`)) as { reason: string }[];
      expect(row.reason).toMatch(/filter failed on it: no such field/);
      expect(((await other.ds.query(`SELECT count(*)::int AS n FROM inbox`)) as { n: number }[])[0].n).toBe(0);
    });
  });
});
