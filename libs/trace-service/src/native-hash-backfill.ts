import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DIRECTORY, LOGGER, type Directory, type Logger } from '@trace/platform';
import { CachedDirectory } from './directory-cache';
import { drainNativeHashes } from './epcis/native-hashes';

/**
 * Stores the CBV event hashes of links recorded over REST before they were stored with the link
 * (migration TraceChainNativeEventHashes1765500083700 listed them), once, in the background after
 * start-up, retrying while the directory does not answer (distributed mode). Until a link is drained,
 * exports and query answers still name it by its hash (computed as they map it); only a look-up by that
 * hash misses it.
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
    await this.running;
  }

  /** Stores every pending link's hash; answers how many. */
  drain(): Promise<number> {
    return drainNativeHashes(this.ds, this.directory, () => this.stopped);
  }

  private async untilDrained(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const n = await this.drain();
        if (n > 0) this.log.info({ domain: this.domain, events: n }, 'event hashes of links recorded before they were stored are stored');
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
