import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, DomainError, LOGGER, PLATFORM_CONFIG, type CacheStore, type Logger, type PlatformConfig } from '@trace/platform';

/**
 * Fixed-window request budget per client address, counted in the cache
 * store: Redis (INCR + EXPIRE in one MULTI) shared by every gateway
 * instance when distributed, process memory when embedded. The window is
 * aligned to the clock, so every instance counts into the same key and
 * Retry-After is simply the time left in the window.
 */
@Injectable()
export class ScanRateLimiter {
  private readonly limit: number;
  private readonly window: number;
  private readonly prefix: string;

  constructor(
    @Inject(CACHE_STORE) private readonly store: CacheStore,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.limit = config.SCAN_RATE_LIMIT;
    this.window = config.SCAN_RATE_WINDOW_SECONDS;
    this.prefix = `scan:${config.DB_SCHEMA_PREFIX}rl:`;
  }

  /** Counts one request of `client`; throws a 429 problem with Retry-After when the budget is spent. */
  async take(client: string, now = Date.now()): Promise<void> {
    const windowMs = this.window * 1000;
    const index = Math.floor(now / windowMs);
    let count: number;
    try {
      count = await this.store.incr(`${this.prefix}${index}:${client}`, this.window + 1);
    } catch (err) {
      // Fail open: a cache outage must not take the public scan down with it.
      this.logger.warn({ err }, 'rate limit store unavailable; request let through');
      return;
    }
    if (count > this.limit) {
      const retryAfter = Math.max(1, Math.ceil(((index + 1) * windowMs - now) / 1000));
      throw new DomainError(429, 'rate-limited', `Too many scans from this address; try again in ${retryAfter} s`, { retryAfter });
    }
  }
}
