import {
  defaultDrugCodeCheck,
  DrugCodeCheck,
  generateDrugTraceCode,
  parseDrugTraceCode,
  standInMod97DrugCodeCheck,
} from './drug-code';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });
const CODE = '12345670000000010049';

describe('stand-in MOD 97-10 check', () => {
  it('is the default until the official algorithm is known', () => {
    expect(defaultDrugCodeCheck).toBe(standInMod97DrugCodeCheck);
  });

  it.each([
    ['1234567000000001', '0049'],
    ['1234567123456789', '0032'],
    ['0000000000000001', '0095'],
  ])('computes %s -> %s', (first16, check) => {
    expect(standInMod97DrugCodeCheck.compute(first16)).toBe(check);
  });

  it('satisfies ISO 7064 MOD 97-10: the whole number is 1 mod 97', () => {
    for (const first16 of ['1234567000000001', '9999999999999999', '0000000000000000', '8600123456789012']) {
      const check = standInMod97DrugCodeCheck.compute(first16);
      expect(check).toMatch(/^00\d\d$/);
      expect(BigInt(first16 + check.slice(2)) % 97n).toBe(1n);
    }
  });

  it('refuses input that is not 16 digits', () => {
    expect(() => standInMod97DrugCodeCheck.compute('123')).toThrow(gs1('drug.format'));
  });
});

describe('generateDrugTraceCode / parseDrugTraceCode', () => {
  it('generates product code + serial + check', () => {
    expect(generateDrugTraceCode('1234567', '000000001')).toBe(CODE);
  });

  it('round-trips', () => {
    for (const [product, serial] of [
      ['1234567', '000000001'],
      ['8600001', '123456789'],
      ['0000000', '000000000'],
    ]) {
      const code = generateDrugTraceCode(product, serial);
      expect(code).toHaveLength(20);
      expect(parseDrugTraceCode(code)).toEqual({ productCode: product, serial, check: code.slice(16) });
    }
  });

  it('detects every single corrupted digit', () => {
    for (let i = 0; i < CODE.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === CODE[i]) continue;
        const corrupted = CODE.slice(0, i) + d + CODE.slice(i + 1);
        expect(() => parseDrugTraceCode(corrupted)).toThrow(gs1('drug.check_digit'));
      }
    }
  });

  it('detects every adjacent transposition of different digits', () => {
    const code = generateDrugTraceCode('8600123', '456789012');
    for (let i = 0; i < 19; i++) {
      if (code[i] === code[i + 1]) continue;
      const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
      expect(() => parseDrugTraceCode(swapped)).toThrow(gs1('drug.check_digit'));
    }
  });

  it('refuses malformed codes', () => {
    expect(() => parseDrugTraceCode(CODE.slice(0, 19))).toThrow(gs1('drug.length'));
    expect(() => parseDrugTraceCode(`${CODE}0`)).toThrow(gs1('drug.length'));
    expect(() => parseDrugTraceCode('')).toThrow(gs1('drug.format'));
    expect(() => parseDrugTraceCode(`${CODE.slice(0, 19)}A`)).toThrow(gs1('drug.format'));
    expect(() => parseDrugTraceCode(`1234 5670 0000 0001 0049`)).toThrow(gs1('drug.format'));
  });

  it('refuses malformed parts when generating', () => {
    expect(() => generateDrugTraceCode('123456', '000000001')).toThrow(gs1('drug.product_code'));
    expect(() => generateDrugTraceCode('12345678', '000000001')).toThrow(gs1('drug.product_code'));
    expect(() => generateDrugTraceCode('123456A', '000000001')).toThrow(gs1('drug.product_code'));
    expect(() => generateDrugTraceCode('1234567', '00000001')).toThrow(gs1('drug.serial'));
    expect(() => generateDrugTraceCode('1234567', 'abcdefghi')).toThrow(gs1('drug.serial'));
  });

  it('uses an injected check implementation', () => {
    const fixed: DrugCodeCheck = { compute: () => '1234' };
    const code = generateDrugTraceCode('1234567', '000000001', fixed);
    expect(code).toBe('12345670000000011234');
    expect(parseDrugTraceCode(code, fixed).check).toBe('1234');
    expect(() => parseDrugTraceCode(code)).toThrow(gs1('drug.check_digit'));
  });

  it('refuses a check implementation that does not return 4 digits', () => {
    const broken: DrugCodeCheck = { compute: () => '12' };
    expect(() => generateDrugTraceCode('1234567', '000000001', broken)).toThrow(gs1('drug.check_impl'));
    expect(() => parseDrugTraceCode(CODE, broken)).toThrow(gs1('drug.check_impl'));
  });
});
