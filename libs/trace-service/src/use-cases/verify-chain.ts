import { batchRowMismatch, GENESIS_HASH, verifyChain, type ChainVerification } from '@trace/trace-chain';
import type { Principal } from '@trace/platform';
import { batchRowFactsOf, chainLinkOf, type BatchRow, type EventRow } from '../rows';
import { visibleBatchRow, type TraceCore } from './core';

export type StoredChainVerification = Omit<ChainVerification, 'brokenAt'> & {
  brokenAt?: { seq: number; reason: NonNullable<ChainVerification['brokenAt']>['reason'] | 'missing_links' | 'batch_mismatch'; field?: string };
};

/**
 * A batch's stored chain verified as `GET …/verify` and the scan report it:
 * every hash recomputed (verifyChain), the head the batch row records must be
 * the chain's last link (else links were removed), and what the row shows
 * that the chain records (status, production and expiry) must agree with it
 * (batchRowMismatch), so neither a link nor the row can be edited unseen.
 */
export function verifyStoredChain(batch: BatchRow, rows: readonly EventRow[]): StoredChainVerification {
  const links = rows.map(chainLinkOf);
  const result = verifyChain(links);
  if (!result.valid) return result;
  if (result.head !== (batch.chain_seq > 0 ? batch.chain_head : GENESIS_HASH)) {
    return { valid: false, length: result.length, head: result.head, brokenAt: { seq: result.length + 1, reason: 'missing_links' } };
  }
  const mismatch = batchRowMismatch(batchRowFactsOf(batch), links);
  if (mismatch) return { valid: false, length: result.length, head: result.head, brokenAt: { seq: mismatch.seq, reason: 'batch_mismatch', field: mismatch.field } };
  return result;
}

/** `GET …/batches/{id}/verify`: the chain of a batch the caller may see, verified. */
export async function verifyBatchChain(core: TraceCore, id: string, principal: Principal): Promise<StoredChainVerification> {
  const batch = await visibleBatchRow(core, id, principal);
  const rows = (await core.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
  return verifyStoredChain(batch, rows);
}
