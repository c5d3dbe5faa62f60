import type { Provider } from '@nestjs/common';
import { CalendarController, IncidentController } from './incident.controller';
import { CalendarService } from './calendar.service';
import { IncidentService } from './incident.service';
import { IncidentSweeper } from './incident.sweeper';
import { RecallIncidentTimeOffsets1765000300000, RecallIncidents1764000020000 } from './migrations';
import { INCIDENT_OPTIONS, incidentOptions } from './options';

/** Lets callers outside this package (tests, an operator's console) run a sweep: `app.get(INCIDENT_SWEEP).sweepOverdue()`. */
export const INCIDENT_SWEEP = 'recall.incidents.sweep';

export const INCIDENT_CONTROLLERS = [IncidentController, CalendarController];
export const INCIDENT_PROVIDERS: Provider[] = [
  { provide: INCIDENT_OPTIONS, useFactory: () => incidentOptions() },
  IncidentService,
  CalendarService,
  IncidentSweeper,
  { provide: INCIDENT_SWEEP, useExisting: IncidentService },
];
export const INCIDENT_MIGRATIONS = [RecallIncidents1764000020000, RecallIncidentTimeOffsets1765000300000];
