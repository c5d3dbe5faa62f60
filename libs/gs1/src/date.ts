import { Gs1Error } from './errors';

/**
 * AIs whose value is a YYMMDD date and where GS1 allows day "00" (month-only).
 * GS1 defines "00" as the last day of the month for best before (15) and
 * expiry (17); sell by (16) is a deadline of the same kind, so it gets the
 * same reading. For production/due/packaging dates (11, 12, 13) GS1 gives no
 * reading, and we take the first day of the month: the start of the period
 * in which the event happened.
 */
const DATE_AIS: Readonly<Record<string, 'first' | 'last'>> = {
  '11': 'first',
  '12': 'first',
  '13': 'first',
  '15': 'last',
  '16': 'last',
  '17': 'last',
};

export const GS1_DATE_AIS: readonly string[] = Object.keys(DATE_AIS);

export function isGs1DateAi(ai: string): boolean {
  return Object.prototype.hasOwnProperty.call(DATE_AIS, ai);
}

/**
 * Full year for a two-digit year, per GS1 General Specifications 7.12: the
 * result lies within -49..+50 years of the reference year.
 */
export function gs1Year(yy: number, now: Date = new Date()): number {
  const current = now.getUTCFullYear();
  const currentYy = current % 100;
  const diff = yy - currentYy;
  const shift = diff >= 51 ? -100 : diff <= -50 ? 100 : 0;
  return current - currentYy + yy + shift;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Parses the YYMMDD value of a date AI (11, 12, 13, 15, 16, 17) to midnight UTC.
 * `now` fixes the century window; pass it in tests or when re-reading old data.
 */
export function parseGs1Date(ai: string, yymmdd: string, now: Date = new Date()): Date {
  const zeroDay = DATE_AIS[ai];
  if (!isGs1DateAi(ai)) throw new Gs1Error('date.ai', `AI (${ai}) is not a YYMMDD date AI`, ai);
  if (typeof yymmdd !== 'string' || !/^\d{6}$/.test(yymmdd)) {
    throw new Gs1Error('date.format', `AI (${ai}) date must be 6 digits YYMMDD`, ai);
  }
  const year = gs1Year(Number(yymmdd.slice(0, 2)), now);
  const month = Number(yymmdd.slice(2, 4));
  let day = Number(yymmdd.slice(4, 6));
  if (month < 1 || month > 12) throw new Gs1Error('date.invalid', `AI (${ai}) month ${month} is out of range`, ai);
  const last = daysInMonth(year, month);
  if (day === 0) day = zeroDay === 'last' ? last : 1;
  if (day > last) throw new Gs1Error('date.invalid', `AI (${ai}) day ${day} does not exist in ${year}-${month}`, ai);
  return new Date(Date.UTC(year, month - 1, day));
}
