import { foodRules } from './food.rules';

const reg = (inputs: { domain: string; batchId: string; quantity: number }[]) => ({
  gtin: '04012345000016',
  lot: 'L1',
  productCategory: 'sauce',
  attributes: {},
  inputs,
});

describe('food rules', () => {
  const rules = foodRules();

  it('makes food from agri and food inputs (or none)', () => {
    expect(rules.onRegister!(reg([]))).toBeUndefined();
    expect(rules.onRegister!(reg([{ domain: 'agri', batchId: 'a', quantity: 1 }, { domain: 'food', batchId: 'f', quantity: 1 }]))).toBeUndefined();
  });

  it('refuses a drug, material or goods lot as an ingredient', () => {
    for (const domain of ['drug', 'material', 'goods']) {
      expect(rules.onRegister!(reg([{ domain, batchId: 'x', quantity: 1 }]))).toMatchObject({ status: 422, rule: 'food-input-domain' });
    }
  });
});
