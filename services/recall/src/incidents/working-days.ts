/**
 * Working-day arithmetic for report deadlines (DOMAIN.md §8). Pure: the
 * calendar comes in as a lookup, so the rules live in data (`calendar_days`)
 * and this code only counts.
 *
 * Dates are local calendar dates `YYYY-MM-DD`. Asia/Shanghai has kept UTC+8
 * without daylight saving since 1991, so the local date of an instant is the
 * UTC date of the instant shifted by eight hours.
 */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isIsoDay(s: string): boolean {
  const m = ISO_DAY.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** The Asia/Shanghai local date of an instant. */
export const shanghaiDate = (instant: Date): string => new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);

/** `day` plus `n` calendar days. */
export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Without an entry in the calendar, Monday to Friday are working days. */
export const isWeekday = (day: string): boolean => {
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
  return dow >= 1 && dow <= 5;
};

/** How a day counts: the calendar's entry when it has one, else Mon–Fri. */
export type CalendarLookup = (day: string) => boolean | undefined;

export const workingOn = (calendar: CalendarLookup, day: string): boolean => calendar(day) ?? isWeekday(day);

/** Far more than any run of holidays; a calendar marking everything off fails loudly instead of looping. */
const MAX_SCAN_DAYS = 3 * 366;

/**
 * The last day of a period of `n` working days that starts the day after
 * `startDay` (the day of awareness itself is not counted, as with periods in
 * days under the Civil Code art. 201). `n` = 0 gives `startDay`.
 */
export function lastWorkingDay(startDay: string, n: number, calendar: CalendarLookup): string {
  if (!isIsoDay(startDay)) throw new RangeError(`not a date: ${startDay}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`not a whole number of working days: ${n}`);
  let day = startDay;
  let left = n;
  for (let scanned = 0; left > 0; scanned++) {
    if (scanned > MAX_SCAN_DAYS) throw new RangeError(`no ${n} working days within ${MAX_SCAN_DAYS} days after ${startDay}`);
    day = addDays(day, 1);
    if (workingOn(calendar, day)) left--;
  }
  return day;
}

/** 24:00 Asia/Shanghai at the end of `day`, as an instant. */
export const endOfShanghaiDay = (day: string): Date => new Date(Date.parse(`${addDays(day, 1)}T00:00:00Z`) - SHANGHAI_OFFSET_MS);

/**
 * When a report is due: 24:00 local time of the `n`-th working day after the
 * local date on which the firm became aware.
 */
export function reportDueBy(awareAt: Date, n: number, calendar: CalendarLookup): Date {
  return endOfShanghaiDay(lastWorkingDay(shanghaiDate(awareAt), n, calendar));
}

/** Calendar days to load after the start day so that `lastWorkingDay` never needs more (holidays run ≤ 9 days). */
export const calendarWindowDays = (n: number) => n * 2 + 40;
