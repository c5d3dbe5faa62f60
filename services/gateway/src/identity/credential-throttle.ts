import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CACHE_STORE,
  DomainError,
  LOGGER,
  PLATFORM_CONFIG,
  REQUEST_BUDGETS,
  type Budget,
  type CacheStore,
  type Logger,
  type PlatformConfig,
  type RequestBudgets,
} from '@trace/platform';

/** Longest wait one more wrong secret can cost. */
const MAX_BACKOFF_SECONDS = 900;
/** How long failures are remembered (a quiet hour forgives them). */
const FAILURE_MEMORY_SECONDS = 3600;

const tooMany = (retryAfter: number, what: string) =>
  new DomainError(429, 'rate-limited', `Too many ${what}; try again in ${retryAfter} s`, { retryAfter });

/**
 * Guessing secrets at the token endpoint: a budget of AUTH_RATE_LIMIT requests
 * per client address and minute (the shared request budgets), and progressive back-off per client id and per address
 * — after AUTH_CLIENT_FAILURES (AUTH_ADDRESS_FAILURES) wrong secrets each
 * further one locks the next try for 1, 2, 4 … s, up to 15 minutes; a right
 * secret during the lock is refused too (429 with Retry-After), and a success
 * forgives the client's failures. Counted in the platform cache: Redis,
 * shared by every gateway, when distributed; memory when embedded.
 */
@Injectable()
export class CredentialThrottle {
  private readonly prefix: string;
  private readonly budget: Budget;

  constructor(
    @Inject(CACHE_STORE) private readonly store: CacheStore,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REQUEST_BUDGETS) private readonly budgets: RequestBudgets,
  ) {
    this.prefix = `auth:${config.DB_SCHEMA_PREFIX}`;
    this.budget = { name: 'token', limit: config.AUTH_RATE_LIMIT, windowSeconds: 60, what: 'token requests from this address' };
  }

  /** Before a secret is checked: the address's budget, then any lock on the client id or the address. */
  async admit(clientId: string, address: string, now = Date.now()): Promise<void> {
    await this.budgets.take(this.budget, address);
    try {
      for (const key of [this.clientKey('lock', clientId), `${this.prefix}lock:addr:${address}`]) {
        const until = Number((await this.store.get(key)) ?? 0);
        if (until > now) throw tooMany(Math.max(1, Math.ceil((until - now) / 1000)), 'failed sign-ins');
      }
    } catch (err) {
      if (err instanceof DomainError) throw err;
      // A cache outage must not lock everyone out; the scrypt queue still bounds the work.
      this.logger.warn({ err }, 'credential throttle store unavailable; request let through');
    }
  }

  /** A wrong secret (or an unknown client): counts against both, and locks once past the allowance. */
  async failed(clientId: string, address: string, now = Date.now()): Promise<void> {
    try {
      await this.count(this.clientKey('fail', clientId), this.clientKey('lock', clientId), this.config.AUTH_CLIENT_FAILURES, now);
      await this.count(`${this.prefix}fail:addr:${address}`, `${this.prefix}lock:addr:${address}`, this.config.AUTH_ADDRESS_FAILURES, now);
    } catch (err) {
      this.logger.warn({ err }, 'credential throttle store unavailable; failure not counted');
    }
  }

  /** A right secret: the client's failures are forgiven (not the address's: one good client must not launder another's guesses). */
  async succeeded(clientId: string): Promise<void> {
    await this.store.del(this.clientKey('fail', clientId), this.clientKey('lock', clientId)).catch(() => undefined);
  }

  private async count(failKey: string, lockKey: string, allowance: number, now: number): Promise<void> {
    const failures = await this.store.incr(failKey, FAILURE_MEMORY_SECONDS);
    if (failures < allowance) return;
    const wait = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(failures - allowance, 20));
    await this.store.set(lockKey, String(now + wait * 1000), wait);
  }

  /** Client ids are typed by strangers: hashed, so any text makes a short, safe key. */
  private clientKey(kind: 'fail' | 'lock', clientId: string): string {
    return `${this.prefix}${kind}:client:${createHash('sha256').update(clientId).digest('base64url')}`;
  }
}

/**
 * Bounds the scrypt work of the token endpoint: AUTH_SCRYPT_CONCURRENCY
 * checks at once, AUTH_SCRYPT_QUEUE more waiting, and past that an immediate
 * 429 with Retry-After — so a flood of sign-ins (known or unknown clients
 * alike: an unknown one is checked against a dummy hash, the same work) costs
 * a normal login at most a short queue, never minutes, and never the event loop.
 */
@Injectable()
export class SecretCheckQueue {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly capacity: number;

  constructor(@Inject(PLATFORM_CONFIG) config: Pick<PlatformConfig, 'AUTH_SCRYPT_CONCURRENCY' | 'AUTH_SCRYPT_QUEUE'>) {
    this.concurrency = config.AUTH_SCRYPT_CONCURRENCY;
    this.capacity = config.AUTH_SCRYPT_QUEUE;
  }

  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.capacity) {
        throw new DomainError(429, 'token-endpoint-busy', 'Too many sign-ins at once; try again in 1 s', { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await check();
    } finally {
      // Hand the slot straight to the next in line (active stays counted), else free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Checks running and waiting now (for tests and metrics). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
