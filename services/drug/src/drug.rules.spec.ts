import { generateDrugTraceCode } from '@trace/gs1';
import type { EventContext } from '@trace/trace-chain';
import {
  codeDispensable,
  codeFitsBatch,
  dispenserRefusal,
  drugRules,
  drugRulesFromEnv,
  generateUnitCode,
  parseUnitCode,
  releaseRefusal,
  UnitCodeError,
  verificationStatus,
} from './drug.rules';

const ctx = (bizStep: string, productCategory = 'vaccine', expiresAt: string | null = null, eventTime = '2026-06-01T00:00:00Z'): EventContext => ({
  batch: { id: 'b1', status: 'active', holderOrgId: 'maker', pendingReceiverOrgId: null, quantity: 10, productCategory, attributes: {}, expiresAt },
  event: { bizStep: bizStep as never, actorOrgId: 'maker', toOrgId: 'pharmacy', locationId: 'l1', eventTime },
});

describe('drug rules: batch release and expiry', () => {
  const rules = drugRules();

  it('refuses shipping, selling or dispensing a vaccine batch before its release', () => {
    for (const step of ['shipping', 'retail_selling', 'dispensing']) {
      expect(rules.onEvent!(ctx(step), {})).toMatchObject({ status: 409, rule: 'batch-release-required' });
    }
  });

  it('allows a released vaccine batch, other categories without release, and storing', () => {
    expect(rules.onEvent!(ctx('shipping'), { releasedAt: '2026-05-01T00:00:00Z' })).toBeUndefined();
    expect(rules.onEvent!(ctx('shipping', 'tablet'), {})).toBeUndefined();
    expect(rules.onEvent!(ctx('storing'), {})).toBeUndefined();
  });

  it('refuses dispensing or selling an expired batch, but lets it be shipped back', () => {
    const exp = '2026-05-01T00:00:00Z';
    expect(rules.onEvent!(ctx('dispensing', 'tablet', exp), {})).toMatchObject({ status: 409, rule: 'batch-expired' });
    expect(rules.onEvent!(ctx('retail_selling', 'tablet', exp), {})).toMatchObject({ rule: 'batch-expired' });
    expect(rules.onEvent!(ctx('dispensing', 'tablet', '2027-01-01T00:00:00Z'), {})).toBeUndefined();
    expect(rules.onEvent!(ctx('shipping', 'tablet', exp), {})).toBeUndefined();
  });

  it('takes the release categories from configuration', () => {
    expect(drugRulesFromEnv({ DRUG_RELEASE_CATEGORIES: 'vaccine,blood_product' }).onEvent!(ctx('shipping', 'blood_product'), {})).toMatchObject({
      rule: 'batch-release-required',
    });
    expect(drugRulesFromEnv({}).releaseCategories).toEqual(['vaccine']);
  });

  it('lets only pharmacies and hospitals dispense', () => {
    expect(dispenserRefusal('pharmacy')).toBeUndefined();
    expect(dispenserRefusal('hospital')).toBeUndefined();
    expect(dispenserRefusal('distributor')).toMatchObject({ status: 403, rule: 'dispenser-kind' });
  });

  it('releases a batch once, never a recalled one', () => {
    expect(releaseRefusal('active', null)).toBeUndefined();
    expect(releaseRefusal('active', 'BR-1')).toMatchObject({ status: 409, rule: 'already-released' });
    expect(releaseRefusal('recalled', null)).toMatchObject({ status: 409, rule: 'batch-recalled' });
  });
});

describe('drug unit codes', () => {
  const cn = generateDrugTraceCode('8123456', '000000001');

  it('parses a 20-digit trace code with its check and refuses a wrong check or length', () => {
    expect(parseUnitCode(cn)).toEqual({ kind: 'cn', code: cn, serial: '000000001', productCode: '8123456' });
    const wrong = cn.slice(0, 19) + String((Number(cn[19]) + 1) % 10);
    expect(() => parseUnitCode(wrong)).toThrow(UnitCodeError);
    expect(() => parseUnitCode(wrong)).toThrow(/check/);
    expect(() => parseUnitCode('1234567890')).toThrow(/20 digits/);
    expect(() => parseUnitCode('hello')).toThrow(UnitCodeError);
  });

  it('parses GS1 GTIN + serial from a Data Matrix element string or a Digital Link, into one canonical form', () => {
    const es = parseUnitCode('(01)09506000134352(17)271231(10)LOT1(21)ABC123');
    expect(es).toMatchObject({ kind: 'gs1', code: '(01)09506000134352(21)ABC123', gtin: '09506000134352', lot: 'LOT1', serial: 'ABC123' });
    expect(parseUnitCode('/01/09506000134352/10/LOT1/21/ABC123').code).toBe(es.code);
    expect(() => parseUnitCode('(01)09506000134352(10)LOT1')).toThrow(/serial/);
    expect(() => parseUnitCode('(01)09506000134353(21)X')).toThrow(UnitCodeError); // bad GTIN check digit
  });

  it('a code must fit its batch: GTIN and lot, or the product identification code', () => {
    const batch = { gtin: '09506000134352', lot: 'LOT1', productCode: '8123456' };
    expect(codeFitsBatch(parseUnitCode('(01)09506000134352(10)LOT1(21)A'), batch)).toBeUndefined();
    expect(codeFitsBatch(parseUnitCode('(01)04012345000016(21)A'), batch)).toMatchObject({ status: 422, rule: 'code-gtin-mismatch' });
    expect(codeFitsBatch(parseUnitCode('(01)09506000134352(10)LOT2(21)A'), batch)).toMatchObject({ rule: 'code-lot-mismatch' });
    expect(codeFitsBatch(parseUnitCode(cn), batch)).toBeUndefined();
    expect(codeFitsBatch(parseUnitCode(generateDrugTraceCode('7000000', '000000001')), batch)).toMatchObject({ rule: 'code-product-mismatch' });
  });

  it('generates valid codes of either form', () => {
    const random = new Uint8Array(12).map((_, i) => i * 37);
    const c1 = generateUnitCode({ gtin: '09506000134352', productCode: '8123456' }, random);
    expect(parseUnitCode(c1)).toMatchObject({ kind: 'cn', productCode: '8123456' });
    const c2 = generateUnitCode({ gtin: '09506000134352' }, random);
    expect(parseUnitCode(c2)).toMatchObject({ kind: 'gs1', gtin: '09506000134352' });
  });

  it('answers a verification, most serious first', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const active = { status: 'active', expiresAt: new Date('2027-01-01T00:00:00Z') };
    expect(verificationStatus({ status: 'active' }, active, now)).toBe('VERIFIED');
    expect(verificationStatus(undefined, undefined, now)).toBe('UNKNOWN');
    expect(verificationStatus({ status: 'dispensed' }, active, now)).toBe('DISPENSED');
    expect(verificationStatus({ status: 'dispensed' }, { ...active, status: 'recalled' }, now)).toBe('RECALLED');
    expect(verificationStatus({ status: 'active' }, { ...active, expiresAt: new Date('2026-05-01T00:00:00Z') }, now)).toBe('EXPIRED');
    expect(verificationStatus({ status: 'active' }, { ...active, status: 'destroyed' }, now)).toBe('UNKNOWN');
  });

  it('dispenses a code once', () => {
    expect(codeDispensable({ code: cn, status: 'active' })).toBeUndefined();
    expect(codeDispensable({ code: cn, status: 'dispensed' })).toMatchObject({ status: 409, rule: 'code-dispensed' });
  });
});
