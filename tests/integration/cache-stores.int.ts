import { randomUUID } from 'node:crypto';
import { MemoryCache, RedisCache, type CacheStore } from '@trace/platform';

/**
 * Both cache stores, the Redis one on the real Redis of the run: setMany writes every key with the value
 * and time to live given (the scan cache bumps a whole run's batches with it, one round trip).
 */
describe.each([
  ['memory', () => new MemoryCache()],
  ['redis', () => new RedisCache(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/15', `test-cache-${randomUUID()}:`)],
])('%s cache store', (_kind, make: () => CacheStore) => {
  let store: CacheStore;
  beforeAll(() => {
    store = make();
  });
  afterAll(async () => {
    await store.close();
  });

  it('setMany sets every key to the value, replacing what was there; none is a no-op', async () => {
    await store.set('b', 'old', 60);
    await store.setMany(['a', 'b', 'c'], 'v2', 60);
    expect(await Promise.all(['a', 'b', 'c', 'd'].map((k) => store.get(k)))).toEqual(['v2', 'v2', 'v2', null]);
    await store.setMany([], 'v3', 60);
    expect(await store.get('a')).toBe('v2');
  });

  it('setMany keys expire with the time to live given', async () => {
    await store.setMany(['short-1', 'short-2'], 'v', 1);
    expect(await store.get('short-1')).toBe('v');
    const until = Date.now() + 5_000;
    let left: (string | null)[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      left = await Promise.all(['short-1', 'short-2'].map((k) => store.get(k)));
    } while (left.some((v) => v !== null) && Date.now() < until);
    expect(left).toEqual([null, null]);
  });
});
