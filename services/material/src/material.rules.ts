import type { DomainRules, EventContext, RuleRefusal } from '@trace/trace-chain';

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

export const materialRules = (): DomainRules => ({
  domain: 'material',
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
