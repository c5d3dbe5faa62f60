import { createLogger } from './logging';
import { DomainError } from './problem';
import { RequestBudgets, type Budget } from './request-budget';

const scans: Budget = { name: 'scan', limit: 2, windowSeconds: 60, what: 'scans from this address' };
const lookups: Budget = { name: 'lookup', limit: 1, windowSeconds: 60, what: 'look-ups from this address' };
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('RequestBudgets (counted in process memory)', () => {
  let budgets: RequestBudgets;
  beforeEach(() => {
    budgets = RequestBudgets.fromConfig({ DB_SCHEMA_PREFIX: 't_' }, createLogger('silent'));
  });
  afterEach(() => budgets.close());

  it('lets the budget through, then refuses with a 429 problem whose Retry-After is at most the window', async () => {
    await budgets.take(scans, '1.2.3.4');
    await budgets.take(scans, '1.2.3.4');
    const refused = await refusal(budgets.take(scans, '1.2.3.4'));
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ status: 429, rule: 'rate-limited', message: expect.stringContaining('scans from this address') });
    const retryAfter = (refused as DomainError).extensions?.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('keeps one budget per tracker and per budget name', async () => {
    await budgets.take(lookups, '1.2.3.4');
    expect(await refusal(budgets.take(lookups, '1.2.3.4'))).toMatchObject({ status: 429 });
    expect(await refusal(budgets.take(lookups, '5.6.7.8'))).toBeUndefined(); // another address
    expect(await refusal(budgets.take(scans, '1.2.3.4'))).toBeUndefined(); // another budget of the same address
  });

  it('starts afresh once the window has passed', async () => {
    const short: Budget = { name: 'short', limit: 1, windowSeconds: 1, what: 'requests' };
    await budgets.take(short, '1.2.3.4');
    expect(await refusal(budgets.take(short, '1.2.3.4'))).toMatchObject({ status: 429, extensions: { retryAfter: 1 } });
    jest.useFakeTimers({ now: Date.now() + 1_100, doNotFake: ['setImmediate', 'nextTick'] });
    try {
      expect(await refusal(budgets.take(short, '1.2.3.4'))).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts synchronously with takeNow: the budget at once, then a thrown 429', () => {
    expect(budgets.takeNow(scans, '1.2.3.4')).toBeUndefined();
    expect(budgets.takeNow(scans, '1.2.3.4')).toBeUndefined();
    let thrown: unknown;
    try {
      budgets.takeNow(scans, '1.2.3.4');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ status: 429, rule: 'rate-limited' });
    // take() and takeNow() count the same budget.
    return expect(refusal(budgets.take(scans, '1.2.3.4'))).resolves.toMatchObject({ status: 429 });
  });

  it('keeps long trackers (client ids, IPv6) apart, hashed', async () => {
    const long = (c: string) => `client-${c.repeat(60)}`;
    await budgets.take(lookups, long('a'));
    expect(await refusal(budgets.take(lookups, long('a')))).toMatchObject({ status: 429 });
    expect(await refusal(budgets.take(lookups, long('b')))).toBeUndefined();
  });

  it('lets requests through when the store is down rather than failing the request', async () => {
    const broken = new RequestBudgets({ increment: () => Promise.reject(new Error('ECONNREFUSED')) }, 'rl:', createLogger('silent'));
    for (let i = 0; i < 5; i++) expect(await refusal(broken.take(lookups, '1.2.3.4'))).toBeUndefined();
    await expect(broken.takeNow(lookups, '1.2.3.4')).resolves.toBeUndefined(); // a remote store: a promise, let through
  });
});

describe('RequestBudgets over Redis (shared by every instance)', () => {
  const url = process.env.REDIS_URL;
  (url ? it : it.skip)('counts one budget across two instances, each with its own connection', async () => {
    const prefix = `t${process.pid}${Date.now()}_`;
    const a = RequestBudgets.fromConfig({ REDIS_URL: url, DB_SCHEMA_PREFIX: prefix }, createLogger('silent'));
    const b = RequestBudgets.fromConfig({ REDIS_URL: url, DB_SCHEMA_PREFIX: prefix }, createLogger('silent'));
    try {
      await a.take(scans, '203.0.113.9');
      await b.take(scans, '203.0.113.9');
      expect(await refusal(a.take(scans, '203.0.113.9'))).toMatchObject({ status: 429, rule: 'rate-limited' });
      expect(await refusal(b.take(scans, '203.0.113.9'))).toMatchObject({ status: 429 });
      expect(await refusal(b.take(scans, '203.0.113.10'))).toBeUndefined();
    } finally {
      a.close();
      b.close();
    }
  });
});
