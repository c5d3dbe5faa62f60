import type { EntityManager } from 'typeorm';
import { DomainError, type Principal } from '@trace/platform';
import { compensationRefusal } from '@trace/trace-chain';
import type { ConsumeRequest } from './batch-registry';

/**
 * Restore exists only as the compensation of a consume it names: checks the
 * named event on the batch (locked by the caller, `FOR UPDATE`, so two
 * restores of one consume cannot both pass) with the pure rule
 * (trace-chain compensationRefusal), and that the output it was taken for was
 * never made here. Throws the refusal as a problem.
 */
export async function requireCompensation(
  m: EntityManager,
  domain: string,
  batch: { id: string; status: string },
  req: ConsumeRequest & { correctionOf: string },
  principal: Principal,
): Promise<void> {
  const [consume] = (await m.query('SELECT biz_step, org_id, content FROM trace_events WHERE id = $1 AND batch_id = $2', [
    req.correctionOf,
    batch.id,
  ])) as { biz_step: string; org_id: string; content: Record<string, unknown> }[];
  const [restored] = await m.query(`SELECT 1 FROM trace_events WHERE batch_id = $1 AND content->>'correctionOf' = $2 LIMIT 1`, [
    batch.id,
    req.correctionOf,
  ]);
  const refusal = compensationRefusal(
    consume && { bizStep: consume.biz_step, orgId: consume.org_id, content: consume.content },
    { quantity: req.quantity, unit: req.unit, outputRef: req.outputRef, actorOrgId: principal.orgId, batchStatus: batch.status },
    !!restored,
  );
  if (refusal) throw new DomainError(refusal.status, refusal.rule, refusal.message);
  if (req.outputRef.domain === domain) {
    // The transformation it compensates failed, so its output does not exist; if it does, nothing is given back.
    const [made] = await m.query('SELECT 1 FROM batches WHERE id = $1', [req.outputRef.batchId]);
    if (made) throw new DomainError(409, 'output-exists', `The output ${domain}/${req.outputRef.batchId} was made: its inputs stay taken`);
  }
}
