import type { EntityManager } from 'typeorm';
import { calendarWindowDays, reportDueBy, shanghaiDate } from './incidents/working-days';

/**
 * 24:00 (Asia/Shanghai) of the `days`-th working day after the local date of
 * `from`, on the working-day calendar as stored now (`calendar_days`: public
 * holidays and make-up working days as data; other days Mon–Fri). Incident
 * reports and recall completion deadlines count on the same calendar, so a
 * holiday entered once moves both.
 */
export async function afterWorkingDays(m: Pick<EntityManager, 'query'>, from: Date, days: number): Promise<Date> {
  const rows = (await m.query(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, working FROM calendar_days WHERE day > $1::date AND day <= $1::date + $2::int`,
    [shanghaiDate(from), calendarWindowDays(days)],
  )) as { day: string; working: boolean }[];
  const calendar = new Map(rows.map((r) => [r.day, r.working]));
  return reportDueBy(from, days, (d) => calendar.get(d));
}
