import { loadConfig, MemoryCache, Metrics, createLogger } from '@trace/platform';
import type { InboxDispatcher } from '@trace/messaging';
import { ScanCache } from './scan.cache';

/** The cache's bookkeeping over the in-memory store (the Redis store is exercised by tests/integration/scan-shared.int.ts). */
describe('ScanCache', () => {
  /** The run handlers it registers, by case: each takes a run of `{ payload }`. */
  const handlers = new Map<string, (run: { payload: any }[]) => Promise<void>>();
  const inbox = { onRun: (c: string, h: (run: { payload: any }[]) => Promise<void>) => handlers.set(c, h) } as unknown as InboxDispatcher;
  const make = (ttl = 300) => {
    const cache = new ScanCache(new MemoryCache(), loadConfig({ SCAN_CACHE_TTL_SECONDS: String(ttl) }), inbox, createLogger('silent'), new Metrics(false));
    cache.onModuleInit();
    return cache;
  };
  let version = 0;
  const compute = (deps = ['lot', 'input']) => async () => ({ value: { v: ++version }, dependsOn: deps });

  it('learns the dependencies on the first scan, caches from the second, serves hits after', async () => {
    const cache = make();
    expect(await cache.get('k', compute())).toMatchObject({ hit: false });
    const second = await cache.get('k', compute());
    expect(second.hit).toBe(false);
    expect(await cache.get('k', compute())).toEqual({ value: second.value, hit: true });
  });

  it('is stale once any batch it was built from has an event, the lot or an input', async () => {
    const cache = make();
    for (const dep of ['lot', 'input']) {
      await cache.get('k', compute());
      await cache.get('k', compute());
      expect((await cache.get('k', compute())).hit).toBe(true);
      await cache.invalidate(dep);
      expect((await cache.get('k', compute())).hit).toBe(false);
      expect((await cache.get('k', compute())).hit).toBe(true); // rebuilt and cached again
    }
  });

  it('does not keep an answer built while an event about it arrived', async () => {
    const cache = make();
    await cache.get('k', compute());
    const racing = async () => {
      const out = await compute()();
      await cache.invalidate('lot'); // the event lands after the read, before the answer is stored
      return out;
    };
    expect((await cache.get('k', racing)).hit).toBe(false);
    expect((await cache.get('k', compute())).hit).toBe(false);
  });

  it('takes the batch from each kind of event it listens to', async () => {
    const cache = make();
    const events: [string, unknown, string][] = [
      ['traceEventRecorded', { batch: { batchId: 'lot' } }, 'lot'],
      ['recallInitiated', { item: { batch: { batchId: 'lot' } } }, 'lot'],
      ['recallInitiated', { items: [{ batch: { batchId: 'other' } }, { batch: { batchId: 'lot' } }] }, 'lot'],
      ['inspectionRecorded', { batch: { batchId: 'lot' } }, 'lot'],
      ['certificateIssued', { batch: { batchId: 'lot' } }, 'lot'],
      ['transformationRecorded', { output: { batchId: 'other' }, inputs: [{ batch: { batchId: 'input' } }] }, 'input'],
    ];
    for (const [eventCase, payload] of events) {
      await cache.get('k', compute());
      await cache.get('k', compute());
      expect((await cache.get('k', compute())).hit).toBe(true);
      await handlers.get(eventCase)!([{ payload }]);
      expect({ eventCase, hit: (await cache.get('k', compute())).hit }).toEqual({ eventCase, hit: false });
    }
  });

  it('bumps every batch a run names, each once, in one write', async () => {
    const store = new MemoryCache();
    const setMany = jest.spyOn(store, 'setMany');
    const cache = new ScanCache(store, loadConfig({ SCAN_CACHE_TTL_SECONDS: '300' }), inbox, createLogger('silent'), new Metrics(false));
    cache.onModuleInit();
    for (const deps of [['lot'], ['input'], ['untouched']]) {
      await cache.get(deps[0], compute(deps));
      await cache.get(deps[0], compute(deps));
    }
    await handlers.get('traceEventRecorded')!([{ payload: { batch: { batchId: 'lot' } } }, { payload: { batch: { batchId: 'input' } } }, { payload: { batch: { batchId: 'lot' } } }]);
    expect(setMany).toHaveBeenCalledTimes(1);
    expect(setMany.mock.calls[0][0]).toHaveLength(2);
    expect((await cache.get('lot', compute(['lot']))).hit).toBe(false);
    expect((await cache.get('input', compute(['input']))).hit).toBe(false);
    expect((await cache.get('untouched', compute(['untouched']))).hit).toBe(true);
  });

  it('peeks synchronously over the memory store: a valid hit, then nothing once a batch it depends on has an event', async () => {
    const cache = make();
    expect(cache.peek('k')).toBeUndefined();
    await cache.get('k', compute());
    const { value } = await cache.get('k', compute());
    const hit = cache.peek<{ v: number }>('k');
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ value });
    expect((cache.peek('k') as { stamp: string }).stamp).toBe((hit as { stamp: string }).stamp);
    await cache.invalidate('input');
    expect(cache.peek('k')).toBeUndefined();
  });

  it('computes every time when turned off (TTL 0)', async () => {
    const cache = make(0);
    for (let i = 0; i < 3; i++) expect((await cache.get('k', compute())).hit).toBe(false);
  });
});
