import type { BizStep, Disposition } from './cbv';

/** The part of a batch the custody rules look at. */
export interface BatchState {
  status: BatchStatus;
  holderOrgId: string;
  /** Set while a shipment is on its way: only this organisation may receive it. */
  pendingReceiverOrgId: string | null;
  quantity: number;
}

export const BATCH_STATUSES = ['active', 'held', 'recalled', 'destroyed', 'dispensed'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export interface ProposedEvent {
  bizStep: BizStep;
  disposition?: Disposition;
  actorOrgId: string;
  toOrgId?: string;
  /** Quantity this event takes out of the batch (consumption, destruction of part). */
  consumes?: number;
}

/** A refusal names the rule, so clients (and problem+json types) can tell them apart. */
export interface Refusal {
  status: 403 | 409 | 422;
  rule: string;
  message: string;
}

/** What the event changes on the batch. */
export interface Transition {
  status: BatchStatus;
  holderOrgId: string;
  pendingReceiverOrgId: string | null;
  quantity: number;
}

const TERMINAL: BatchStatus[] = ['destroyed', 'dispensed'];
/** Statuses in which goods must not move on. */
const BLOCKED_FOR_MOVEMENT: BatchStatus[] = ['held', 'recalled', ...TERMINAL];
const MOVEMENT: BizStep[] = ['shipping', 'transforming', 'retail_selling', 'dispensing', 'loading', 'departing', 'transporting'];

/**
 * Held, recalled or finished goods do not move on: the refusal for a movement
 * (shipping, selling, dispensing, transforming, …) of a batch in that state,
 * whoever records it and however (an API call or a captured EPCIS event).
 */
export function movementRefusal(status: BatchStatus, bizStep: string): Refusal | undefined {
  if (!(MOVEMENT as string[]).includes(bizStep) || !BLOCKED_FOR_MOVEMENT.includes(status)) return undefined;
  return { status: 409, rule: `batch-${status}`, message: `The batch is ${status} and cannot be moved (${bizStep})` };
}

/**
 * The status an event moves its batch to, or undefined when it keeps the
 * current one: the batch status is a projection of its chain, and some steps
 * and dispositions change it. The one projection for the domain services and
 * lineage (which falls back to it for events that do not say their status).
 */
export function statusChange(e: { bizStep: string; disposition?: string | null }): BatchStatus | undefined {
  if (e.bizStep === 'destroying' || e.disposition === 'destroyed') return 'destroyed';
  if (e.disposition === 'recalled') return 'recalled';
  if (e.disposition === 'dispensed') return 'dispensed';
  return undefined;
}

/** The batch's status after an event: what the event changes it to, else the current one. */
export function statusAfter(current: BatchStatus, e: Pick<ProposedEvent, 'bizStep' | 'disposition'>): BatchStatus {
  return statusChange(e) ?? current;
}

export const isRefusal = (r: Refusal | Transition): r is Refusal => 'rule' in r;

/** A supervision-sampling result as the status rules see it. */
export interface InspectionOutcome {
  conclusion: 'pass' | 'fail';
  /**
   * A passing re-test within its window after which the batch has no
   * unresolved failed result left: it lifts the hold.
   */
  clearsHold: boolean;
}

/**
 * The status change an inspection result makes. Inspectors are not holders:
 * an inspection moves nothing, so custody (holder, shipment in transit,
 * quantity) stays as it is and "only the holder writes" does not apply. A
 * finished chain (destroyed, dispensed) takes no more results. A fail puts an
 * active batch on hold (a recalled batch stays recalled, which blocks more);
 * only a clearing re-test lifts a hold, and only a hold.
 */
export function applyInspection(batch: BatchState, r: InspectionOutcome): Refusal | Transition {
  if (TERMINAL.includes(batch.status)) {
    return { status: 409, rule: `batch-${batch.status}`, message: `The batch is ${batch.status}: its chain is closed` };
  }
  let status = batch.status;
  if (r.conclusion === 'fail' && status === 'active') status = 'held';
  if (r.conclusion === 'pass' && r.clearsHold && status === 'held') status = 'active';
  return { status, holderOrgId: batch.holderOrgId, pendingReceiverOrgId: batch.pendingReceiverOrgId, quantity: batch.quantity };
}
