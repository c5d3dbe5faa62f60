import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, PeriodicTask, type Logger } from '@trace/platform';
import { IncidentService } from './incident.service';
import { INCIDENT_OPTIONS, type IncidentOptions } from './options';

/** Runs the overdue sweep every `INCIDENT_SWEEP_INTERVAL_MS` (60 s by default; 0 = off). */
@Injectable()
export class IncidentSweeper extends PeriodicTask {
  constructor(
    @Inject(IncidentService) private readonly incidents: IncidentService,
    @Inject(INCIDENT_OPTIONS) options: IncidentOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(logger, options.sweepIntervalMs, 'incident reports flagged overdue');
  }

  protected run(): Promise<number> {
    return this.incidents.sweepOverdue();
  }
}
