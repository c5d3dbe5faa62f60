import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InboxDispatcher } from '@trace/messaging';
import { CACHE_STORE, LOGGER, MemoryCache, Metrics, PLATFORM_CONFIG, type CacheStore, type Logger, type PlatformConfig } from '@trace/platform';

/** How many parsed entries peek() keeps (a few MB at ~2–10 kB a document). */
const PARSED_ENTRIES = 2000;

/** The cache key of a scanned item: a lot and a serial with the same text are different items, so the kind is part of it. */
export const scanCacheKey = (item: { gtin: string; kind: string; value: string }) => `${item.gtin}:${item.kind}:${encodeURIComponent(item.value)}`;

/** What a scan answer depends on: the ids of every batch whose events can change it. */
export interface Computed<T> {
  value: T;
  dependsOn: string[];
}

interface Entry<T> {
  value: T;
  /** Batch id → the version token it had when `value` was read (null: never bumped). */
  versions: Record<string, string | null>;
}

/** A stored entry as peek() keeps it parsed: beside the text it came from, its version keys and the tokens they must hold. */
interface Parsed {
  raw: string;
  entry: Entry<unknown>;
  versionKeys: string[];
  tokens: (string | null)[];
}

/** A valid cached answer; `stamp` changes whenever the answer does. */
export interface CacheHit<T> {
  value: T;
  stamp: string;
}

/**
 * The scan answer cache (Redis when distributed, so every gateway shares it;
 * process memory when embedded), invalidated by the events themselves.
 *
 * Each batch has a version token that any event about it replaces with a new
 * random one. An answer is stored with the tokens of the batches it was built
 * from — read BEFORE the answer, so an event landing while it is being built
 * leaves it already stale rather than wrongly fresh — and it is served only
 * while all of them are unchanged. Tokens are random rather than counters so
 * that an expired token key can never come back with an old value; they live
 * twice as long as any answer.
 *
 * The first scan of a lot learns which batches it depends on and caches
 * nothing; from the second on answers are cached. The TTL is the safety net
 * for what events do not cover (an organisation or location renamed).
 *
 * In distributed mode the gateways share one consumer group, so one of them
 * applies each event — to the shared Redis, which is all that is needed.
 */
@Injectable()
export class ScanCache implements OnModuleInit {
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly outcomes;
  /** Entries as last parsed, by key, with the text they were parsed from (peek()); the oldest go first past PARSED_ENTRIES. */
  private readonly parsed = new Map<string, Parsed>();
  /** peek()'s store key of each cache key: made once, a string's hash is worked out once too. */
  private readonly entryKeys = new Map<string, string>();

