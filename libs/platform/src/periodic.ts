import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from './logging';

/**
 * A job a process runs every `intervalMs` (0: never by itself; `tick()` can
 * still be called), the first time after `firstAfterMs` (default: one
 * interval). Ticks of one process never overlap, so a slow run is not joined
 * by the next; other replicas are kept apart by the job's own row locks
 * (SKIP LOCKED, or deletes that take a row once), not here. A run that finds
 * nothing to watch sets `idle`: the next one is after `idleIntervalMs`
 * instead, unless `wake()` (something to watch was just made here) brings it
 * forward.
 *
 * As a Nest provider it starts at application bootstrap and stops at module
 * destroy; owned by something else, that owner calls start() and awaits
 * stop(), which lets a run in progress finish (its database must still be
 * open).
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private started = false;
  /** A wake() during a run: the next run follows it at once. */
  private woken = false;
  /** Set by run(): nothing to watch, the next run after idleIntervalMs. */
  protected idle = false;

  protected constructor(
    protected readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly what: string,
    private readonly idleIntervalMs = intervalMs,
    private readonly firstAfterMs = intervalMs,
  ) {}

  /**
   * One run: the number of things it changed, or a count per kind of thing
   * (logged as they are, their sum as `changed`).
   */
  protected abstract run(): Promise<number | Record<string, number>>;

  onApplicationBootstrap() {
    this.start();
  }

  onModuleDestroy() {
    void this.stop();
  }

  start(): void {
    if (this.intervalMs > 0 && !this.started) {
      this.started = true;
      this.schedule(this.firstAfterMs);
    }
  }

  /** No run after this one; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Run soon rather than after the idle interval. */
  wake(): void {
    this.idle = false;
    if (this.running) this.woken = true;
    else if (this.started) this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => {
        if (!this.started) return;
        const woken = this.woken;
        this.woken = false;
        this.schedule(woken ? 0 : this.idle ? this.idleIntervalMs : this.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  tick(): Promise<number> {
    if (this.running) return Promise.resolve(0);
    this.running = this.runLogged().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runLogged(): Promise<number> {
    try {
      const result = await this.run();
      const n = typeof result === 'number' ? result : Object.values(result).reduce((a, b) => a + b, 0);
      if (n) this.logger.info(typeof result === 'number' ? { changed: n } : { changed: n, ...result }, this.what);
      return n;
    } catch (err) {
      this.logger.error({ err }, `${this.what}: failed`);
      return 0;
    }
  }
}

/** How often a retention job deletes what is past its age, and how long after start it first does. */
export const RETENTION_EVERY_MS = 3_600_000;
export const RETENTION_FIRST_AFTER_MS = 600_000;

/**
 * Runs `deleteChunk` (a DELETE of at most `chunk` rows, answering how many it deleted) until a chunk comes
 * back short; answers the total. Short transactions, no long lock on the table, for retention jobs.
 */
export async function deleteInChunks(deleteChunk: () => Promise<number>, chunk: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteChunk();
    total += n;
    if (n < chunk) return total;
  }
}

/**
 * A period in milliseconds from `env[name]`: 0 (off) or at least 100 ms;
 * `fallback` when unset. A malformed value is added to `problems` (the
 * caller fails the start-up with all of them).
 */
export function intervalFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const ms = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(ms === 0 || ms >= 100)) problems.push(`${name}=${JSON.stringify(raw)}: must be 0 (off) or at least 100 ms`);
  return ms;
}
