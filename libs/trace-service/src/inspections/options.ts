import { ConfigError } from '@trace/platform';
import type { DomainName } from '../domains';

export const DEFAULT_RETEST_WINDOW_DAYS = 15;
const MAX_RETEST_WINDOW_DAYS = 365;

export interface InspectionOptions {
  /**
   * Days after a failed result's sampling during which a passing re-test may
   * still clear the hold (Product Quality Law art. 15: 15 days).
   */
  retestWindowDays: number;
}

export const INSPECTION_OPTIONS = Symbol('INSPECTION_OPTIONS');

/**
 * The re-test window of a domain: an explicit module option first, then
 * `<DOMAIN>_RETEST_WINDOW_DAYS` (e.g. `AGRI_RETEST_WINDOW_DAYS`), then
 * `RETEST_WINDOW_DAYS`, else 15 days. A malformed value fails the start-up,
 * naming the variable.
 */
export function inspectionOptions(
  domain: DomainName,
  explicit: Partial<InspectionOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): InspectionOptions {
  if (explicit.retestWindowDays !== undefined) {
    return { retestWindowDays: checkDays('retestWindowDays', String(explicit.retestWindowDays)) };
  }
  for (const name of [`${domain.toUpperCase()}_RETEST_WINDOW_DAYS`, 'RETEST_WINDOW_DAYS']) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') return { retestWindowDays: checkDays(name, raw) };
  }
  return { retestWindowDays: DEFAULT_RETEST_WINDOW_DAYS };
}

function checkDays(name: string, raw: string): number {
  const days = /^\d{1,3}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(days >= 1 && days <= MAX_RETEST_WINDOW_DAYS)) {
    throw new ConfigError([`${name}=${JSON.stringify(raw)}: must be a whole number of days between 1 and ${MAX_RETEST_WINDOW_DAYS}`]);
  }
  return days;
}

/** The end of the re-test window of a failed result sampled at `sampledAt`. */
export const retestDeadlineOf = (sampledAt: Date, o: InspectionOptions) => new Date(sampledAt.getTime() + o.retestWindowDays * 86_400_000);
