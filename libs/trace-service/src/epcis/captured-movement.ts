import { batchKey, uneceUnit } from '@trace/epcis';
import { DomainError } from '@trace/platform';
import { applyMovement, holdingsAfter, massBalanceRefusal, TAKING_STEPS, type BatchStatus, type Holding, type MovementResult } from '@trace/trace-chain';
import type { BatchRow } from '../rows';
import { decideMovement, type MovementFacts, type PlannedMovement } from '../use-cases/plan-movement';
import type { PlannedChainEvent, PlannedTarget } from './contract';

const nameOf = (batch: BatchRow) => batchKey(batch.gtin, batch.lot, batch.item_kind === 'serial');
/** A captured quantity names its unit by its UN/ECE code (KGM), one registered over REST as written (kg). */
const sameUnit = (a: string, b: string) => (uneceUnit(a) ?? a) === (uneceUnit(b) ?? b);

/** Steps that take from the capturer's holding, as over REST (a transformation's inputs are taken as inputs). */
const TAKING: readonly string[] = TAKING_STEPS.filter((s) => s !== 'transforming');

/**
 * The movement a captured event makes of a batch that existed before it, as
 * recordEvent makes it (decideMovement): a shipping naming an organisation of
 * ours as its receiver (`receiver`, from its destinationList) sends the
 * quantity into transit to it, a void_shipping naming it gives the capturer's
 * shipment back; a receiving by an organisation something is in transit to
 * takes it (less records a shortage); destroying, dispensing and selling take
 * from the capturer's holding. Refusals are the API's (insufficient-quantity,
 * not-the-holder…). Anything else captured — a partner's shipping to no
 * organisation of ours, a receiving with nothing on its way — moves nothing;
 * neither do carried links (history of another system) and error declarations.
 */
export function capturedMovement(
  ev: PlannedChainEvent,
  t: PlannedTarget,
  batch: BatchRow,
  facts: MovementFacts,
  actorOrgId: string,
  receiver: string | DomainError | undefined,
): PlannedMovement | undefined {
  if (ev.error || t.carried || t.role === 'input' || t.role === 'output') return undefined;
  let toOrgId: string | undefined;
  if (ev.bizStep === 'shipping' || ev.bizStep === 'void_shipping') {
    if (receiver instanceof DomainError) throw receiver;
    if (!receiver) return undefined;
    toOrgId = receiver;
  } else if (ev.bizStep === 'receiving') {
    if (!facts.holdings.some((h) => h.orgId === actorOrgId && h.inTransit > 0)) return undefined;
  } else if (!TAKING.includes(ev.bizStep)) return undefined;
  if (t.quantity && !sameUnit(t.quantity.unit, batch.quantity_unit)) {
    throw new DomainError(422, 'unit-mismatch', `${nameOf(batch)} is counted in ${batch.quantity_unit}, not ${t.quantity.unit}`);
  }
  const planned = decideMovement(batch, facts, { bizStep: ev.bizStep, disposition: ev.disposition, actorOrgId, toOrgId, quantity: t.quantity?.value });
  if ('rule' in planned) throw new DomainError(planned.status, planned.rule, `${nameOf(batch)}: ${planned.message}`);
  return planned;
}

/**
 * A transformation input taken from the capturer's holding, as consumeInput takes it over REST: the
 * holdings rule (only a holder, at most what it holds: 409 insufficient-quantity) and the mass balance.
 */
export function capturedConsumption(t: PlannedTarget, batch: BatchRow, holdings: readonly Holding[], gone: number, actorOrgId: string): MovementResult {
  const name = nameOf(batch);
  if (t.quantity && !sameUnit(t.quantity.unit, batch.quantity_unit)) {
    throw new DomainError(422, 'unit-mismatch', `Input ${name} is counted in ${batch.quantity_unit}, not ${t.quantity.unit}`);
  }
  const r = applyMovement(batch.status as BatchStatus, holdings, { bizStep: 'transforming', actorOrgId, quantity: t.quantity?.value });
  if ('rule' in r) throw new DomainError(r.status, r.rule, `Input ${name}: ${r.message}`);
  const unbalanced = massBalanceRefusal(Number(batch.quantity_initial ?? batch.quantity_value), holdingsAfter(holdings, r.changed), gone + r.taken);
  if (unbalanced) throw new DomainError(unbalanced.status, unbalanced.rule, `Input ${name}: ${unbalanced.message}`);
  return r;
}
