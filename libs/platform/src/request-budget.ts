import { createHash } from 'node:crypto';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { PlatformConfig } from './config';
import type { Logger } from './logging';
import { DomainError } from './problem';
import { WindowCounters, type WindowRecord } from './window-counters';

/** A budget of requests per tracker (a client address, usually) and window. */
export interface Budget {
  /** Names the counter: budgets of one tracker do not share hits. */
  name: string;
  limit: number;
  windowSeconds: number;
  /** What was counted, for the refusal: "scans from this address". */
  what: string;
}

/**
 * Request budgets counted by a throttler storage: WindowCounters (a counter
 * per tracker and window, O(1) a request, counted synchronously) in one
 * process (embedded), and @nest-lab/throttler-storage-redis — an atomic Lua
 * script with the same rules, shared by every instance — when REDIS_URL is
 * set (distributed). Over the budget the tracker is refused for one window
 * (429 with Retry-After, as the throttler guard does). A store outage lets
 * requests through: a Redis failure must not take the scan or the sign-in
 * down with it.
 */
export class RequestBudgets {
  constructor(
    private readonly storage: ThrottlerStorage & { onModuleDestroy?(): void; onApplicationShutdown?(): void },
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  static fromConfig(config: Pick<PlatformConfig, 'REDIS_URL' | 'DB_SCHEMA_PREFIX'>, logger: Logger): RequestBudgets {
    const storage = config.REDIS_URL
      ? new ThrottlerStorageRedisService(config.REDIS_URL, { keyPrefix: 'trace:', maxRetriesPerRequest: 2, lazyConnect: false })
      : new WindowCounters();
    if (storage instanceof ThrottlerStorageRedisService) storage.redis.on('error', () => undefined);
    return new RequestBudgets(storage, `rl:${config.DB_SCHEMA_PREFIX}`, logger);
  }

  /** Counts one request of `tracker` against `budget`; throws a 429 problem with Retry-After once it is spent. */
  async take(budget: Budget, tracker: string): Promise<void> {
    return this.takeNow(budget, tracker);
  }

  /**
   * take(), synchronous when the store is in process memory (undefined, or a
   * thrown 429): a hot path need not wait a turn of the event loop for a
   * counter it has at hand. A promise when the store is remote.
   */
  takeNow(budget: Budget, tracker: string): void | Promise<void> {
    const windowMs = budget.windowSeconds * 1000;
    const key = this.keyOf(budget, tracker);
    if (this.storage instanceof WindowCounters) return refuseWhenBlocked(this.storage.hit(key, windowMs, budget.limit, windowMs), budget);
    return this.storage.increment(key, windowMs, budget.limit, windowMs, budget.name).then(
      (record) => refuseWhenBlocked(record, budget),
      (err: unknown) => this.logger.warn({ err, budget: budget.name }, 'rate limit store unavailable; request let through'),
    );
  }

  private keyOf(budget: Budget, tracker: string): string {
    // The budget's name is in the key: budgets of one tracker do not share hits.
    // Trackers are typed by strangers (client ids) or long (IPv6): hashed into a short, safe key for a
    // remote store; in memory a short one (an IPv4 address, as most are) is a key as it is.
    const short = this.storage instanceof WindowCounters && tracker.length <= 40;
    return `${this.prefix}${budget.name}:${short ? tracker : createHash('sha256').update(tracker).digest('base64url')}`;
  }

  close(): void {
    this.storage.onModuleDestroy?.();
    this.storage.onApplicationShutdown?.();
  }
}

function refuseWhenBlocked(record: Pick<WindowRecord, 'isBlocked' | 'timeToBlockExpire'>, budget: Budget): void {
  if (record.isBlocked) {
    const retryAfter = Math.max(1, record.timeToBlockExpire);
    throw new DomainError(429, 'rate-limited', `Too many ${budget.what}; try again in ${retryAfter} s`, { retryAfter });
  }
}

export const REQUEST_BUDGETS = Symbol('REQUEST_BUDGETS');
