/**
 * One identity across all domains (API.md "Identity").
 *
 * A GTIN belongs to one organisation, and a lot or a serial of a GTIN to one
 * domain, whichever of the five domain services registered it. No domain can
 * see the others' tables (distributed mode: other processes, maybe other
 * databases), so the claims live in one table with one writer: the identity
 * part of the gateway, which already owns organisations and locations. A
 * domain claims synchronously before it writes a product or creates a batch
 * (in-process when embedded, over the gateway's internal endpoints when
 * distributed); the scan resolves a Digital Link through the same table.
 *
 * Why not lineage, which also maps GTIN + lot: lineage is a read model fed by
 * events after the fact, so two domains could both commit the same lot before
 * it heard of either. A claim must be answered before the write.
 */

/** A lot (AI 10) and a serial (AI 21) of the same GTIN are different identities, even with the same text. */
export const ITEM_KINDS = ['lot', 'serial'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export interface GtinClaim {
  gtin: string;
  orgId: string;
  /** The domain registering the product (the first one is kept, for the record). */
  domain: string;
}

export interface ItemClaim {
  gtin: string;
  kind: ItemKind;
  /** The lot or the serial number. */
  value: string;
  domain: string;
  orgId: string;
}

/** The answer to a claim: granted, or who holds it (never another organisation's ids beyond what the refusal needs). */
export interface ClaimAnswer {
  granted: boolean;
  /** Where the identity lives: the caller's domain when granted, else the holder's. */
  domain: string;
}

/** Where a trade item (a lot or a serial of a GTIN) lives. */
export interface ItemLocation {
  domain: string;
}

/**
 * What the identity service answers. Claims are idempotent: the same
 * organisation claiming its GTIN again (in any domain), or the same domain
 * claiming an item again (a retried registration), is granted.
 */
export interface IdentityClaims {
  claimGtin(claim: GtinClaim): Promise<ClaimAnswer>;
  /** One answer per claim, in order (EPCIS capture creates many batches at once). */
  claimItems(claims: readonly ItemClaim[]): Promise<ClaimAnswer[]>;
  /** Where a lot or serial lives; undefined when no domain registered it. */
  locate(gtin: string, kind: ItemKind, value: string): Promise<ItemLocation | undefined>;
  /** locate for many items at once, one answer per item in order (a capture checks a thousand lots before it claims them). */
  locateMany(items: readonly ItemRef[]): Promise<(ItemLocation | undefined)[]>;
}

/** A lot or a serial of a GTIN, as locateMany asks for it. */
export interface ItemRef {
  gtin: string;
  kind: ItemKind;
  value: string;
}

/** Injection token of the IdentityClaims implementation (the gateway's table, or an HTTP client of it). */
export const IDENTITY_CLAIMS = Symbol.for('trace.IdentityClaims');

/** The gateway's internal endpoints behind IdentityClaims in distributed mode. */
export const IDENTITY_CLAIM_PATHS = {
  gtin: '/internal/v1/identity/gtin-claims',
  items: '/internal/v1/identity/item-claims',
  locate: '/internal/v1/identity/items',
  locateMany: '/internal/v1/identity/item-locations',
} as const;
