import { createHash } from 'node:crypto';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { PlatformConfig } from './config';
import type { Logger } from './logging';
import { DomainError } from './problem';

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
 * Request budgets counted by @nestjs/throttler's storage rather than by code of
 * our own: its in-memory store in one process (embedded), and
 * @nest-lab/throttler-storage-redis — an atomic Lua script, shared by every
 * instance — when REDIS_URL is set (distributed). Over the budget the tracker
 * is refused for one window (429 with Retry-After, as the throttler guard does).
 * A store outage lets requests through: a Redis failure must not take the scan
 * or the sign-in down with it.
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
      : new ThrottlerStorageService();
    if (storage instanceof ThrottlerStorageRedisService) storage.redis.on('error', () => undefined);
    return new RequestBudgets(storage, `rl:${config.DB_SCHEMA_PREFIX}`, logger);
  }

  /** Counts one request of `tracker` against `budget`; throws a 429 problem with Retry-After once it is spent. */
  async take(budget: Budget, tracker: string): Promise<void> {
    const windowMs = budget.windowSeconds * 1000;
    // Trackers are typed by strangers (client ids) or long (IPv6): hashed into a short, safe key.
    // The budget's name is in the key too: the in-memory store blocks a key for every name at once.
    const key = `${this.prefix}${budget.name}:${createHash('sha256').update(tracker).digest('base64url')}`;
    let record;
    try {
      record = await this.storage.increment(key, windowMs, budget.limit, windowMs, budget.name);
    } catch (err) {
      this.logger.warn({ err, budget: budget.name }, 'rate limit store unavailable; request let through');
      return;
    }
    if (record.isBlocked) {
      const retryAfter = Math.max(1, record.timeToBlockExpire);
      throw new DomainError(429, 'rate-limited', `Too many ${budget.what}; try again in ${retryAfter} s`, { retryAfter });
    }
  }

  close(): void {
    this.storage.onModuleDestroy?.();
    this.storage.onApplicationShutdown?.();
  }
}

export const REQUEST_BUDGETS = Symbol('REQUEST_BUDGETS');
