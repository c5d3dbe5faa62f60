/**
 * What a recall asks the lineage service: the batches named plus every batch
 * downstream of them (what was made from them, at any depth, across domains),
 * each with who holds it now. In embedded mode the lineage module provides it
 * in-process (from its in-memory graph); in distributed mode an HTTP client of
 * lineage's internal endpoint `POST /internal/v1/lineage/scope` (LINEAGE_URL)
 * does (holdings: `POST /internal/v1/lineage/holdings`, the batch ids in the
 * body). The graph follows the event backbone, so the answer is eventually
 * consistent: a batch made a moment ago may be missing for a second.
 */
export interface LineageScopeRoot {
  domain: string;
  batchId: string;
}

export interface LineageScopeBatch {
  domain: string;
  batchId: string;
  gtin: string | null;
  lot: string | null;
  holderOrgId: string | null;
  status: string;
  /** True for the batches the caller named. */
  root: boolean;
  /** What the batch holds now (after what transformations consumed from it); null when lineage has not seen it. */
  quantity: { value: number; unit: string } | null;
  /** Where it is: where it was made, or last received. */
  locationId: string | null;
}

/**
 * The scope column by column: entry i of every array is batch i; the first
 * `roots` batches are the named ones, in the order named. Columns, not one
 * object per batch, because a scope runs to tens of thousands of batches and
 * the recall writes it with set-based statements (one array per column)
 * anyway: lineage allocates a handful of arrays instead of an object graph
 * per batch, which is what keeps the answer within milliseconds
 * (scripts/bench/recall-scope.ts).
 */
export interface LineageScopeColumns {
  roots: number;
  batchId: string[];
  domain: string[];
  gtin: (string | null)[];
  lot: (string | null)[];
  status: string[];
  holderOrgId: (string | null)[];
  quantityValue: (number | null)[];
  quantityUnit: (string | null)[];
  locationId: (string | null)[];
}

export interface LineageScopeAnswer {
  batches: LineageScopeColumns;
}

/** Batch i of a scope as one object (for the few places that want rows). */
export function scopeBatch(c: LineageScopeColumns, i: number): LineageScopeBatch {
  const value = c.quantityValue[i];
  return {
    domain: c.domain[i],
    batchId: c.batchId[i],
    gtin: c.gtin[i],
    lot: c.lot[i],
    holderOrgId: c.holderOrgId[i],
    status: c.status[i],
    root: i < c.roots,
    quantity: value === null || value === undefined ? null : { value, unit: c.quantityUnit[i] ?? '' },
    locationId: c.locationId[i],
  };
}

/** Every batch of a scope as objects, in scope order. */
export const scopeBatches = (c: LineageScopeColumns): LineageScopeBatch[] => c.batchId.map((_, i) => scopeBatch(c, i));

const SCOPE_COLUMNS = ['batchId', 'domain', 'gtin', 'lot', 'status', 'holderOrgId', 'quantityValue', 'quantityUnit', 'locationId'] as const;

/** True when `c` is a well-formed scope: every column an array of the same length. */
export function isScopeColumns(c: unknown): c is LineageScopeColumns {
  if (!c || typeof c !== 'object') return false;
  const o = c as Record<string, unknown>;
  const n = Array.isArray(o.batchId) ? o.batchId.length : -1;
  return Number.isInteger(o.roots) && (o.roots as number) <= n && SCOPE_COLUMNS.every((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length === n);
}

export interface LineageScope {
  /**
   * The roots and everything downstream, each batch once, roots first. A root
   * lineage does not know (or knows in another domain) is a 422 DomainError
   * `unknown-batch` naming it.
   */
  scope(roots: LineageScopeRoot[]): Promise<LineageScopeAnswer>;
  /**
   * How many batches of known domains that scope holds now (what a recall's
   * scope would store), without the scope itself: cheap enough to ask for
   * every active recall every few seconds. Same 422 as `scope`.
   */
  size(roots: LineageScopeRoot[]): Promise<number>;
  /**
   * Who holds how much of each named batch (API.md "Quantities and custody"):
   * one row per batch and organisation, nothing-held rows included (they
   * carry what the organisation was given so far); a batch lineage has no
   * holdings for has no rows. Any number of ids: a recall passes the whole
   * scope it has just been given (`scope(…).batches.batchId`), so lineage
   * does not compute it a second time.
   */
  holdings(batchIds: string[]): Promise<LineageHolding[]>;
}

/** One organisation's part of one batch, as lineage last heard of it. */
export interface LineageHolding {
  batchId: string;
  orgId: string;
  /** Received and still held. */
  quantity: number;
  /** Shipped to it, not received yet. */
  inTransit: number;
  /** Everything it was ever given (produced for it, shipped to it). */
  received: number;
  unit: string | null;
}

export const LINEAGE_SCOPE = Symbol('LINEAGE_SCOPE');
