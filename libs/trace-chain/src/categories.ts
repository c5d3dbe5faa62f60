import type { RuleRefusal } from './domain-rules';

/**
 * A product category of a domain's closed list. `rules` names the rules that
 * apply to products of the category (the problem types they refuse with), so
 * a client can tell before registering what a category will require.
 */
export interface ProductCategory {
  code: string;
  name: { zh: string; en: string };
  rules: string[];
}

/** A catalogue entry before the configured rules are attached. */
export type CategoryEntry = Omit<ProductCategory, 'rules'>;

/**
 * Attaches to each category the rules that apply to it: `always` to all,
 * and each rule of `when` to the categories it lists. Throws naming any
 * listed category the catalogue does not have (a configuration error: a rule
 * for a category no product can have would never apply).
 */
export function categoriesWithRules(
  catalogue: readonly CategoryEntry[],
  when: Record<string, { categories: readonly string[]; setting?: string }> = {},
  always: readonly string[] = [],
): ProductCategory[] {
  const codes = new Set(catalogue.map((c) => c.code));
  for (const [rule, { categories, setting }] of Object.entries(when)) {
    const unknown = categories.filter((c) => !codes.has(c));
    if (unknown.length) {
      throw new Error(`${setting ?? rule}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a category' : 'are not categories'} of this domain (${[...codes].join(', ')})`);
    }
  }
  return catalogue.map((c) => ({
    ...c,
    rules: [...always, ...Object.entries(when).filter(([, w]) => w.categories.includes(c.code)).map(([rule]) => rule)],
  }));
}

/** A category outside the domain's closed list is a 400 naming the allowed codes. */
export function categoryRefusal(categories: readonly ProductCategory[], code: string): RuleRefusal | undefined {
  if (categories.some((c) => c.code === code)) return undefined;
  const allowed = categories.map((c) => c.code).join(', ');
  return { status: 400, rule: 'category', field: 'category', message: `category must be one of: ${allowed}` };
}
