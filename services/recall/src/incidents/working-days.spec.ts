import { CN_CALENDAR_SEED } from './migrations';
import { incidentOptions } from './options';
import { endOfShanghaiDay, isIsoDay, lastWorkingDay, reportDueBy, shanghaiDate, type CalendarLookup } from './working-days';

const plain: CalendarLookup = () => undefined;
const seeded = new Map(CN_CALENDAR_SEED.map((d) => [d.day, d.working]));
const cn: CalendarLookup = (d) => seeded.get(d);

describe('working days', () => {
  it('uses the Asia/Shanghai date of an instant and ends the day at 24:00 local', () => {
    expect(shanghaiDate(new Date('2026-11-26T15:59:59Z'))).toBe('2026-11-26');
    expect(shanghaiDate(new Date('2026-11-26T16:00:00Z'))).toBe('2026-11-27');
    expect(endOfShanghaiDay('2026-12-01').toISOString()).toBe('2026-12-01T16:00:00.000Z');
  });

  it('skips the weekend; the day of awareness is not counted', () => {
    expect(lastWorkingDay('2026-11-23', 2, plain)).toBe('2026-11-25'); // Mon → Wed
    expect(lastWorkingDay('2026-11-27', 2, plain)).toBe('2026-12-01'); // Fri → Tue
    expect(lastWorkingDay('2026-11-28', 1, plain)).toBe('2026-11-30'); // Sat → Mon
    expect(lastWorkingDay('2026-11-27', 5, plain)).toBe('2026-12-04');
    expect(lastWorkingDay('2026-11-27', 0, plain)).toBe('2026-11-27');
    // Aware on Friday 01:00 Shanghai (Thursday in UTC): due 24:00 Shanghai on Tuesday.
    expect(reportDueBy(new Date('2026-11-26T17:00:00Z'), 2, plain).toISOString()).toBe('2026-12-01T16:00:00.000Z');
  });

  it('skips a holiday week and counts an adjusted working Saturday (National Day 2026)', () => {
    expect(lastWorkingDay('2026-09-30', 2, cn)).toBe('2026-10-09');
    expect(lastWorkingDay('2026-09-30', 3, cn)).toBe('2026-10-10'); // Saturday, 调休
    expect(lastWorkingDay('2026-09-30', 2, plain)).toBe('2026-10-02');
  });

  it('counts the working Saturday before the Spring Festival break', () => {
    expect(lastWorkingDay('2026-02-13', 1, cn)).toBe('2026-02-14');
    expect(lastWorkingDay('2026-02-13', 2, cn)).toBe('2026-02-24');
  });

  it('crosses the year end and the New Year holiday', () => {
    expect(lastWorkingDay('2026-12-31', 2, cn)).toBe('2027-01-05');
    expect(lastWorkingDay('2025-12-31', 1, cn)).toBe('2026-01-04'); // Sunday 4 January 2026 is a working day
    expect(lastWorkingDay('2025-12-31', 1, plain)).toBe('2026-01-01');
    expect(reportDueBy(new Date('2026-12-31T10:00:00+08:00'), 2, cn).toISOString()).toBe('2027-01-05T16:00:00.000Z');
  });

  it('fails instead of looping when the calendar has no working day', () => {
    expect(() => lastWorkingDay('2026-01-01', 1, () => false)).toThrow(RangeError);
    expect(() => lastWorkingDay('2026-02-30', 1, plain)).toThrow(RangeError);
    expect(isIsoDay('2026-02-29')).toBe(false);
    expect(isIsoDay('2028-02-29')).toBe(true);
  });

  it('seeds every 2026 and 2027 day once at most', () => {
    expect(new Set(CN_CALENDAR_SEED.map((d) => d.day)).size).toBe(CN_CALENDAR_SEED.length);
    expect(CN_CALENDAR_SEED.every((d) => isIsoDay(d.day) && /^202[67]-/.test(d.day))).toBe(true);
  });
});

describe('incident options', () => {
  it('defaults to 2 working days for deaths and serious injuries, 5 otherwise, and a 60 s sweep', () => {
    expect(incidentOptions({})).toEqual({
      reportDays: { death: 2, serious_injury: 2, minor_injury: 5, property_loss: 5, other: 5 },
      sweepIntervalMs: 60_000,
    });
  });

  it('reads overrides and refuses malformed ones', () => {
    const o = incidentOptions({ INCIDENT_REPORT_DAYS: 'death=1, other=10', INCIDENT_SWEEP_INTERVAL_MS: '0' });
    expect(o.reportDays).toMatchObject({ death: 1, serious_injury: 2, other: 10 });
    expect(o.sweepIntervalMs).toBe(0);
    expect(() => incidentOptions({ INCIDENT_REPORT_DAYS: 'fire=1' })).toThrow(/unknown severity/);
    expect(() => incidentOptions({ INCIDENT_REPORT_DAYS: 'death=0' })).toThrow(/death/);
    expect(() => incidentOptions({ INCIDENT_SWEEP_INTERVAL_MS: 'soon' })).toThrow(/INCIDENT_SWEEP_INTERVAL_MS/);
  });
});
