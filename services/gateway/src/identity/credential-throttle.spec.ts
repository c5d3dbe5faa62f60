import { createLogger, DomainError, MemoryCache, RequestBudgets, type PlatformConfig } from '@trace/platform';
import { CredentialThrottle, SecretCheckQueue } from './credential-throttle';

const config = { DB_SCHEMA_PREFIX: 't_', AUTH_RATE_LIMIT: 100, AUTH_CLIENT_FAILURES: 3, AUTH_ADDRESS_FAILURES: 5 } as PlatformConfig;
const budgets = () => RequestBudgets.fromConfig({ DB_SCHEMA_PREFIX: 't_' }, createLogger('silent'));
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as DomainError);

describe('CredentialThrottle', () => {
  const T0 = 1_800_000_000_000;

  it('locks a client id after its allowance of wrong secrets, each further one doubling the wait', async () => {
    const throttle = new CredentialThrottle(new MemoryCache(), config, createLogger('silent'), budgets());
    for (let i = 0; i < 2; i++) await throttle.failed('cli_a', `10.0.0.${i}`, T0);
    expect(await refusal(throttle.admit('cli_a', '10.0.0.9', T0))).toBeUndefined();
    await throttle.failed('cli_a', '10.0.0.3', T0); // third: locked for 1 s
    expect(await refusal(throttle.admit('cli_a', '10.0.0.9', T0))).toMatchObject({ status: 429, rule: 'rate-limited', extensions: { retryAfter: 1 } });
    await throttle.failed('cli_a', '10.0.0.4', T0); // fourth: 2 s
    await throttle.failed('cli_a', '10.0.0.5', T0); // fifth: 4 s
    expect(await refusal(throttle.admit('cli_a', '10.0.0.9', T0 + 1000))).toMatchObject({ extensions: { retryAfter: 3 } });
    expect(await refusal(throttle.admit('cli_a', '10.0.0.9', T0 + 4001))).toBeUndefined();
    // Another client from another address is not concerned; a success forgives the client.
    expect(await refusal(throttle.admit('cli_b', '10.0.0.9', T0))).toBeUndefined();
    await throttle.succeeded('cli_a');
    expect(await refusal(throttle.admit('cli_a', '10.0.0.9', T0))).toBeUndefined();
  });

  it('locks an address guessing across many client ids', async () => {
    const throttle = new CredentialThrottle(new MemoryCache(), config, createLogger('silent'), budgets());
    for (let i = 0; i < 5; i++) await throttle.failed(`unknown-${i}`, '192.0.2.7', T0);
    expect(await refusal(throttle.admit('anyone', '192.0.2.7', T0))).toMatchObject({ status: 429 });
    expect(await refusal(throttle.admit('anyone', '192.0.2.8', T0))).toBeUndefined();
  });

  it('gives each address a budget of requests per minute', async () => {
    const throttle = new CredentialThrottle(new MemoryCache(), { ...config, AUTH_RATE_LIMIT: 3 } as PlatformConfig, createLogger('silent'), budgets());
    for (let i = 0; i < 3; i++) expect(await refusal(throttle.admit(`c${i}`, '198.51.100.1'))).toBeUndefined();
    expect(await refusal(throttle.admit('c9', '198.51.100.1'))).toMatchObject({ status: 429, extensions: { retryAfter: 60 } });
    expect(await refusal(throttle.admit('c9', '198.51.100.2'))).toBeUndefined();
  });
});

describe('SecretCheckQueue', () => {
  it('runs at most `concurrency` checks, queues `capacity` more and turns the rest away at once', async () => {
    const queue = new SecretCheckQueue({ AUTH_SCRYPT_CONCURRENCY: 2, AUTH_SCRYPT_QUEUE: 3 });
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const check = () =>
      new Promise<string>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve('ok');
        });
      });
    const calls = Array.from({ length: 8 }, () => queue.run(check).catch((e: DomainError) => e));
    await new Promise((r) => setImmediate(r));
    expect(queue.load).toEqual({ active: 2, waiting: 3 });
    // The three beyond capacity were refused without waiting.
    const refused = await Promise.all(calls.slice(5));
    expect(refused.map((e) => (e as DomainError).rule)).toEqual(['token-endpoint-busy', 'token-endpoint-busy', 'token-endpoint-busy']);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls.slice(0, 5))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(peak).toBe(2);
    expect(queue.load).toEqual({ active: 0, waiting: 0 });
  });
});
