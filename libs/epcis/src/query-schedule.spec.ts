import { nextScheduledRun, parseQuerySchedule } from './query-schedule';

const at = (iso: string) => new Date(iso);
const runs = (schedule: Record<string, unknown>, from: string, n: number) => {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = nextScheduledRun(schedule as never, t);
    out.push(t.toISOString());
  }
  return out;
};

describe('EPCIS query schedule', () => {
  it('runs the binding\'s example { hour: "1", minute: "5" } once a day at 01:05:00 UTC', () => {
    expect(runs({ hour: '1', minute: '5' }, '2026-12-06T10:49:42Z', 2)).toEqual(['2026-12-07T01:05:00.000Z', '2026-12-08T01:05:00.000Z']);
    expect(runs({ hour: '1', minute: '5' }, '2026-12-06T01:04:59.500Z', 1)).toEqual(['2026-12-06T01:05:00.000Z']);
  });

  it('reads numbers, [low-high] ranges and comma lists; coarser fields omitted match everything', () => {
    expect(runs({ second: '[0-59]' }, '2026-12-06T10:49:42.300Z', 3)).toEqual(['2026-12-06T10:49:43.000Z', '2026-12-06T10:49:44.000Z', '2026-12-06T10:49:45.000Z']);
    expect(runs({ second: '10,[40-41]' }, '2026-12-06T10:49:40Z', 4)).toEqual([
      '2026-12-06T10:49:41.000Z', '2026-12-06T10:50:10.000Z', '2026-12-06T10:50:40.000Z', '2026-12-06T10:50:41.000Z',
    ]);
    expect(runs({ minute: 0 }, '2026-12-06T23:30:00Z', 2)).toEqual(['2026-12-07T00:00:00.000Z', '2026-12-07T01:00:00.000Z']);
  });

  it('days: dayOfWeek 1 is Monday, 7 Sunday; dayOfMonth and month; both day fields must match', () => {
    // 2026-12-06 is a Sunday.
    expect(runs({ dayOfWeek: '1' }, '2026-12-06T10:00:00Z', 2)).toEqual(['2026-12-07T00:00:00.000Z', '2026-12-14T00:00:00.000Z']);
    expect(runs({ dayOfWeek: '7', hour: '12' }, '2026-12-06T10:00:00Z', 1)).toEqual(['2026-12-06T12:00:00.000Z']);
    expect(runs({ month: '2', dayOfMonth: '29' }, '2026-12-06T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
    expect(runs({ month: '1' }, '2026-12-06T00:00:00Z', 2)).toEqual(['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']);
    // Friday the 13th.
    expect(runs({ dayOfMonth: '13', dayOfWeek: '5' }, '2026-12-06T00:00:00Z', 1)).toEqual(['2027-08-13T00:00:00.000Z']);
  });

  it('refuses a malformed schedule, naming each bad field', () => {
    const problems = (s: unknown) => ('problems' in parseQuerySchedule(s) ? (parseQuerySchedule(s) as { problems: { field: string }[] }).problems.map((p) => p.field) : []);
    expect(problems({ second: '60' })).toEqual(['/second']);
    expect(problems({ minute: '5-10' })).toEqual(['/minute']);
    expect(problems({ hour: '[5-2]', dayOfWeek: '0', month: 'x', dayOfMonth: '' })).toEqual(['/hour', '/dayOfMonth', '/month', '/dayOfWeek']);
    expect(problems({ minute: '5', year: '2027' })).toEqual(['/year']);
    expect(problems({})).toEqual(['']);
    expect(problems('1 5 * * *')).toEqual(['']);
    expect(problems({ minute: 1.5 })).toEqual(['/minute']);
    expect(problems({ month: '2', dayOfMonth: '30' })).toEqual(['/dayOfMonth']);
    expect(parseQuerySchedule({ hour: 1, minute: '5,[10-12]' })).toMatchObject({ schedule: { hour: '1', minute: '5,[10-12]' } });
  });
});
