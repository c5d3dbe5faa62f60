import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DIRECTORY, LOGGER, type Directory, type Logger } from '@trace/platform';
import { CachedDirectory } from './directory-cache';
import { drainNativeHashes } from './epcis/native-hashes';

/** How long the writers that queued hashes must have been quiet before they are drained, and the longest wait. */
const QUIET_MS = 1_000;
const MAX_DELAY_MS = 15_000;

/**
 * Stores the CBV event hashes of the links listed in native_hash_pending, in the background, retrying while
 * the directory does not answer (distributed mode): once after start-up (links recorded before hashes were
 * stored with them, migration TraceChainNativeEventHashes1765500083700), and after each commit that queued
 * some (a recall's chunk, `soon`). Until a link is drained, exports and query answers still name it by its
 * hash (computed as they map it), and a look-up by that hash drains the list first (queryEvents).
 */
@Injectable()
export class NativeHashBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly directory: Directory | undefined;

  constructor(
    @Inject('DOMAIN_NAME') private readonly domain: string,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly log: Logger,
    @Optional() @Inject(DIRECTORY) directory?: Directory,
  ) {
    this.directory = directory && new CachedDirectory(directory);
  }

  onApplicationBootstrap(): void {
    this.running = this.untilDrained();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private timer: NodeJS.Timeout | undefined;
  private firstWakeAt = 0;

  /**
   * Links were queued and committed: drains them once the writers have been quiet for QUIET_MS (a recall
   * marks its batches in chunks arriving one after another; hashing between them would slow the marking
   * the hashes only follow), and no later than MAX_DELAY_MS after the first such commit.
   */
  soon(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.firstWakeAt = now;
    const at = Math.min(now + QUIET_MS, this.firstWakeAt + MAX_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // After the drain before it: one at a time (a drain runs until the list is empty).
      this.running = (this.running ?? Promise.resolve()).then(() => this.untilDrained());
    }, at - now);
    this.timer.unref();
  }

  /** Stores every pending link's hash; answers how many. */
  drain(): Promise<number> {
    return drainNativeHashes(this.ds, this.directory, () => this.stopped);
  }

  private async untilDrained(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const n = await this.drain();
        if (n > 0) this.log.info({ domain: this.domain, events: n }, 'CBV event hashes of queued links stored');
        return;
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err, attempt }, `${this.domain}: storing the event hashes of earlier links failed; retrying`);
        const until = Date.now() + Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        while (!this.stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 200).unref());
      }
    }
  }
}
