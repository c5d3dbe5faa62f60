import { parseCategoryList, type DomainRules, type RuleRefusal } from '@trace/trace-chain';

/**
 * Consumer-goods rules: products under China Compulsory Certification (CCC)
 * carry the certificate number on every batch. The category list is
 * configuration (`GOODS_CCC_CATEGORIES`, comma-separated).
 */
export const DEFAULT_CCC_CATEGORIES = ['household_appliance', 'electrical', 'toy', 'vehicle_part'] as const;

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
