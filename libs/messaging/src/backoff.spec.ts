import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([
    [1, 100, 100],
    [2, 100, 200],
    [3, 100, 400],
    [5, 100, 1600],
    [1, 7, 7],
  ])('attempt %i with base %i stays within [exp/2, exp] for exp=%i', (attempt, base, exp) => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, base);
      expect(d).toBeGreaterThanOrEqual(Math.floor(exp / 2));
      expect(d).toBeLessThanOrEqual(exp);
      expect(Number.isInteger(d)).toBe(true);
    }
  });

  it('reaches both ends of the jitter range', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffDelay(3, 100)).toBe(200);
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(backoffDelay(3, 100)).toBe(400);
  });

  it('caps at capMs (default 30 s)', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(backoffDelay(30, 100)).toBe(30_000);
    expect(backoffDelay(1000, 100)).toBe(30_000);
    expect(backoffDelay(10, 100, 5_000)).toBe(5_000);
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffDelay(1000, 100)).toBe(15_000);
    expect(backoffDelay(10, 100, 5_000)).toBe(2_500);
  });

  it('never exceeds the cap, whatever the attempt', () => {
    for (let attempt = 1; attempt < 80; attempt++) {
      const d = backoffDelay(attempt, 250, 10_000);
      expect(d).toBeLessThanOrEqual(10_000);
      expect(d).toBeGreaterThanOrEqual(Math.min(10_000, 250 * 2 ** (attempt - 1)) / 2);
    }
  });

  it('treats attempt 0 or negative like attempt 1', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(backoffDelay(0, 100)).toBe(100);
    expect(backoffDelay(-3, 100)).toBe(100);
  });

  it('grows with the attempt number', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const delays = [1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(new Set(delays).size).toBe(5);
  });
});

describe('sleep', () => {
  it('resolves after roughly the given time', async () => {
    const start = Date.now();
    await sleep(5);
    expect(Date.now() - start).toBeGreaterThanOrEqual(4);
  });
});
