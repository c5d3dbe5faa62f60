import Redis from 'ioredis';

/** Cache and rate-limit store: Redis when distributed, process memory when embedded. */
export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Several keys at once (one round trip to Redis), each with `value` and the same time to live. */
  setMany(keys: string[], value: string, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Increments a counter that expires after `windowSeconds`; returns the new count. */
  incr(key: string, windowSeconds: number): Promise<number>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class MemoryCache implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly map = new Map<string, { value: string; expires: number }>();

  async get(key: string) {
    return this.getNow(key);
  }
  /** get(), synchronously: the value is at hand, a hot path need not wait a turn of the event loop for it. */
  getNow(key: string): string | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.expires < Date.now()) {
      this.map.delete(key);
      return null;
    }
    return e.value;
  }
  async set(key: string, value: string, ttlSeconds: number) {
    this.map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
  }
  async setMany(keys: string[], value: string, ttlSeconds: number) {
    const expires = Date.now() + ttlSeconds * 1000;
    for (const key of keys) this.map.set(key, { value, expires });
  }
  async del(...keys: string[]) {
    for (const k of keys) this.map.delete(k);
  }
  async incr(key: string, windowSeconds: number) {
    const current = Number((await this.get(key)) ?? 0) + 1;
    const e = this.map.get(key);
    this.map.set(key, { value: String(current), expires: e?.expires ?? Date.now() + windowSeconds * 1000 });
    return current;
  }
  async ping() {
    return true;
  }
  async close() {
    this.map.clear();
  }
}

export class RedisCache implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis;

  constructor(url: string, keyPrefix = 'trace:') {
    this.client = new Redis(url, { keyPrefix, lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // Connection errors surface through ping() in /health/ready, not as crashes.
    this.client.on('error', () => undefined);
  }
  get(key: string) {
    return this.client.get(key);
  }
  async set(key: string, value: string, ttlSeconds: number) {
    await this.client.set(key, value, 'EX', ttlSeconds);
  }
  async setMany(keys: string[], value: string, ttlSeconds: number) {
    if (keys.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.set(key, value, 'EX', ttlSeconds);
    // A pipeline answers each command's error in its results instead of rejecting.
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }
  async del(...keys: string[]) {
    if (keys.length) await this.client.del(...keys);
  }
  async incr(key: string, windowSeconds: number) {
    const [[, count]] = (await this.client.multi().incr(key).expire(key, windowSeconds, 'NX').exec()) as [
      [Error | null, number],
    ];
    return count;
  }
  async ping() {
    return (await this.client.ping()) === 'PONG';
  }
  async close() {
    this.client.disconnect();
  }
}

export const CACHE_STORE = Symbol('CACHE_STORE');
