import { categoriesWithRules, type CategoryEntry, type DomainRules } from '@trace/trace-chain';

/**
 * Food rules: a food batch is processed from agricultural or food inputs
 * (DOMAIN.md §2); a drug, building-material or consumer-goods lot is no
 * ingredient. The quantity rules of transformations (an input gives no more
 * than it holds) are the core's.
 */
export const FOOD_INPUT_DOMAINS = ['agri', 'food'] as const;

/** The closed list of food categories. */
export const FOOD_CATEGORIES: readonly CategoryEntry[] = [
  { code: 'flour', name: { zh: '小麦粉', en: 'Flour' } },
  { code: 'rice', name: { zh: '大米', en: 'Rice' } },
  { code: 'noodles', name: { zh: '面条', en: 'Noodles' } },
  { code: 'bread', name: { zh: '面包', en: 'Bread' } },
  { code: 'sauce', name: { zh: '调味品', en: 'Sauces and condiments' } },
  { code: 'edible_oil', name: { zh: '食用油', en: 'Edible oils' } },
  { code: 'dairy', name: { zh: '乳制品', en: 'Dairy products' } },
  { code: 'infant_formula', name: { zh: '婴幼儿配方食品', en: 'Infant formula' } },
  { code: 'meat_product', name: { zh: '肉制品', en: 'Meat products' } },
  { code: 'beverage', name: { zh: '饮料', en: 'Beverages' } },
  { code: 'confectionery', name: { zh: '糖果制品', en: 'Confectionery' } },
  { code: 'frozen_food', name: { zh: '速冻食品', en: 'Frozen food' } },
  { code: 'canned_food', name: { zh: '罐头', en: 'Canned food' } },
  { code: 'snack', name: { zh: '休闲食品', en: 'Snacks' } },
];

export const foodRules = (): DomainRules => ({
  domain: 'food',
  categories: categoriesWithRules(FOOD_CATEGORIES, {}, ['food-input-domain']),
  onRegister(ctx) {
    const foreign = ctx.inputs.find((i) => !(FOOD_INPUT_DOMAINS as readonly string[]).includes(i.domain));
    if (!foreign) return undefined;
    return {
      status: 422,
      rule: 'food-input-domain',
      field: 'inputs',
      message: `A food batch is made from agri or food batches; input ${foreign.domain}/${foreign.batchId} is not an ingredient`,
    };
  },
});
