import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { badRequest, type Principal } from '@trace/platform';
import { isIsoDay } from './working-days';

export interface CalendarDay {
  day: string;
  working: boolean;
  note: string | null;
}

/** Years the calendar may be read or loaded for. */
const FIRST_YEAR = 2000;
const LAST_YEAR = 2100;

/**
 * The working-day calendar (`calendar_days`), the one writer of that table:
 * one day at a time, or a whole year as the State Council publishes it once
 * a year (public holidays and the weekend days worked in exchange, 调休).
 * A day with no row counts as Monday–Friday working.
 */
@Injectable()
export class CalendarService {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async upsertDay(day: string, working: boolean, note: string | undefined, principal: Principal): Promise<CalendarDay> {
    if (!isIsoDay(day)) {
      throw badRequest('calendar-day', `${day} is not a date (YYYY-MM-DD)`, [{ field: 'date', message: 'must be a date YYYY-MM-DD' }]);
    }
    const [row] = (await this.ds.query(
      `INSERT INTO calendar_days (day, working, note, updated_at, updated_by) VALUES ($1, $2, $3, now(), $4)
       ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note, updated_at = now(), updated_by = EXCLUDED.updated_by
       RETURNING to_char(day, 'YYYY-MM-DD') AS day, working, note`,
      [day, working, note ?? null, by(principal)],
    )) as CalendarDay[];
    return row;
  }

  /** Every day of the year as deadlines count it, with the holidays and make-up working days picked out. */
  async year(yearParam: unknown) {
    const year = parseYear(yearParam);
    const days = (await this.ds.query(
      `SELECT to_char(d, 'YYYY-MM-DD') AS day,
              COALESCE(c.working, EXTRACT(ISODOW FROM d) < 6) AS working,
              c.note
         FROM generate_series(make_date($1, 1, 1), make_date($1, 12, 31), interval '1 day') AS d
         LEFT JOIN calendar_days c ON c.day = d::date
        ORDER BY d`,
      [year],
    )) as CalendarDay[];
    const weekend = (day: string) => [0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay());
    return {
      year,
      workingDays: days.filter((d) => d.working).length,
      holidays: days.filter((d) => !d.working && !weekend(d.day)),
      makeUpWorkingDays: days.filter((d) => d.working && weekend(d.day)),
      days,
    };
  }

  /**
   * Loads a year as published: every day goes back to Monday–Friday, then the
   * holidays stop being working days and the make-up days become working days,
   * in one transaction. Deadlines already given stay as they were.
   */
  async loadYear(yearParam: string, dto: { holidays: { day: string; note?: string }[]; workingDays: { day: string; note?: string }[] }, principal: Principal) {
    const year = parseYear(yearParam);
    const problems: { field: string; message: string }[] = [];
    const seen = new Map<string, string>();
    for (const [list, entries] of [['holidays', dto.holidays], ['workingDays', dto.workingDays]] as const) {
      entries.forEach((e, n) => {
        const field = `${list}.${n}.day`;
        if (!isIsoDay(e.day)) problems.push({ field, message: 'must be a date YYYY-MM-DD' });
        else if (!e.day.startsWith(`${year}-`)) problems.push({ field, message: `${e.day} is not in ${year}` });
        else if (seen.has(e.day)) problems.push({ field, message: `${e.day} is listed twice (also at ${seen.get(e.day)})` });
        else seen.set(e.day, field);
      });
    }
    if (problems.length) throw badRequest('validation', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    const entries = [
      ...dto.holidays.map((h) => ({ day: h.day, working: false, note: h.note ?? 'public holiday' })),
      ...dto.workingDays.map((w) => ({ day: w.day, working: true, note: w.note ?? 'make-up working day' })),
    ];
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO calendar_days (day, working, note, updated_at, updated_by)
         SELECT d::date, EXTRACT(ISODOW FROM d) < 6, CASE WHEN EXTRACT(ISODOW FROM d) < 6 THEN NULL ELSE 'weekend' END, now(), $2
           FROM generate_series(make_date($1, 1, 1), make_date($1, 12, 31), interval '1 day') AS d
         ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note, updated_at = now(), updated_by = EXCLUDED.updated_by`,
        [year, by(principal)],
      );
      if (entries.length) {
        await m.query(
          `UPDATE calendar_days c SET working = e.working, note = e.note
             FROM unnest($1::date[], $2::boolean[], $3::text[]) AS e(day, working, note) WHERE c.day = e.day`,
          [entries.map((e) => e.day), entries.map((e) => e.working), entries.map((e) => e.note)],
        );
      }
    });
    return this.year(year);
  }
}

const by = (principal: Principal) => `${principal.orgId}/${principal.clientId}`;

function parseYear(value: unknown): number {
  const year = typeof value === 'number' ? value : typeof value === 'string' && /^\d{4}$/.test(value) ? Number(value) : NaN;
  if (!(year >= FIRST_YEAR && year <= LAST_YEAR)) {
    throw badRequest('invalid-parameter', `year must be a year from ${FIRST_YEAR} to ${LAST_YEAR}`, [
      { field: 'year', message: `must be a year from ${FIRST_YEAR} to ${LAST_YEAR}` },
    ]);
  }
  return year;
}
