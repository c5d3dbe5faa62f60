import type { ProductCategory } from './categories';
import type { BatchState, ProposedEvent, Refusal } from './custody';

/** What a domain may check when a batch is registered. */
export interface RegistrationContext {
  gtin: string;
  lot: string;
  productCategory: string;
  attributes: Record<string, unknown>;
  inputs: { domain: string; batchId: string; quantity: number }[];
}

/** What a domain may check before an event is appended to a batch's chain. */
export interface EventContext {
  batch: BatchState & {
    id: string;
    productCategory: string;
    attributes: Record<string, unknown>;
    /** RFC 3339, when the batch has an expiry date. */
    expiresAt?: string | null;
    quantityUnit?: string;
  };
  event: ProposedEvent & {
    locationId: string;
    /** Kind of the destination location when one is named, else of the event's own location. */
    toLocationKind?: string;
    toLocationId?: string;
    /** RFC 3339. */
    eventTime?: string;
    quantity?: { value: number; unit: string };
  };
}

/**
 * A refusal by a domain rule. Like the core's `Refusal`, it names the rule
 * (the problem+json type); a domain may also refuse a malformed value (400)
 * and name the offending field.
 */
export interface RuleRefusal {
  status: 400 | 403 | 409 | 422;
  rule: string;
  message: string;
  /** The request field at fault (becomes `errors: [{ field, message }]`). */
  field?: string;
}

/**
 * The port through which a domain adds its own rules to the shared core
 * (certificates for agri, batch release for vaccines, CCC for goods…). Rules
 * are pure: whatever facts they need are passed in `facts` (the domain
 * service loads them inside the event's transaction, batch row locked).
 */
export interface DomainRules {
  readonly domain: string;
  /** The domain's closed list of product categories (`GET /v1/{domain}/categories`); any other is refused. */
  readonly categories?: readonly ProductCategory[];
  onRegister?(ctx: RegistrationContext): Refusal | RuleRefusal | undefined;
  onEvent?(ctx: EventContext, facts: Record<string, unknown>): Refusal | RuleRefusal | undefined;
}

/** No rules beyond the core's. */
export const noDomainRules = (domain: string): DomainRules => ({ domain });

/**
 * Parses a configurable category list ("a, b,c") into lowercase identifiers;
 * `undefined` or blank gives the defaults. Throws naming a malformed entry.
 */
export function parseCategoryList(value: string | undefined, defaults: readonly string[], name = 'category list'): string[] {
  if (value === undefined || value.trim() === '') return [...defaults];
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const c of list) {
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(c)) throw new Error(`${name}: "${c}" is not a lowercase category identifier`);
  }
  return list;
}
