import { createLogger, DomainError, loadConfig, MemoryCache, type CacheStore } from '@trace/platform';
import { ScanRateLimiter } from './rate-limit';

describe('ScanRateLimiter', () => {
  const make = (store: CacheStore = new MemoryCache()) =>
    new ScanRateLimiter(store, loadConfig({ SCAN_RATE_LIMIT: '2', SCAN_RATE_WINDOW_SECONDS: '60' }), createLogger('silent'));
  const window = 60_000 * 1000; // some clock-aligned window start

  it('lets the budget through, then refuses with a 429 whose Retry-After is what is left of the window', async () => {
    const limiter = make();
    await limiter.take('1.2.3.4', window + 1_000);
    await limiter.take('1.2.3.4', window + 2_000);
    const refused = await limiter.take('1.2.3.4', window + 15_500).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ status: 429, rule: 'rate-limited', extensions: { retryAfter: 45 } });
    await limiter.take('5.6.7.8', window + 16_000); // another address, another budget
    await limiter.take('1.2.3.4', window + 60_000); // the next window starts afresh
  });

  it('lets requests through when the store is down rather than failing the scan', async () => {
    const broken = { incr: () => Promise.reject(new Error('ECONNREFUSED')) } as unknown as CacheStore;
    const limiter = make(broken);
    for (let i = 0; i < 5; i++) await limiter.take('1.2.3.4');
  });
});
