import { badRequest, pipelinedTransaction, refusalError, unprocessable, type Principal } from '@trace/platform';
import { formatOffsetTime, isBizStep, isDisposition, parseOffsetTime, type BatchStatus, type EventContext, type OffsetTime } from '@trace/trace-chain';
import type { WithinEvent } from '../batch.service';
import type { RecordEventDto } from '../dto';
import { appendChainEvent, HoldingsStore } from '../store';
import { requireLocation, visibleBatchRow, type TraceCore } from './core';
import { MOVING_STEPS, planMovement } from './plan-movement';

/**
 * Records one chain event on a batch (POST /v1/{domain}/batches/{id}/events):
 * an organisation writes while it holds some of the batch; shipping,
 * receiving, destroying, dispensing and selling move its holdings
 * (see applyMovement); the domain's rules have their say; the link, the
 * holdings and the announcement are written in one transaction under the
 * batch row lock.
 */
export async function recordEvent(core: TraceCore, id: string, dto: RecordEventDto, principal: Principal, within?: WithinEvent) {
  if (!isBizStep(dto.bizStep)) {
    throw badRequest('biz-step', `${dto.bizStep} is not a CBV 2.0 bizStep`, [{ field: 'bizStep', message: 'not a CBV 2.0 bizStep' }]);
  }
  if (dto.disposition !== undefined && !isDisposition(dto.disposition)) {
    throw badRequest('disposition', `${dto.disposition} is not a CBV 2.0 disposition`, [
      { field: 'disposition', message: 'not a CBV 2.0 disposition' },
    ]);
  }
  // START goes out with the first statement, COMMIT with the outbox row (pipelinedTransaction).
  return pipelinedTransaction(core.dataSource, async (m) => {
    // Existence first: another organisation's batch must not be probed through validation answers.
    // Seeing it and locking its chain head (so two writers cannot fork the chain) are one statement.
    // The batch's holdings go out in the same round trip, read right after the lock is taken.
    const holdings = HoldingsStore.readWithGoneAlongWithNext(m, id);
    const batch = await visibleBatchRow(core, id, principal, m, true);
    if (['commissioning', 'transforming'].includes(dto.bizStep)) {
      throw unprocessable('biz-step', `${dto.bizStep} is recorded by registering a batch (with inputs for a transformation)`);
    }
    // The directory answers found entries from memory (CachedDirectory): no round trip under the lock after the first.
    const location = await requireLocation(core, dto.locationId, principal, dto.bizStep === 'receiving' ? 'any' : 'own');
    if (dto.toOrgId && core.directory && !(await core.directory.organisation(dto.toOrgId))) {
      throw unprocessable('unknown-organisation', `No organisation ${dto.toOrgId}`);
    }
    const toLocation = dto.toLocationId ? await requireLocation(core, dto.toLocationId, principal, 'any') : undefined;
    // The DTO checked it is RFC 3339 with an offset; the offset is kept to give the time back as written.
    const { instant: eventTime, offset: eventTimeOffset } = parseOffsetTime(dto.eventTime) as OffsetTime;
    if (eventTime.getTime() > Date.now() + 5 * 60_000) throw badRequest('event-time', 'eventTime lies in the future');

    if (dto.quantity && dto.quantity.unit !== batch.quantity_unit) {
      throw unprocessable('unit-mismatch', `The batch is counted in ${batch.quantity_unit}, not ${dto.quantity.unit}`);
    }
    const planned = await planMovement(m, batch, {
      bizStep: dto.bizStep,
      disposition: dto.disposition,
      actorOrgId: principal.orgId,
      toOrgId: dto.toOrgId,
      quantity: dto.quantity?.value,
    }, holdings);
    if ('rule' in planned) throw refusalError(planned);
    const { result, after } = planned;
    const ctx: EventContext = {
      batch: {
        status: batch.status as BatchStatus,
        holderOrgId: batch.holder_org_id,
        pendingReceiverOrgId: batch.pending_receiver_org_id,
        quantity: Number(batch.quantity_value),
        id: batch.id,
        productCategory: batch.product_category ?? '',
        attributes: batch.attributes,
        expiresAt: batch.expires_at ? batch.expires_at.toISOString() : null,
        quantityUnit: batch.quantity_unit,
      },
      event: {
        bizStep: dto.bizStep as never,
        disposition: dto.disposition as never,
        actorOrgId: principal.orgId,
        toOrgId: dto.toOrgId,
        consumes: result.taken > 0 ? result.taken : undefined,
        locationId: dto.locationId,
        toLocationKind: toLocation?.kind ?? location?.kind,
        toLocationId: dto.toLocationId,
        eventTime: eventTime.toISOString(),
        quantity: dto.quantity,
      },
    };
    const domainRefusal = core.rules.onEvent?.(ctx, (await core.hooks.eventFacts?.(m, ctx)) ?? {});
    if (domainRefusal) throw refusalError(domainRefusal);
    // What moved is part of the hashed record: a shipment without a quantity sent the whole holding.
    const moved = MOVING_STEPS.includes(dto.bizStep) && result.moved > 0 ? { value: result.moved, unit: batch.quantity_unit } : dto.quantity;
    const details: Record<string, unknown> = {
      toOrgId: dto.toOrgId,
      toLocationId: dto.toLocationId,
      quantity: moved,
      ...(result.shortage > 0 ? { shortage: { value: result.shortage, unit: batch.quantity_unit } } : {}),
      documents: dto.documents,
      sensors: dto.sensors,
      ...((await within?.(m, batch)) ?? {}),
    };
    const disposition = dto.disposition ?? defaultDisposition(dto.bizStep);
    const ev = await appendChainEvent(
      m,
      core.outbox,
      core.domain,
      batch,
      { bizStep: dto.bizStep, disposition, eventTime, eventTimeOffset, locationId: dto.locationId, orgId: principal.orgId, details },
      after,
      core.directory,
    );
    await HoldingsStore.record(m, {
      batchId: batch.id,
      eventId: ev.id,
      bizStep: dto.bizStep,
      disposition,
      actorOrgId: principal.orgId,
      toOrgId: dto.toOrgId,
      eventTime,
      result,
    });
    await core.hooks.afterEvent?.(m, ctx, { id: ev.id, seq: ev.seq });
    return { id: ev.id, seq: ev.seq, hash: ev.hash, prevHash: ev.prev_hash, eventTime: formatOffsetTime(ev.event_time, eventTimeOffset) };
  });
}

export function defaultDisposition(bizStep: string): string | null {
  switch (bizStep) {
    case 'shipping':
      return 'in_transit';
    case 'receiving':
      return 'in_progress';
    case 'destroying':
      return 'destroyed';
    default:
      return null;
  }
}
