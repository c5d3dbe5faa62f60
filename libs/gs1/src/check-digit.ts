import { Gs1Error } from './errors';

/**
 * GS1 mod-10 check digit of `dataDigits` (the key without its check digit).
 * Weights run 3,1,3,1… from the rightmost data digit, so the same function
 * serves every GS1 key length (GTIN-8 … SSCC).
 */
export function gs1CheckDigit(dataDigits: string): number {
  if (typeof dataDigits !== 'string' || !/^\d+$/.test(dataDigits)) {
    throw new Gs1Error('key.format', 'GS1 key data must be one or more digits');
  }
  let sum = 0;
  for (let i = dataDigits.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (dataDigits.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when `digits` is all digits (at least two) and its last digit is the GS1 check digit. */
export function isValidGs1Key(digits: string): boolean {
  if (typeof digits !== 'string' || !/^\d{2,}$/.test(digits)) return false;
  return gs1CheckDigit(digits.slice(0, -1)) === Number(digits[digits.length - 1]);
}

/** What to tell a person whose key has a wrong check digit: which digit the key needs (e.g. "the last digit should be 2, not 3"). */
export function checkDigitHint(digits: string): string {
  return `the last digit should be ${gs1CheckDigit(digits.slice(0, -1))}, not ${digits[digits.length - 1]}`;
}

const GTIN_LENGTHS = new Set([8, 12, 13, 14]);

/**
 * Accepts GTIN-8/12/13/14 and returns the GTIN-14 form, left-padded with zeros,
 * which is the form GS1 Digital Link and AI (01) carry.
 */
export function normalizeGtin(input: string): string {
  if (typeof input !== 'string' || !/^\d+$/.test(input)) {
    throw new Gs1Error('gtin.format', 'GTIN must contain digits only');
  }
  if (!GTIN_LENGTHS.has(input.length)) {
    throw new Gs1Error('gtin.length', `GTIN must have 8, 12, 13 or 14 digits, got ${input.length}`);
  }
  if (!isValidGs1Key(input)) {
    throw new Gs1Error('gtin.check_digit', `GTIN ${input} has a wrong check digit: ${checkDigitHint(input)}`);
  }
  return input.padStart(14, '0');
}

/** Global Location Number: 13 digits with a valid check digit. */
export function isValidGln(digits: string): boolean {
  return typeof digits === 'string' && digits.length === 13 && isValidGs1Key(digits);
}

/**
 * Why `gln` is not a Global Location Number, in words for the person who typed it,
 * or undefined when it is one. Organisations and locations both take a GLN and must
 * refuse it the same way.
 */
export function glnProblem(gln: string): string | undefined {
  if (isValidGln(gln)) return undefined;
  return typeof gln === 'string' && /^\d{13}$/.test(gln) ? `GLN ${gln} has a wrong check digit: ${checkDigitHint(gln)}` : 'gln must be 13 digits';
}

/** Serial Shipping Container Code: 18 digits with a valid check digit. */
export function isValidSscc(digits: string): boolean {
  return typeof digits === 'string' && digits.length === 18 && isValidGs1Key(digits);
}
