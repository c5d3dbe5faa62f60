import { formatOffsetTime, offsetMinutes, offsetTimeProblem, parseOffsetTime } from './time';

describe('times with offset', () => {
  it('parses RFC 3339 with offset into the instant and the offset written', () => {
    expect(parseOffsetTime('2026-12-05T07:00:00+08:00')).toEqual({ instant: new Date('2026-12-04T23:00:00Z'), offset: '+08:00' });
    expect(parseOffsetTime('2026-12-05T07:00:00.25-05:30')).toEqual({ instant: new Date('2026-12-05T12:30:00.250Z'), offset: '-05:30' });
    expect(parseOffsetTime('2026-12-05t07:00:00z')).toEqual({ instant: new Date('2026-12-05T07:00:00Z'), offset: '+00:00' });
    expect(parseOffsetTime('2026-12-05T07:00:00.123456789Z')).toEqual({ instant: new Date('2026-12-05T07:00:00.123Z'), offset: '+00:00' });
  });

  it('refuses a time without an offset, saying so', () => {
    for (const s of ['2026-12-05 07:00', '2026-01-01T08:00:00', '2026-01-01', '2026-01-01T08:00', '2026-01-01 08:00:00.5']) {
      expect(offsetTimeProblem(s)).toMatch(/no UTC offset/);
    }
  });

  it('refuses what is not a time on the calendar', () => {
    for (const s of ['2026-02-30T08:00:00+08:00', '2026-01-01T24:00:00Z', '2026-01-01T08:60:00Z', '2026-01-01T08:00:60Z',
      '2026-01-01T08:00:00+24:00', '2026-01-01T08:00:00-00:00', '2026-01-01T08:00:00+0800', 'yesterday', '', '2026-1-1T08:00:00Z']) {
      expect({ s, problem: offsetTimeProblem(s) }).toEqual({ s, problem: expect.any(String) });
    }
    expect(offsetTimeProblem(20261205)).toMatch(/string/);
  });

  it('gives an instant back at the offset it was written in', () => {
    expect(formatOffsetTime(new Date('2026-12-04T23:00:00Z'), '+08:00')).toBe('2026-12-05T07:00:00+08:00');
    expect(formatOffsetTime(new Date('2026-12-05T12:30:00.250Z'), '-05:30')).toBe('2026-12-05T07:00:00.250-05:30');
    expect(formatOffsetTime('2026-12-31T20:00:00Z', '+08:00')).toBe('2027-01-01T04:00:00+08:00');
    expect(formatOffsetTime(new Date('2026-12-05T07:00:00Z'), null)).toBe('2026-12-05T07:00:00.000Z');
    expect(offsetMinutes('-09:30')).toBe(-570);
  });

  it('round-trips: what was written is what is given back', () => {
    for (const s of ['2026-12-05T07:00:00+08:00', '2026-03-29T01:59:59.999+01:00', '1999-12-31T23:59:59-12:00', '2026-06-01T00:00:00+14:00']) {
      const p = parseOffsetTime(s) as { instant: Date; offset: string };
      expect(formatOffsetTime(p.instant, p.offset)).toBe(s);
    }
  });
});
