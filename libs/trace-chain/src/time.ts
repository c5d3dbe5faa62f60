/**
 * Times as the public contract takes them: RFC 3339 with an explicit offset.
 * A time without one (`2026-12-05 07:00`, `2026-01-01T08:00:00`,
 * `2026-01-01`) cannot be placed on the time line without guessing, so it is
 * refused; the offset given is kept so that the time can be given back as its
 * writer wrote it (a Chinese user's 07:00+08:00 stays 07:00+08:00).
 */

/** An instant and the UTC offset it was written in, as `±HH:MM` (`Z` becomes `+00:00`). */
export interface OffsetTime {
  instant: Date;
  offset: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;

/** Why `s` is not an RFC 3339 date-time with offset, or undefined when it is one. */
export function offsetTimeProblem(s: unknown): string | undefined {
  const r = parseOffsetTime(s);
  return 'problem' in r ? r.problem : undefined;
}

/** Parses an RFC 3339 date-time with offset; names what is wrong otherwise. */
export function parseOffsetTime(s: unknown): OffsetTime | { problem: string } {
  if (typeof s !== 'string') return { problem: 'must be an RFC 3339 date-time string' };
  const m = RFC3339.exec(s);
  if (!m) {
    const noOffset = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(s);
    return {
      problem: noOffset
        ? 'has no UTC offset: write it as RFC 3339 with an offset, e.g. 2026-12-05T07:00:00+08:00'
        : 'must be an RFC 3339 date-time with offset, e.g. 2026-12-05T07:00:00+08:00',
    };
  }
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number);
  if (hour > 23 || minute > 59 || second > 59) return { problem: 'has a time of day out of range' };
  const civil = new Date(Date.UTC(year, month - 1, day));
  if (civil.getUTCFullYear() !== year || civil.getUTCMonth() !== month - 1 || civil.getUTCDate() !== day) {
    return { problem: 'is not a calendar date' };
  }
  if (zone === '-00:00') return { problem: 'has an unknown local offset (-00:00): give the actual offset' };
  const offset = normalizeOffset(zone);
  if (offset === undefined) return { problem: 'has a UTC offset out of range' };
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return { instant: new Date(local - offsetMinutes(offset) * 60_000), offset };
}

/** `Z` → `+00:00`; `±HH:MM` with HH ≤ 23 and MM ≤ 59 kept; anything else undefined. */
export function normalizeOffset(zone: string): string | undefined {
  if (zone === 'Z' || zone === 'z') return '+00:00';
  const m = OFFSET.exec(zone);
  if (!m || Number(m[2]) > 23 || Number(m[3]) > 59) return undefined;
  return zone;
}

/** Minutes east of UTC of a `±HH:MM` offset. */
export function offsetMinutes(offset: string): number {
  const m = OFFSET.exec(offset);
  if (!m) throw new Error(`not a UTC offset: ${offset}`);
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/**
 * The instant written at the given offset (`2026-12-04T23:00:00Z` at
 * `+08:00` → `2026-12-05T07:00:00+08:00`); milliseconds only when there are
 * some. Without an offset (a time stored before offsets were kept) it is UTC
 * in `toISOString` form, as it was given back then.
 */
export function formatOffsetTime(instant: Date | string, offset?: string | null): string {
  const at = instant instanceof Date ? instant : new Date(instant);
  if (!offset) return at.toISOString();
  const local = new Date(at.getTime() + offsetMinutes(offset) * 60_000).toISOString();
  const ms = local.slice(19, 23);
  return `${local.slice(0, 19)}${ms === '.000' ? '' : ms}${offset}`;
}
