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
  batch: BatchState & { id: string; productCategory: string; attributes: Record<string, unknown> };
  event: ProposedEvent & { locationId: string; toLocationKind?: string };
}

/**
 * The port through which a domain adds its own rules to the shared core
 * (certificates for agri, batch release for vaccines, CCC for goods…). Rules
 * are pure: whatever facts they need are passed in `facts`.
 */
export interface DomainRules {
  readonly domain: string;
  onRegister?(ctx: RegistrationContext): Refusal | undefined;
  onEvent?(ctx: EventContext, facts: Record<string, unknown>): Refusal | undefined;
}

/** No rules beyond the core's. */
export const noDomainRules = (domain: string): DomainRules => ({ domain });
