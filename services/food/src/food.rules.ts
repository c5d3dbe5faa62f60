import type { DomainRules } from '@trace/trace-chain';

/**
 * Food rules: a food batch is processed from agricultural or food inputs
 * (DOMAIN.md §2); a drug, building-material or consumer-goods lot is no
 * ingredient. The quantity rules of transformations (an input gives no more
 * than it holds) are the core's.
 */
export const FOOD_INPUT_DOMAINS = ['agri', 'food'] as const;

export const foodRules = (): DomainRules => ({
  domain: 'food',
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
