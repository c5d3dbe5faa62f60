import type { EntityManager } from 'typeorm';
import {
  applyMovement,
  holdingsAfter,
  massBalanceRefusal,
  TAKING_STEPS,
  upstreamOf,
  type BatchStatus,
  type Holding,
  type MovementResult,
  type Refusal,
  type Transition,
} from '@trace/trace-chain';
import { HoldingsStore, type HoldingsWithGone } from '../store';
import type { BatchRow } from '../rows';

/** Steps whose quantity moves or takes goods; on any other step a quantity is only recorded. */
export const MOVING_STEPS: readonly string[] = ['shipping', 'receiving', ...TAKING_STEPS];

/** The custody state a batch is left in by a movement, with the holdings it announces. */
export type HoldingsTransition = Transition & { holdings?: Holding[] };

/** A movement of one batch by one organisation, as the API or a captured event names it. */
export interface ProposedMovement {
  bizStep: string;
  disposition?: string | null;
  actorOrgId: string;
  toOrgId?: string;
  quantity?: number;
}

/** What a batch's movement is decided on: its holdings, its shipments and what already left its supply chain. */
export interface MovementFacts {
  holdings: readonly Holding[];
  shipments: readonly { fromOrgId: string; toOrgId: string; outstanding: number }[];
  /** Taken out of the supply chain or lost on the way so far. */
  gone: number;
}

export type PlannedMovement = { result: MovementResult; after: HoldingsTransition };

/**
 * Decides a movement of a locked batch by the holdings rule (applyMovement)
 * and checks mass balance: the REST events and the captured ones decide by
 * this same function, on facts read under the batch row lock.
 */
export function decideMovement(batch: BatchRow, facts: MovementFacts, e: ProposedMovement): PlannedMovement | Refusal {
  const { holdings, shipments } = facts;
  const cameFrom = upstreamOf(e.actorOrgId, shipments);
  // Batches from before shipments were recorded: the producer is where everything came from.
  if (e.actorOrgId !== batch.owner_org_id && !cameFrom.includes(batch.owner_org_id)) cameFrom.push(batch.owner_org_id);
  const voidable = shipments.filter((s) => s.fromOrgId === e.actorOrgId && s.toOrgId === e.toOrgId).reduce((sum, s) => sum + s.outstanding, 0);
  const result = applyMovement(batch.status as BatchStatus, holdings, {
    bizStep: e.bizStep as never,
    disposition: (e.disposition ?? undefined) as never,
    actorOrgId: e.actorOrgId,
    toOrgId: e.toOrgId,
    quantity: MOVING_STEPS.includes(e.bizStep) ? e.quantity : undefined,
    cameFrom,
    voidable,
  });
  if ('rule' in result) return result;
  const all = holdingsAfter(holdings, result.changed);
  const unbalanced = massBalanceRefusal(Number(batch.quantity_initial ?? batch.quantity_value), all, facts.gone + result.taken + result.shortage);
  if (unbalanced) return unbalanced;
  const inTransitTo = all.find((h) => h.inTransit > 0)?.orgId ?? null;
  return {
    result,
    after: {
      status: result.status,
      holderOrgId: e.bizStep === 'receiving' ? e.actorOrgId : batch.holder_org_id,
      pendingReceiverOrgId: inTransitTo,
      quantity: result.remaining,
      ...(result.changed.length > 0 ? { holdings: all } : {}),
    },
  };
}

/** decideMovement on the facts read from the store, in the caller's transaction (which holds the batch row lock). */
export async function planMovement(
  m: EntityManager,
  batch: BatchRow,
  e: ProposedMovement,
  /** The holdings already on their way (HoldingsStore.readWithGoneAlongWithNext, sent with the batch's lock). */
  read?: Promise<HoldingsWithGone>,
): Promise<PlannedMovement | Refusal> {
  const { holdings, gone } = await (read ?? HoldingsStore.readWithGone(m, batch.id));
  const needsShipments = e.bizStep === 'void_shipping' || (e.bizStep === 'shipping' && e.disposition === 'returned');
  const shipments = needsShipments ? await HoldingsStore.shipments(m, batch.id) : [];
  return decideMovement(batch, { holdings, shipments, gone }, e);
}
