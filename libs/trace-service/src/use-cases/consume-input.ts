import { badRequest, refusalError, unprocessable, type Principal } from '@trace/platform';
import { holdingsAfter, parseOffsetTime, type BatchStatus } from '@trace/trace-chain';
import type { ConsumeRequest, ConsumeResult } from '../batch-registry';
import { requireCompensation } from '../compensation-check';
import { appendChainEvent, HoldingsStore } from '../store';
import type { BatchRow } from '../rows';
import type { TraceCore } from './core';
import { planMovement, type HoldingsTransition } from './plan-movement';

/**
 * Takes a transformation input from the caller's holding of the batch (the
 * input side of a transformation, possibly asked by another domain): a
 * `transforming` link on the input's chain naming the output; more than the
 * caller holds is 409 `insufficient-quantity`.
 */
export async function consumeInput(core: TraceCore, req: ConsumeRequest, principal: Principal): Promise<ConsumeResult> {
  return core.dataSource.transaction(async (m) => {
    const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [req.batchId])) as BatchRow[];
    if (!batch) throw unprocessable('unknown-input', `No input batch ${req.batchId} in ${core.domain}`);
    if (req.unit !== batch.quantity_unit) {
      throw unprocessable('unit-mismatch', `Input ${req.batchId} is counted in ${batch.quantity_unit}, not ${req.unit}`);
    }
    const planned = await planMovement(m, batch, { bizStep: 'transforming', actorOrgId: principal.orgId, quantity: req.quantity });
    if ('rule' in planned) throw refusalError({ ...planned, message: `Input ${core.domain}/${req.batchId}: ${planned.message}` });
    const at = req.eventTime === undefined ? undefined : parseOffsetTime(req.eventTime);
    if (at && 'problem' in at) throw badRequest('validation', `eventTime ${at.problem}`, [{ field: 'eventTime', message: at.problem }]);
    const eventTime = at?.instant ?? new Date();
    const disposition = planned.result.remaining === 0 ? 'inactive' : 'active';
    const ev = await appendChainEvent(
      m,
      core.outbox,
      core.domain,
      batch,
      {
        bizStep: 'transforming',
        disposition,
        eventTime,
        eventTimeOffset: at?.offset ?? null,
        locationId: batch.location_id,
        orgId: principal.orgId,
        details: { quantity: { value: req.quantity, unit: req.unit }, output: req.outputRef },
      },
      planned.after,
      core.directory,
    );
    await HoldingsStore.record(m, { batchId: batch.id, eventId: ev.id, bizStep: 'transforming', disposition, actorOrgId: principal.orgId, eventTime, result: planned.result });
    return { eventId: ev.id, gtin: batch.gtin, lot: batch.lot };
  });
}

/**
 * Compensation when the transformation failed after its inputs were taken:
 * a new link gives the quantity back to the caller's holding (history is
 * never rewritten).
 */
export async function restoreInput(core: TraceCore, req: ConsumeRequest & { correctionOf: string; reason: string }, principal: Principal): Promise<void> {
  await core.dataSource.transaction(async (m) => {
    const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [req.batchId])) as BatchRow[];
    if (!batch) return;
    // Only as the compensation of the consume it names (issue 13): never a way to raise a batch.
    await requireCompensation(m, core.domain, batch, req, principal);
    const holdings = await HoldingsStore.read(m, batch.id);
    const mine = holdings.find((h) => h.orgId === principal.orgId) ?? { orgId: principal.orgId, quantity: 0, inTransit: 0, received: 0 };
    const restored = { ...mine, quantity: mine.quantity + req.quantity };
    const all = holdingsAfter(holdings, [restored]);
    const remaining = all.reduce((s, h) => s + h.quantity + h.inTransit, 0);
    const after: HoldingsTransition = {
      status: batch.status as BatchStatus,
      holderOrgId: batch.holder_org_id,
      pendingReceiverOrgId: batch.pending_receiver_org_id,
      quantity: remaining,
      holdings: all,
    };
    const eventTime = new Date();
    await appendChainEvent(
      m,
      core.outbox,
      core.domain,
      batch,
      {
        bizStep: 'transforming',
        disposition: 'active',
        eventTime,
        locationId: batch.location_id,
        orgId: principal.orgId,
        details: { correctionOf: req.correctionOf, reason: req.reason, restored: { value: req.quantity, unit: req.unit } },
      },
      after,
      core.directory,
    );
    await HoldingsStore.restore(m, batch.id, principal.orgId, req.quantity);
  });
}
