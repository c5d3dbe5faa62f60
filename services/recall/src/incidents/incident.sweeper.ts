import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '@trace/platform';
import { IncidentService } from './incident.service';
import { INCIDENT_OPTIONS, type IncidentOptions } from './options';

/** Runs the overdue sweep every `INCIDENT_SWEEP_INTERVAL_MS` (60 s by default; 0 = off). */
@Injectable()
export class IncidentSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(IncidentService) private readonly incidents: IncidentService,
    @Inject(INCIDENT_OPTIONS) private readonly options: IncidentOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    if (this.options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.options.sweepIntervalMs);
      this.timer.unref();
    }
  }

  onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep; overlapping ticks of this process are skipped (other processes are kept apart by SKIP LOCKED). */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const n = await this.incidents.sweepOverdue();
      if (n) this.logger.info({ overdue: n }, 'incident reports flagged overdue');
      return n;
    } catch (err) {
      this.logger.error({ err }, 'incident overdue sweep failed');
      return 0;
    } finally {
      this.running = false;
    }
  }
}
