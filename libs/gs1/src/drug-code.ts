import { Gs1Error } from './errors';

/**
 * Chinese drug trace code (药品追溯码): 20 digits = 7-digit product
 * identification code + 9-digit serial + 4-digit check.
 */
export interface DrugTraceCode {
  productCode: string;
  serial: string;
  check: string;
}

/** Computes the 4-digit check of a drug trace code from its first 16 digits. */
export interface DrugCodeCheck {
  compute(first16: string): string;
}

/**
 * STAND-IN, NOT THE OFFICIAL ALGORITHM. The official check computation was not
 * available when this was written, so codes issued by real manufacturers
 * will generally fail it. ISO 7064 MOD 97-10 (as in IBAN) is used because it
 * catches every single-digit error and every adjacent transposition; its two
 * check digits (02–98) are zero-padded to four. Replace via the `check`
 * parameter once the official algorithm is known.
 */
export const standInMod97DrugCodeCheck: DrugCodeCheck = {
  compute(first16: string): string {
    if (!/^\d{16}$/.test(first16)) throw new Gs1Error('drug.format', 'Check input must be 16 digits');
    let remainder = 0;
    for (let i = 0; i < first16.length; i++) remainder = (remainder * 10 + first16.charCodeAt(i) - 48) % 97;
    return String(98 - ((remainder * 100) % 97)).padStart(4, '0');
  },
};

/** The check used when none is passed; currently the stand-in above. */
export const defaultDrugCodeCheck: DrugCodeCheck = standInMod97DrugCodeCheck;

function runCheck(check: DrugCodeCheck, first16: string): string {
  const value = check.compute(first16);
  if (typeof value !== 'string' || !/^\d{4}$/.test(value)) {
    throw new Gs1Error('drug.check_impl', 'Drug code check implementation must return 4 digits');
  }
  return value;
}

export function generateDrugTraceCode(
  productCode7: string,
  serial9: string,
  check: DrugCodeCheck = defaultDrugCodeCheck,
): string {
  if (typeof productCode7 !== 'string' || !/^\d{7}$/.test(productCode7)) {
    throw new Gs1Error('drug.product_code', 'Drug product identification code must be 7 digits');
  }
  if (typeof serial9 !== 'string' || !/^\d{9}$/.test(serial9)) {
    throw new Gs1Error('drug.serial', 'Drug serial must be 9 digits');
  }
  const first16 = productCode7 + serial9;
  return first16 + runCheck(check, first16);
}

export function parseDrugTraceCode(code: string, check: DrugCodeCheck = defaultDrugCodeCheck): DrugTraceCode {
  if (typeof code !== 'string' || !/^\d+$/.test(code)) {
    throw new Gs1Error('drug.format', 'Drug trace code must contain digits only');
  }
  if (code.length !== 20) throw new Gs1Error('drug.length', `Drug trace code must be 20 digits, got ${code.length}`);
  const expected = runCheck(check, code.slice(0, 16));
  if (code.slice(16) !== expected) throw new Gs1Error('drug.check_digit', 'Drug trace code check does not match');
  return { productCode: code.slice(0, 7), serial: code.slice(7, 16), check: code.slice(16) };
}
