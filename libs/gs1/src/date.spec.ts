import { GS1_DATE_AIS, gs1Year, isGs1DateAi, parseGs1Date } from './date';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });
const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
const NOW = utc(2025, 6, 15);

describe('parseGs1Date', () => {
  it('parses YYMMDD to midnight UTC', () => {
    expect(parseGs1Date('17', '261231', NOW)).toEqual(utc(2026, 12, 31));
    expect(parseGs1Date('11', '250101', NOW)).toEqual(utc(2025, 1, 1));
  });

  it.each([
    ['17', '250200', utc(2025, 2, 28)],
    ['17', '240200', utc(2024, 2, 29)], // leap year
    ['17', '261100', utc(2026, 11, 30)],
    ['15', '251200', utc(2025, 12, 31)],
    ['16', '250400', utc(2025, 4, 30)],
  ])('reads day 00 in AI (%s) %s as the last day of the month', (ai, value, expected) => {
    expect(parseGs1Date(ai, value, NOW)).toEqual(expected);
  });

  it.each(['11', '12', '13'])('reads day 00 in AI (%s) as the first day of the month', (ai) => {
    expect(parseGs1Date(ai, '250300', NOW)).toEqual(utc(2025, 3, 1));
  });

  it('accepts 29 February only in leap years', () => {
    expect(parseGs1Date('17', '240229', NOW)).toEqual(utc(2024, 2, 29));
    expect(parseGs1Date('17', '000229', NOW)).toEqual(utc(2000, 2, 29)); // 2000 is a leap year
    expect(() => parseGs1Date('17', '250229', NOW)).toThrow(gs1('date.invalid'));
  });

  it.each(['250001', '251301', '250132', '250431', '259901'])('refuses impossible date %s', (value) => {
    expect(() => parseGs1Date('17', value, NOW)).toThrow(gs1('date.invalid'));
  });

  it.each(['2612', '2612311', '26123a', '', '26-12-31'])('refuses malformed value %p', (value) => {
    expect(() => parseGs1Date('17', value, NOW)).toThrow(gs1('date.format'));
  });

  it.each(['10', '21', '01', '7003', '14'])('refuses non-date AI (%s)', (ai) => {
    expect(() => parseGs1Date(ai, '261231', NOW)).toThrow(gs1('date.ai'));
  });

  it('uses the current date when none is given', () => {
    const yy = String(new Date().getUTCFullYear() % 100).padStart(2, '0');
    expect(parseGs1Date('17', `${yy}0115`).getUTCFullYear()).toBe(new Date().getUTCFullYear());
  });

  it('lists the date AIs', () => {
    expect([...GS1_DATE_AIS].sort()).toEqual(['11', '12', '13', '15', '16', '17']);
    expect(isGs1DateAi('17')).toBe(true);
    expect(isGs1DateAi('toString')).toBe(false);
  });
});

describe('gs1Year (GS1 General Specifications 7.12)', () => {
  it.each([
    [2025, 25, 2025],
    [2025, 75, 2075], // +50: still this century
    [2025, 76, 1976], // +51: previous century
    [2025, 0, 2000],
    [2025, 99, 1999],
    [2099, 49, 2149], // -50: next century
    [2099, 50, 2050], // -49: this century
    [2001, 51, 2051],
    [2001, 52, 1952],
    [1999, 0, 2000],
  ])('in %i, YY=%i is %i', (current, yy, expected) => {
    expect(gs1Year(yy, utc(current, 6, 1))).toBe(expected);
  });

  it('always lands within -49..+50 years of the current year', () => {
    for (let current = 1990; current <= 2110; current += 7) {
      for (let yy = 0; yy < 100; yy++) {
        const diff = gs1Year(yy, utc(current, 1, 1)) - current;
        expect(diff).toBeGreaterThanOrEqual(-49);
        expect(diff).toBeLessThanOrEqual(50);
      }
    }
  });
});
