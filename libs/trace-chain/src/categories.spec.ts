import { categoriesWithRules, categoryRefusal } from './categories';

describe('product categories', () => {
  const catalogue = [
    { code: 'vegetable', name: { zh: '蔬菜', en: 'Vegetables' } },
    { code: 'grain', name: { zh: '粮食', en: 'Grain' } },
  ];

  it('attaches the rules that apply to each category', () => {
    expect(categoriesWithRules(catalogue, { 'certificate-required': { categories: ['vegetable'] } }, ['always'])).toEqual([
      { code: 'vegetable', name: { zh: '蔬菜', en: 'Vegetables' }, rules: ['always', 'certificate-required'] },
      { code: 'grain', name: { zh: '粮食', en: 'Grain' }, rules: ['always'] },
    ]);
  });

  it('refuses a configured rule for a category the catalogue does not have', () => {
    expect(() => categoriesWithRules(catalogue, { x: { categories: ['vegetables'], setting: 'AGRI_X' } })).toThrow(
      'AGRI_X: vegetables is not a category of this domain (vegetable, grain)',
    );
  });

  it('refuses any other category with a 400 naming the allowed codes', () => {
    const list = categoriesWithRules(catalogue);
    expect(categoryRefusal(list, 'grain')).toBeUndefined();
    expect(categoryRefusal(list, 'vegetables')).toEqual({
      status: 400,
      rule: 'category',
      field: 'category',
      message: 'category must be one of: vegetable, grain',
    });
  });
});