  constructor(
    @Inject(CACHE_STORE) private readonly store: CacheStore,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Metrics) metrics: Metrics,
  ) {
    // One Redis may serve several deployments (and test runs): the schema prefix names this one.
    this.prefix = `scan:${config.DB_SCHEMA_PREFIX}`;
    this.ttl = config.SCAN_CACHE_TTL_SECONDS;
    this.outcomes = metrics.counter('scan_cache_total', 'Consumer scan answers by cache outcome', ['outcome']);
  }

  get enabled(): boolean {
    return this.ttl > 0;
  }

  onModuleInit() {
    // A run at a time: the batches a run names are bumped together, each once (one round trip to Redis for a
    // run of a capture's chain events, not one per event).
    const bumpAll = <T>(batchesOf: (payload: T) => (string | undefined)[]) => async (events: { payload: T }[]) => {
      await this.invalidateMany(events.flatMap((e) => batchesOf(e.payload)));
    };
    this.inbox.onRun('batchRegistered', bumpAll((e) => [e.batch?.batchId]));
    this.inbox.onRun('traceEventRecorded', bumpAll((e) => [e.batch?.batchId]));
    this.inbox.onRun('transformationRecorded', bumpAll((e) => [e.output?.batchId, ...e.inputs.map((i) => i.batch?.batchId)]));
    this.inbox.onRun('inspectionRecorded', bumpAll((e) => [e.batch?.batchId]));
    this.inbox.onRun('certificateIssued', bumpAll((e) => [e.batch?.batchId]));
    // The domain's recalled chain event follows and bumps again; this one makes the recall show as early as possible.
    // A chunk names a few hundred batches of one domain (`item`: one batch, from producers before chunking).
    this.inbox.onRun('recallInitiated', bumpAll((e) => (e.items?.length ? e.items : e.item ? [e.item] : []).map((item) => item.batch?.batchId)));
  }

  /** Every cached answer built from this batch is stale from now on. */
  async invalidate(batchId: string | undefined): Promise<void> {
    await this.invalidateMany([batchId]);
  }

  /** Every cached answer built from any of these batches is stale from now on (each bumped once). */
  async invalidateMany(batchIds: (string | undefined)[]): Promise<void> {
    const keys = [...new Set(batchIds.filter((id): id is string => !!id))].map((id) => this.versionKey(id));
    // Throws on a cache outage: the inbox retries, then dead-letters, rather than forgetting an invalidation.
    await this.store.setMany(keys, randomUUID(), this.ttl * 2 + 60);
  }

  /** The cached answer under `key` when still valid, else `compute()`'s (cached for the next time when possible). */
  async get<T>(key: string, compute: () => Promise<Computed<T>>): Promise<{ value: T; hit: boolean }> {
    if (!this.enabled) return { value: (await compute()).value, hit: false };
    const entryKey = `${this.prefix}doc:${key}`;
    const depsKey = `${this.prefix}deps:${key}`;
    const entry = await this.read<Entry<T>>(entryKey);
    if (entry) {
      const ids = Object.keys(entry.versions);
      const now = await this.versions(ids);
      if (now && ids.every((id, i) => now[i] === entry.versions[id])) {
        this.outcomes.inc({ outcome: 'hit' });
        return { value: entry.value, hit: true };
      }
    }
    this.outcomes.inc({ outcome: 'miss' });
    const known = entry ? Object.keys(entry.versions) : await this.read<string[]>(depsKey);
    const before = known ? await this.versions(known) : undefined;
    const computed = await compute();
    const deps = [...new Set(computed.dependsOn)].sort();
    if (known && before && sameSet(known, deps)) {
      const versions = Object.fromEntries(known.map((id, i) => [id, before[i]]));
      await this.write(entryKey, { value: computed.value, versions } satisfies Entry<T>, this.ttl);
    } else {
      await this.write(depsKey, deps, this.ttl * 4);
    }
    return { value: computed.value, hit: false };
  }

  /**
   * The cached answer under `key` while it is valid, else undefined; never
   * computes (the fast path answers hits only, and leaves misses to get()).
   * `stamp` is the stored entry itself: it changes whenever the answer does,
   * so bytes made from `value` may be kept under it. The parsed entry is kept
   * beside the stored text: a hit reads the text and the version tokens, it
   * does not parse the document again. Synchronous when the store is process
   * memory (embedded): a hit then costs no turn of the event loop.
   */
  peek<T>(key: string): CacheHit<T> | undefined | Promise<CacheHit<T> | undefined> {
    if (!this.enabled) return undefined;
    let entryKey = this.entryKeys.get(key);
    if (entryKey === undefined) {
      entryKey = `${this.prefix}doc:${key}`;
      if (this.entryKeys.size >= PARSED_ENTRIES) this.entryKeys.delete(this.entryKeys.keys().next().value as string);
      this.entryKeys.set(key, entryKey);
    }
    const store = this.store;
    if (store instanceof MemoryCache) {
      const parsed = this.parsedEntry(entryKey, store.getNow(entryKey));
      return parsed && this.hitIf<T>(parsed, parsed.versionKeys.map((k) => store.getNow(k)));
    }
    return this.peekRemote<T>(entryKey);
  }

  private async peekRemote<T>(entryKey: string): Promise<CacheHit<T> | undefined> {
    let raw: string | null;
    try {
      raw = await this.store.get(entryKey);
    } catch {
      return undefined; // get() says so in the log when the app answers
    }
    const parsed = this.parsedEntry(entryKey, raw);
    if (!parsed) return undefined;
    let now: (string | null)[];
    try {
      now = await Promise.all(parsed.versionKeys.map((k) => this.store.get(k)));
    } catch (err) {
      this.logger.warn({ err }, 'scan cache unavailable; answering from the services');
      return undefined;
    }
    return this.hitIf<T>(parsed, now);
  }

  private parsedEntry(entryKey: string, raw: string | null): Parsed | undefined {
    if (!raw) return undefined;
    let parsed = this.parsed.get(entryKey);
    if (parsed?.raw !== raw) {
      const entry = JSON.parse(raw) as Entry<unknown>;
      const ids = Object.keys(entry.versions);
      parsed = { raw, entry, versionKeys: ids.map((id) => this.versionKey(id)), tokens: ids.map((id) => entry.versions[id]) };
      this.parsed.delete(entryKey);
      if (this.parsed.size >= PARSED_ENTRIES) this.parsed.delete(this.parsed.keys().next().value as string);
      this.parsed.set(entryKey, parsed);
    }
    return parsed;
  }

  /** The hit, when every version token is still the one the answer was read with. */
  private hitIf<T>(parsed: Parsed, now: (string | null)[]): CacheHit<T> | undefined {
    for (let i = 0; i < now.length; i++) if (now[i] !== parsed.tokens[i]) return undefined;
    this.outcomes.inc({ outcome: 'hit' });
    return { value: parsed.entry.value as T, stamp: parsed.raw };
  }

  private versionKey(batchId: string) {
    return `${this.prefix}ver:${batchId.toLowerCase()}`;
  }

  private async versions(ids: string[]): Promise<(string | null)[] | undefined> {
    try {
      return await Promise.all(ids.map((id) => this.store.get(this.versionKey(id))));
    } catch (err) {
      this.logger.warn({ err }, 'scan cache unavailable; answering from the services');
      return undefined;
    }
  }

  // A cache outage slows scans down; it must not fail them.
  private async read<T>(key: string): Promise<T | undefined> {
    try {
      const raw = await this.store.get(key);
      return raw ? (JSON.parse(raw) as T) : undefined;
    } catch (err) {
      this.logger.warn({ err }, 'scan cache unavailable; answering from the services');
      return undefined;
    }
  }

  private async write(key: string, value: unknown, ttl: number): Promise<void> {
    try {
      await this.store.set(key, JSON.stringify(value), ttl);
    } catch (err) {
      this.logger.warn({ err }, 'scan cache unavailable; answer not cached');
    }
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === b[i]);
