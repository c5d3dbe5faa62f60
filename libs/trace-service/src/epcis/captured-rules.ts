import type { EntityManager } from 'typeorm';
import { batchKey } from '@trace/epcis';
import { DomainError } from '@trace/platform';
import type { BatchStatus, DomainRules, EventContext } from '@trace/trace-chain';
import type { DomainHooks } from '../batch.service';
import type { BatchRow } from '../rows';
import type { PlannedChainEvent, PlannedTarget } from './contract';

/**
 * The domain's own rules on a captured movement, as recordEvent applies them: a vaccine batch does not
 * ship unreleased, a vegetable lot does not move without its certificate, an expired drug is not sold.
 */
export async function checkCapturedRules(
  m: EntityManager,
  domain: { rules?: DomainRules; hooks?: DomainHooks },
  batch: BatchRow,
  ev: PlannedChainEvent,
  t: PlannedTarget,
  e: { actorOrgId: string; toOrgId?: string; consumes?: number },
  /** The batch's facts when read beforehand with the chunk's (DomainHooks.eventFactsOfBatches). */
  facts?: Record<string, unknown>,
): Promise<void> {
  if (!domain.rules?.onEvent) return;
  const ctx: EventContext = {
    batch: {
      id: batch.id,
      status: batch.status as BatchStatus,
      holderOrgId: batch.holder_org_id,
      pendingReceiverOrgId: batch.pending_receiver_org_id,
      quantity: Number(batch.quantity_value),
      productCategory: batch.product_category ?? '',
      attributes: batch.attributes,
      expiresAt: batch.expires_at ? new Date(batch.expires_at).toISOString() : null,
      quantityUnit: batch.quantity_unit,
    },
    event: {
      bizStep: ev.bizStep as never,
      disposition: (ev.disposition ?? undefined) as never,
      actorOrgId: e.actorOrgId,
      toOrgId: e.toOrgId,
      consumes: e.consumes,
      locationId: ev.locationId,
      eventTime: new Date(ev.eventTime).toISOString(),
      quantity: t.quantity,
    },
  };
  const refusal = domain.rules.onEvent(ctx, facts ?? (await domain.hooks?.eventFacts?.(m, ctx)) ?? {});
  if (refusal) throw new DomainError(refusal.status, refusal.rule, `${batchKey(batch.gtin, batch.lot, batch.item_kind === 'serial')}: ${refusal.message}`);
}
