/**
 * The QuerySchedule of EPCIS scheduled subscriptions (REST binding: `schedule` { second, minute, hour,
 * dayOfMonth, month, dayOfWeek }, or the same names as WebSocket query parameters). Each field is a
 * string: a number, a range `[low-high]`, or a comma-separated list of those (the binding's pattern);
 * a JSON integer is read as its string. Times are UTC.
 *
 * Omitted fields: the binding's own example, { hour: "1", minute: "5" }, means "every morning at
 * 1.05am" — once, not sixty times — so a field finer than the finest one given stands at its first
 * value (second 0, …), and a coarser one matches every value. dayOfMonth and dayOfWeek, when both are
 * given, must both match (EPCIS 1.2's rule: every given field must match).
 */
export const SCHEDULE_FIELDS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
export type ScheduleField = (typeof SCHEDULE_FIELDS)[number];
export type QuerySchedule = Partial<Record<ScheduleField, string>>;

const RANGE: Record<ScheduleField, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: [1, 12],
  dayOfWeek: [1, 7],
};

/** The allowed values of each field, after defaults. */
export interface CompiledSchedule {
  second: Set<number>;
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
}

const all = ([lo, hi]: [number, number]) => new Set(Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));

function parseField(field: ScheduleField, raw: unknown): Set<number> | string {
  const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
  const [lo, hi] = RANGE[field];
  if (typeof text !== 'string' || text.length === 0 || text.length > 200) return `must be a string: a number from ${lo} to ${hi}, a range [low-high], or a comma-separated list of those`;
  const values = new Set<number>();
  for (const element of text.split(',')) {
    const m = /^(?:(\d{1,2})|\[(\d{1,2})-(\d{1,2})\])$/.exec(element.trim());
    if (!m) return `"${element}" is neither a number nor a range [low-high] (from ${lo} to ${hi})`;
    const a = Number(m[1] ?? m[2]);
    const b = Number(m[1] ?? m[3]);
    if (a < lo || b > hi || a > b) return `"${element}" is outside ${lo}-${hi} or its low end is above its high end`;
    for (let v = a; v <= b; v++) values.add(v);
  }
  return values;
}

/** Checks a schedule: either its compiled form and the canonical text of each field given, or the problems (field paths relative to the schedule). */
export function parseQuerySchedule(input: unknown): { schedule: QuerySchedule; compiled: CompiledSchedule } | { problems: { field: string; message: string }[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: [{ field: '', message: `must be an object of ${SCHEDULE_FIELDS.join(', ')}` }] };
  const problems: { field: string; message: string }[] = [];
  const given = input as Record<string, unknown>;
  for (const k of Object.keys(given)) if (!(SCHEDULE_FIELDS as readonly string[]).includes(k)) problems.push({ field: `/${k}`, message: `not a schedule field (${SCHEDULE_FIELDS.join(', ')})` });
  const schedule: QuerySchedule = {};
  const sets: Partial<Record<ScheduleField, Set<number>>> = {};
  for (const f of SCHEDULE_FIELDS) {
    if (given[f] === undefined) continue;
    const parsed = parseField(f, given[f]);
    if (typeof parsed === 'string') problems.push({ field: `/${f}`, message: parsed });
    else {
      sets[f] = parsed;
      schedule[f] = String(given[f]);
    }
  }
  if (!problems.length && !Object.keys(sets).length) problems.push({ field: '', message: 'names no field: a schedule needs at least one of ' + SCHEDULE_FIELDS.join(', ') });
  if (problems.length) return { problems };
  // Finer than the finest field given: its first value. second < minute < hour < (dayOfMonth, dayOfWeek) < month.
  const order: ScheduleField[][] = [['second'], ['minute'], ['hour'], ['dayOfMonth', 'dayOfWeek'], ['month']];
  const finest = order.findIndex((group) => group.some((f) => sets[f]));
  const compiled = {} as CompiledSchedule;
  order.forEach((group, i) => {
    for (const f of group) compiled[f] = sets[f] ?? (i < finest && f !== 'dayOfWeek' ? new Set([RANGE[f][0]]) : all(RANGE[f]));
  });
  // A date that cannot exist (dayOfMonth 30-31 in February only) would never run: refused rather than silent.
  if (nextScheduleMatch(compiled, new Date(Date.UTC(2000, 0, 1))) === undefined) return { problems: [{ field: '/dayOfMonth', message: 'no date matches the schedule' }] };
  return { schedule, compiled };
}

/** ISO weekday of a UTC date: 1 Monday … 7 Sunday (the binding's numbering). */
const isoDay = (d: Date) => ((d.getUTCDay() + 6) % 7) + 1;

/**
 * The first time strictly after `after` (to the whole second) the schedule matches, or undefined when none
 * within 8 years (which a parsed schedule always has: 8 years hold every weekday of every date).
 */
export function nextScheduleMatch(c: CompiledSchedule, after: Date): Date | undefined {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const limit = after.getTime() + 8 * 366 * 86_400_000;
  const min = (s: Set<number>) => Math.min(...s);
  while (t.getTime() <= limit) {
    if (!c.month.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.dayOfMonth.has(t.getUTCDate()) || !c.dayOfWeek.has(isoDay(t))) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.hour.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!c.minute.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    if (!c.second.has(t.getUTCSeconds())) {
      const later = [...c.second].filter((s) => s > t.getUTCSeconds());
      if (later.length) t.setUTCSeconds(Math.min(...later), 0);
      else t.setUTCMinutes(t.getUTCMinutes() + 1, min(c.second), 0);
      continue;
    }
    return t;
  }
  return undefined;
}

/** The next run of a schedule given as stored (already checked). */
export function nextScheduledRun(schedule: QuerySchedule, after: Date): Date {
  const parsed = parseQuerySchedule(schedule);
  if ('problems' in parsed) throw new Error(`A stored schedule does not parse: ${JSON.stringify(parsed.problems)}`);
  return nextScheduleMatch(parsed.compiled, after) as Date;
}
