import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from '@trace/platform';

/**
 * A job this service runs every `intervalMs` (0: never by itself; `tick()`
 * can still be called). Ticks of one process never overlap, so a slow run is
 * not joined by the next; other replicas are kept apart by the job's own row
 * locks (SKIP LOCKED), not here. A run that finds nothing to watch sets
 * `idle`: the next one is after `idleIntervalMs` instead, unless `wake()`
 * (something to watch was just made here) brings it forward.
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running = false;
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
  ) {}

  /** One run; the number of things it changed (for the log). */
  protected abstract run(): Promise<number>;

  onApplicationBootstrap() {
    if (this.intervalMs > 0) {
      this.started = true;
      this.schedule(this.intervalMs);
    }
  }

  onModuleDestroy() {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
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

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const n = await this.run();
      if (n) this.logger.info({ changed: n }, this.what);
      return n;
    } catch (err) {
      this.logger.error({ err }, `${this.what}: failed`);
      return 0;
    } finally {
      this.running = false;
    }
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
