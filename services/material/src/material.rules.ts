import { categoriesWithRules, type CategoryEntry, type DomainRules, type EventContext, type RuleRefusal } from '@trace/trace-chain';

/**
 * Building-material rules: every batch states the product standard it is
 * made to (e.g. "GB 175-2023" for cement, "GB/T 5023.3-2008" for cables) and
 * its grade (e.g. "P·O 42.5", "450/750V"); delivery to a construction site
 * is where the material ends up installed, which a defective-material
 * response needs to know.
 */
export const REQUIRED_ATTRIBUTES = ['standard', 'grade'] as const;

function attributeRefusal(attributes: Record<string, unknown>, name: (typeof REQUIRED_ATTRIBUTES)[number]): RuleRefusal | undefined {
  const v = attributes[name];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    return {
      status: 422,
      rule: `${name}-required`,
      field: `attributes.${name}`,
      message: `A building-material batch must state its ${name === 'standard' ? 'product standard (attributes.standard, e.g. "GB 175-2023")' : 'grade (attributes.grade, e.g. "P·O 42.5")'}`,
    };
  }
  if (typeof v !== 'string' || v.length > 100) {
    return { status: 400, rule: `${name}-format`, field: `attributes.${name}`, message: `attributes.${name} must be a text of 1-100 characters` };
  }
  return undefined;
}

/** The closed list of building-material categories. */
export const MATERIAL_CATEGORIES: readonly CategoryEntry[] = [
  { code: 'cement', name: { zh: '水泥', en: 'Cement' } },
  { code: 'concrete', name: { zh: '预拌混凝土', en: 'Ready-mixed concrete' } },
  { code: 'steel', name: { zh: '建筑钢材', en: 'Construction steel' } },
  { code: 'wire_cable', name: { zh: '电线电缆', en: 'Wires and cables' } },
  { code: 'insulation', name: { zh: '外墙保温材料', en: 'External-wall insulation' } },
  { code: 'waterproofing', name: { zh: '防水材料', en: 'Waterproofing materials' } },
  { code: 'glass', name: { zh: '建筑玻璃', en: 'Architectural glass' } },
  { code: 'pipe', name: { zh: '管材管件', en: 'Pipes and fittings' } },
  { code: 'brick', name: { zh: '墙体砖块', en: 'Bricks and blocks' } },
  { code: 'coating', name: { zh: '建筑涂料', en: 'Coatings' } },
];

export const materialRules = (): DomainRules => ({
  domain: 'material',
  categories: categoriesWithRules(MATERIAL_CATEGORIES, {}, ['standard-required', 'grade-required']),
  onRegister(ctx) {
    for (const name of REQUIRED_ATTRIBUTES) {
      const r = attributeRefusal(ctx.attributes, name);
      if (r) return r;
    }
    return undefined;
  },
});

/** An installation is recorded when a batch is shipped to a construction-site location. */
export function installationOf(ctx: EventContext, batchQuantity: number): { siteLocationId: string; quantity: number } | undefined {
  if (ctx.event.bizStep !== 'shipping' || !ctx.event.toLocationId || ctx.event.toLocationKind !== 'construction_site') return undefined;
  return { siteLocationId: ctx.event.toLocationId, quantity: ctx.event.quantity?.value ?? batchQuantity };
}
