import { ConfigError } from '@trace/platform';
import { DEFAULT_RETEST_WINDOW_DAYS, inspectionOptions, retestDeadlineOf } from './options';

describe('inspection options (re-test window)', () => {
  it('defaults to 15 days', () => {
    expect(inspectionOptions('agri', {}, {})).toEqual({ retestWindowDays: DEFAULT_RETEST_WINDOW_DAYS });
    expect(DEFAULT_RETEST_WINDOW_DAYS).toBe(15);
  });

  it('takes the module option, then the domain variable, then the global one', () => {
    const env = { RETEST_WINDOW_DAYS: '20', FOOD_RETEST_WINDOW_DAYS: '7' };
    expect(inspectionOptions('food', { retestWindowDays: 3 }, env).retestWindowDays).toBe(3);
    expect(inspectionOptions('food', {}, env).retestWindowDays).toBe(7);
    expect(inspectionOptions('agri', {}, env).retestWindowDays).toBe(20);
  });

  it('refuses a malformed window, naming the variable', () => {
    expect(() => inspectionOptions('agri', {}, { AGRI_RETEST_WINDOW_DAYS: 'two weeks' })).toThrow(ConfigError);
    expect(() => inspectionOptions('agri', {}, { RETEST_WINDOW_DAYS: '0' })).toThrow(/RETEST_WINDOW_DAYS/);
    expect(() => inspectionOptions('agri', { retestWindowDays: 1.5 }, {})).toThrow(/retestWindowDays/);
  });

  it('counts the deadline from the sampling time', () => {
    expect(retestDeadlineOf(new Date('2026-03-01T08:00:00Z'), { retestWindowDays: 15 }).toISOString()).toBe('2026-03-16T08:00:00.000Z');
  });
});
