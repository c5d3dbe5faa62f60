import { categoriesWithRules, parseCategoryList, type CategoryEntry, type DomainRules, type RuleRefusal } from '@trace/trace-chain';

/**
 * Consumer-goods rules: products under China Compulsory Certification (CCC)
 * carry the certificate number on every batch. The category list is
 * configuration (`GOODS_CCC_CATEGORIES`, comma-separated).
 */
export const DEFAULT_CCC_CATEGORIES = ['household_appliance', 'electrical', 'toy', 'vehicle_part'] as const;

/** The closed list of consumer-goods categories. */
export const GOODS_CATEGORIES: readonly CategoryEntry[] = [
  { code: 'household_appliance', name: { zh: '家用电器', en: 'Household appliances' } },
  { code: 'electrical', name: { zh: '电气产品', en: 'Electrical products' } },
  { code: 'toy', name: { zh: '玩具', en: 'Toys' } },
  { code: 'vehicle_part', name: { zh: '汽车零部件', en: 'Vehicle parts' } },
  { code: 'helmet', name: { zh: '头盔', en: 'Helmets' } },
  { code: 'child_safety_seat', name: { zh: '儿童安全座椅', en: 'Child safety seats' } },
  { code: 'clothing', name: { zh: '服装', en: 'Clothing' } },
  { code: 'footwear', name: { zh: '鞋类', en: 'Footwear' } },
  { code: 'textile', name: { zh: '纺织品', en: 'Textiles' } },
  { code: 'furniture', name: { zh: '家具', en: 'Furniture' } },
  { code: 'kitchenware', name: { zh: '厨具', en: 'Kitchenware' } },
  { code: 'stationery', name: { zh: '文具', en: 'Stationery' } },
  { code: 'cosmetics', name: { zh: '化妆品', en: 'Cosmetics' } },
];

/**
 * A CCC certificate number (and a CCC self-declaration number) is 16 digits,
 * starting with the four-digit year of issue; CCC exists since 2002, e.g.
 * `2021010703412345`. Spaces or dashes a printed number may carry are ignored.
 */
export function cccFormatProblem(value: unknown, now = new Date()): string | undefined {
  if (typeof value !== 'string') return 'attributes.cccCertificate must be a string of 16 digits';
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{16}$/.test(digits)) return `CCC certificate number "${value}" is not 16 digits`;
  const year = Number(digits.slice(0, 4));
  if (year < 2002 || year > now.getUTCFullYear() + 1) return `CCC certificate number "${value}" does not start with a year of issue (2002 or later)`;
  return undefined;
}

export interface GoodsRulesOptions {
  cccCategories?: readonly string[];
}

export function goodsRules(options: GoodsRulesOptions = {}): DomainRules & { cccCategories: readonly string[] } {
  const categories = options.cccCategories ?? DEFAULT_CCC_CATEGORIES;
  return {
    domain: 'goods',
    // A CCC number given where none is required must still be well-formed (ccc-format): every category.
    categories: categoriesWithRules(GOODS_CATEGORIES, { 'ccc-required': { categories, setting: 'GOODS_CCC_CATEGORIES' } }, ['ccc-format']),
    cccCategories: categories,
    onRegister(ctx): RuleRefusal | undefined {
      const value = ctx.attributes.cccCertificate;
      const required = categories.includes(ctx.productCategory);
      if (value === undefined || value === null || value === '') {
        if (!required) return undefined;
        return {
          status: 422,
          rule: 'ccc-required',
          field: 'attributes.cccCertificate',
          message: `Products of category ${ctx.productCategory} need China Compulsory Certification: attributes.cccCertificate is required`,
        };
      }
      // Given although not required: it must still be a real number, or a consumer would be misled.
      const problem = cccFormatProblem(value);
      if (problem) return { status: 400, rule: 'ccc-format', field: 'attributes.cccCertificate', message: problem };
      return undefined;
    },
  };
}

export const goodsRulesFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  goodsRules({ cccCategories: parseCategoryList(env.GOODS_CCC_CATEGORIES, DEFAULT_CCC_CATEGORIES, 'GOODS_CCC_CATEGORIES') });
