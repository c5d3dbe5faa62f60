import type { RegistrationContext } from '@trace/trace-chain';
import { cccFormatProblem, goodsRules, goodsRulesFromEnv } from './goods.rules';

const reg = (productCategory: string, attributes: Record<string, unknown> = {}): RegistrationContext => ({
  gtin: '09506000134352',
  lot: 'L1',
  productCategory,
  attributes,
  inputs: [],
});

describe('goods rules: CCC', () => {
  const rules = goodsRules();

  it('requires a CCC number for the listed categories', () => {
    expect(rules.onRegister!(reg('toy'))).toMatchObject({ status: 422, rule: 'ccc-required', field: 'attributes.cccCertificate' });
    expect(rules.onRegister!(reg('household_appliance', { cccCertificate: '' }))).toMatchObject({ rule: 'ccc-required' });
  });

  it('accepts a well-formed CCC number, and none for other categories', () => {
    expect(rules.onRegister!(reg('toy', { cccCertificate: '2021010703412345' }))).toBeUndefined();
    expect(rules.onRegister!(reg('clothing'))).toBeUndefined();
  });

  it('refuses a malformed CCC number, even where not required', () => {
    expect(rules.onRegister!(reg('toy', { cccCertificate: 'CCC-123' }))).toMatchObject({ status: 400, rule: 'ccc-format' });
    expect(rules.onRegister!(reg('clothing', { cccCertificate: 12 }))).toMatchObject({ rule: 'ccc-format' });
  });

  it('checks the format: 16 digits led by a year of issue', () => {
    expect(cccFormatProblem('2021 0107 0341 2345')).toBeUndefined();
    expect(cccFormatProblem('1999010703412345')).toMatch(/year/);
    expect(cccFormatProblem('202101070341234')).toMatch(/16 digits/);
  });

  it('takes the category list from configuration', () => {
    const r = goodsRulesFromEnv({ GOODS_CCC_CATEGORIES: 'helmet' });
    expect(r.onRegister!(reg('helmet'))).toMatchObject({ rule: 'ccc-required' });
    expect(r.onRegister!(reg('toy'))).toBeUndefined();
  });
});
