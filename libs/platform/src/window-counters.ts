import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a count answers: the throttler storage's record. */
export interface WindowRecord {
  totalHits: number;
  /** Seconds until the window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends (0 when not blocked). */
  timeToBlockExpire: number;
}

interface Counter {
  hits: number;
  windowEnds: number;
  /** 0 when not blocked. */
  blockedUntil: number;
}

/** How often counters whose window and block are over are dropped. */
const SWEEP_MS = 60_000;

/**
 * Request counters in process memory, one number per key and fixed window:
 * a count is O(1) whatever the traffic. The throttler's own memory storage
 * keeps one timestamp per hit and filters the list on every request, which
 * cost a third of a cached scan. These are the rules of the Redis store's
 * script (@nest-lab/throttler-storage-redis), so both run modes limit alike:
 * the first hit opens a window of `ttl` ms; the hit past `limit` blocks the
 * key for `blockDuration` ms and is refused, as is every hit while blocked
 * (they are not counted); the first hit after the block opens a new window.
 */
export class WindowCounters implements ThrottlerStorage {
  private readonly counters = new Map<string, Counter>();
  private sweeper?: NodeJS.Timeout;

  /** Counts one hit of `key` now, synchronously. */
  hit(key: string, ttl: number, limit: number, blockDuration: number, now = Date.now()): WindowRecord {
    let c = this.counters.get(key);
    if (!c) {
      c = { hits: 0, windowEnds: now + ttl, blockedUntil: 0 };
      this.counters.set(key, c);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
    if (c.blockedUntil > now) {
      return { totalHits: c.hits + 1, timeToExpire: seconds(c.windowEnds - now), isBlocked: true, timeToBlockExpire: seconds(c.blockedUntil - now) };
    }
    if (c.blockedUntil !== 0 || c.windowEnds <= now) {
      c.hits = 0;
      c.windowEnds = now + ttl;
      c.blockedUntil = 0;
    }
    c.hits++;
    if (c.hits > limit) {
      c.blockedUntil = now + blockDuration;
      return { totalHits: c.hits, timeToExpire: seconds(c.windowEnds - now), isBlocked: true, timeToBlockExpire: seconds(blockDuration) };
    }
    return { totalHits: c.hits, timeToExpire: seconds(c.windowEnds - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  /** The throttler's storage interface, as a remote store answers it (RequestBudgets.take). */
  increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<WindowRecord> {
    return Promise.resolve(this.hit(key, ttl, limit, blockDuration));
  }

  /** How many keys are kept (tests). */
  get size(): number {
    return this.counters.size;
  }

  /** Drops the counters that no longer limit anyone: their window and any block are over. */
  sweep(now = Date.now()): void {
    for (const [key, c] of this.counters) if (c.windowEnds <= now && c.blockedUntil <= now) this.counters.delete(key);
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.counters.clear();
  }
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
