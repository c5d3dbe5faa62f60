import { WindowCounters } from './window-counters';

/** The in-memory request counters: the Redis store's rules (fixed window, block past the limit), O(1) a hit. */
describe('WindowCounters', () => {
  const T0 = 1_700_000_000_000;
  let counters: WindowCounters;
  beforeEach(() => {
    counters = new WindowCounters();
  });
  afterEach(() => counters.onApplicationShutdown());

  it('counts hits in a window opened by the first, and refuses the one past the limit for the block duration', () => {
    expect(counters.hit('a', 60_000, 2, 60_000, T0)).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    expect(counters.hit('a', 60_000, 2, 60_000, T0 + 10_000)).toEqual({ totalHits: 2, timeToExpire: 50, isBlocked: false, timeToBlockExpire: 0 });
    expect(counters.hit('a', 60_000, 2, 60_000, T0 + 20_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    // Blocked for the block duration from the refused hit, not to the end of the window.
    expect(counters.hit('a', 60_000, 2, 60_000, T0 + 70_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 10 });
    expect(counters.hit('a', 60_000, 2, 60_000, T0 + 80_000)).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('starts a new window once the old one is over, the count from one', () => {
    counters.hit('a', 1_000, 2, 1_000, T0);
    counters.hit('a', 1_000, 2, 1_000, T0 + 500);
    expect(counters.hit('a', 1_000, 2, 1_000, T0 + 1_000)).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 1 });
  });

  it('keeps one count per key', () => {
    counters.hit('a', 60_000, 1, 60_000, T0);
    expect(counters.hit('a', 60_000, 1, 60_000, T0).isBlocked).toBe(true);
    expect(counters.hit('b', 60_000, 1, 60_000, T0).isBlocked).toBe(false);
  });

  it('keeps one number per key however many hits (the throttler kept one timestamp a hit)', () => {
    for (let i = 0; i < 100_000; i++) counters.hit(`k${i % 10}`, 60_000, 1_000_000, 60_000, T0 + (i >> 4));
    expect(counters.size).toBe(10);
    expect(counters.hit('k0', 60_000, 1_000_000, 60_000, T0 + 59_000).totalHits).toBe(10_001);
  });

  it('drops the counters whose window and block are over, and only those', () => {
    counters.hit('open', 60_000, 5, 60_000, T0 + 30_000);
    counters.hit('done', 60_000, 5, 60_000, T0);
    counters.hit('blocked', 10_000, 0, 120_000, T0);
    counters.sweep(T0 + 61_000);
    expect(counters.size).toBe(2);
    expect(counters.hit('blocked', 10_000, 0, 120_000, T0 + 61_000).isBlocked).toBe(true);
    expect(counters.hit('open', 60_000, 5, 60_000, T0 + 61_000).totalHits).toBe(2);
  });

  it('answers the throttler storage interface', async () => {
    await expect(counters.increment('a', 60_000, 1, 60_000)).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expect(counters.increment('a', 60_000, 1, 60_000)).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
  });
});
