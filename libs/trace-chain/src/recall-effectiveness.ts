/** A batch in a recall's scope, with what lineage said it held (null when it did not know). */
export interface ScopeBatchQuantity {
  batchId: string;
  quantity: number | null;
  unit: string | null;
}

/** One organisation's part of a batch when the recall started (or when the batch joined it). */
export interface ScopeHolding {
  batchId: string;
  quantity: number;
  inTransit: number;
  unit: string | null;
}

/** One organisation's account of one batch. */
export interface RecallAcknowledgement {
  batchId: string;
  recovered: number;
  destroyed: number;
  sold: number;
}

export interface EffectivenessBasis {
  unit: string | null;
  accountedFor: number;
  distributed: number;
}

/**
 * Effectiveness of a recall, 0..1: what is accounted for over what was held
 * in the supply chain when the recall started (API.md "Recalls").
 *
 * - held, per batch in scope: what every organisation held of it and had in
 *   transit to it at the start (its holdings; a batch without holdings: what
 *   it held as a whole, else what its holders acknowledged as recovered +
 *   destroyed + sold). What went into a downstream batch is held there, so it
 *   counts once;
 * - accounted for, per batch: recovered + destroyed as its holders
 *   acknowledged, at most what was held of it (a holder over-reporting one
 *   batch does not hide another batch nobody answered for).
 *
 * Quantities add up only within a unit: the basis is per unit, and the
 * effectiveness is the mean over units of accounted / held (with one unit,
 * simply the ratio of the totals). 0 while nothing is known to be held.
 */
export function recallEffectiveness(
  scope: readonly ScopeBatchQuantity[],
  acks: readonly RecallAcknowledgement[],
  holdings: readonly ScopeHolding[] = [],
): { effectiveness: number; basis: EffectivenessBasis[] } {
  const acksOf = new Map<string, RecallAcknowledgement[]>();
  for (const a of acks) acksOf.set(a.batchId, [...(acksOf.get(a.batchId) ?? []), a]);
  const heldOf = new Map<string, { total: number; unit: string | null }>();
  for (const h of holdings) {
    const at = heldOf.get(h.batchId) ?? { total: 0, unit: h.unit };
    at.total += h.quantity + h.inTransit;
    heldOf.set(h.batchId, at);
  }
  const byUnit = new Map<string | null, EffectivenessBasis>();
  for (const b of scope) {
    const mine = acksOf.get(b.batchId) ?? [];
    const recovered = mine.reduce((sum, a) => sum + a.recovered + a.destroyed, 0);
    const sold = mine.reduce((sum, a) => sum + a.sold, 0);
    const held = heldOf.get(b.batchId);
    const known = held !== undefined || b.quantity !== null;
    const out = held ? held.total : b.quantity !== null ? b.quantity : recovered + sold;
    if (!(out > 0)) continue;
    const unit = known ? (held?.unit ?? b.unit) : null;
    const basis = byUnit.get(unit) ?? { unit, accountedFor: 0, distributed: 0 };
    basis.accountedFor += Math.min(recovered, out);
    basis.distributed += out;
    byUnit.set(unit, basis);
  }
  const basis = [...byUnit.values()];
  const ratio = basis.length === 0 ? 0 : basis.reduce((sum, u) => sum + u.accountedFor / u.distributed, 0) / basis.length;
  return { effectiveness: Math.round(Math.min(1, ratio) * 10_000) / 10_000, basis };
}
