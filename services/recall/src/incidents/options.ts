import { ConfigError, intervalFromEnv } from '@trace/platform';

export const SEVERITIES = ['death', 'serious_injury', 'minor_injury', 'property_loss', 'other'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface IncidentOptions {
  /** Working days to report, by severity. */
  reportDays: Record<Severity, number>;
  /** How often the overdue sweep runs; 0 turns the timer off (the sweep can still be called). */
  sweepIntervalMs: number;
}

/**
 * Consumer-goods rules set 2 working days for deaths and serious injuries
 * (DOMAIN.md §8, *(verify)*); the other severities get 5 here.
 */
export const DEFAULT_REPORT_DAYS: Readonly<Record<Severity, number>> = {
  death: 2,
  serious_injury: 2,
  minor_injury: 5,
  property_loss: 5,
  other: 5,
};
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export const INCIDENT_OPTIONS = Symbol('INCIDENT_OPTIONS');

/**
 * `INCIDENT_REPORT_DAYS` overrides some or all deadlines, e.g.
 * `death=1,serious_injury=2,other=10`; `INCIDENT_SWEEP_INTERVAL_MS` sets the
 * sweep. A malformed value fails the start-up, naming the variable.
 */
export function incidentOptions(env: NodeJS.ProcessEnv = process.env): IncidentOptions {
  const problems: string[] = [];
  const reportDays: Record<Severity, number> = { ...DEFAULT_REPORT_DAYS };
  const raw = env.INCIDENT_REPORT_DAYS?.trim();
  if (raw) {
    for (const part of raw.split(',')) {
      const [key, value] = part.split('=').map((s) => s.trim());
      const days = /^\d{1,3}$/.test(value ?? '') ? Number(value) : NaN;
      if (!(SEVERITIES as readonly string[]).includes(key)) {
        problems.push(`INCIDENT_REPORT_DAYS: unknown severity ${JSON.stringify(key)} (one of ${SEVERITIES.join(', ')})`);
      } else if (!(days >= 1 && days <= 365)) {
        problems.push(`INCIDENT_REPORT_DAYS: ${key} must be a whole number of working days between 1 and 365`);
      } else {
        reportDays[key as Severity] = days;
      }
    }
  }
  const sweepIntervalMs = intervalFromEnv(env, 'INCIDENT_SWEEP_INTERVAL_MS', DEFAULT_SWEEP_INTERVAL_MS, problems);
  if (problems.length) throw new ConfigError(problems);
  return { reportDays, sweepIntervalMs };
}
