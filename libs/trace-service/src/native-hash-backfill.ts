import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { localDeliveryBacklog } from '@trace/messaging';
import { DIRECTORY, LOGGER, type Directory, type Logger } from '@trace/platform';
import { CachedDirectory } from './directory-cache';
import { drainNativeHashes } from './epcis/native-hashes';

/** How long the writers that queued hashes must have been quiet before they are drained, and the longest wait. */
const QUIET_MS = 1_000;
const MAX_DELAY_MS = 15_000;
/**
 * How long one drain gives way, in all, to a relay of this process working through a backlog (see drain()):
 * bounded, so that a process never out of backlog still stores its hashes.
 */
const MAX_YIELD_MS = 30_000;
const YIELD_LOOK_MS = 50;

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

  /**
   * Stores every pending link's hash; answers how many. Before each chunk it waits while a relay of this
   * process has a backlog (localDeliveryBacklog), up to MAX_YIELD_MS in all: after a recall the hashes of its
   * ten thousand links and the delivery of those links to lineage would otherwise share the cores, and the
   * hashes serve only a look-up by hash, which drains the list itself first (queryEvents); lineage serves the
   * regulator's trace.
   */
  drain(): Promise<number> {
    const giveWayUntil = Date.now() + MAX_YIELD_MS;
    let said = false;
    return drainNativeHashes(this.ds, this.directory, {
      stopped: () => this.stopped,
      beforeChunk: async () => {
        while (!this.stopped && localDeliveryBacklog() && Date.now() < giveWayUntil) {
          if (!said) this.log.debug({ domain: this.domain }, 'CBV event hashes wait for the outbox backlog of this process');
          said = true;
          await new Promise((r) => setTimeout(r, YIELD_LOOK_MS).unref());
        }
      },
    });
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
