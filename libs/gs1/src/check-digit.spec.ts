import { glnProblem, gs1CheckDigit, isValidGln, isValidGs1Key, isValidSscc, normalizeGtin } from './check-digit';
import { Gs1Error } from './errors';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });

describe('gs1CheckDigit', () => {
  it.each([
    ['0950600013435', 2], // GS1 example GTIN 09506000134352
    ['400638133393', 1], // EAN-13 4006381333931
    ['03600029145', 2], // UPC-A 036000291452
    ['9638507', 4], // EAN-8 96385074
    ['10614141123456789', 7], // SSCC 106141411234567897
    ['541234500001', 3], // GLN 5412345000013
    ['00000000000', 0],
  ])('computes %s -> %i', (data, check) => {
    expect(gs1CheckDigit(data)).toBe(check);
  });

  it.each(['', 'abc', '12a4', ' 123', '-1'])('refuses non-digit input %p', (data) => {
    expect(() => gs1CheckDigit(data)).toThrow(gs1('key.format'));
  });

  it('throws Gs1Error instances', () => {
    expect(() => gs1CheckDigit('x')).toThrow(Gs1Error);
  });
});

describe('isValidGs1Key', () => {
  it('accepts a key with the right check digit', () => {
    expect(isValidGs1Key('09506000134352')).toBe(true);
    expect(isValidGs1Key('96385074')).toBe(true);
  });

  it('refuses a wrong check digit, non-digits and too-short input', () => {
    expect(isValidGs1Key('09506000134353')).toBe(false);
    expect(isValidGs1Key('0950600013435x')).toBe(false);
    expect(isValidGs1Key('5')).toBe(false);
    expect(isValidGs1Key('')).toBe(false);
  });
});

describe('normalizeGtin', () => {
  it('keeps a valid GTIN-14', () => {
    expect(normalizeGtin('09506000134352')).toBe('09506000134352');
  });

  it.each([
    ['9506000134352', '09506000134352'], // GTIN-13
    ['036000291452', '00036000291452'], // GTIN-12
    ['96385074', '00000096385074'], // GTIN-8
  ])('pads %s to %s', (input, gtin14) => {
    expect(normalizeGtin(input)).toBe(gtin14);
  });

  it('refuses a wrong check digit', () => {
    expect(() => normalizeGtin('09506000134353')).toThrow(gs1('gtin.check_digit'));
    expect(() => normalizeGtin('96385075')).toThrow(gs1('gtin.check_digit'));
  });

  it('says which check digit was expected', () => {
    expect(() => normalizeGtin('09506000134353')).toThrow('GTIN 09506000134353 has a wrong check digit: the last digit should be 2, not 3');
  });

  it.each(['1234567', '123456789', '1234567890', '12345678901', '123456789012345'])(
    'refuses length %p',
    (input) => {
      expect(() => normalizeGtin(input)).toThrow(gs1('gtin.length'));
    },
  );

  it.each(['', '0950600013435X', ' 09506000134352', '09506000134352 ', '0950-6000134352'])(
    'refuses non-digits %p',
    (input) => {
      expect(() => normalizeGtin(input)).toThrow(gs1('gtin.format'));
    },
  );

  it('refuses a non-string at run time', () => {
    expect(() => normalizeGtin(9506000134352 as unknown as string)).toThrow(gs1('gtin.format'));
  });
});

describe('isValidGln / isValidSscc', () => {
  it('checks GLN length and check digit', () => {
    expect(isValidGln('5412345000013')).toBe(true);
    expect(isValidGln('5412345000014')).toBe(false);
    expect(isValidGln('09506000134352')).toBe(false); // valid key, wrong length
  });

  it('checks SSCC length and check digit', () => {
    expect(isValidSscc('106141411234567897')).toBe(true);
    expect(isValidSscc('106141411234567898')).toBe(false);
    expect(isValidSscc('5412345000013')).toBe(false);
  });
});

describe('glnProblem', () => {
  it('accepts a valid GLN', () => {
    expect(glnProblem('5412345000013')).toBeUndefined();
  });

  it('names the check digit a 13-digit GLN needs', () => {
    expect(glnProblem('5412345000014')).toBe('GLN 5412345000014 has a wrong check digit: the last digit should be 3, not 4');
  });

  it.each(['541234500001', '54123450000130', '541234500001x', ''])('asks for 13 digits for %p', (gln) => {
    expect(glnProblem(gln)).toBe('gln must be 13 digits');
  });
});
