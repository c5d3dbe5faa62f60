import { contextKeepsEventHash, type EpcisEvent, type EventContext } from '@trace/epcis';
import { batchRowMismatch, GENESIS_HASH, verifyChain, type ChainVerification } from '@trace/trace-chain';
import type { Principal } from '@trace/platform';
import { batchRowFactsOf, chainLinkOf, type BatchRow, type EventRow } from '../rows';
import { visibleBatchRow, type TraceCore } from './core';

export type StoredChainVerification = Omit<ChainVerification, 'brokenAt'> & {
  brokenAt?: { seq: number; reason: NonNullable<ChainVerification['brokenAt']>['reason'] | 'missing_links' | 'batch_mismatch' | 'epcis_context_mismatch'; field?: string };
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
  const changed = rows.find(contextChanged);
  if (changed) return { valid: false, length: result.length, head: result.head, brokenAt: { seq: changed.seq, reason: 'epcis_context_mismatch' } };
  return result;
}

/**
 * A captured link whose stored namespaces (epcis_context, outside the link hash) no longer give the CBV
 * event hash its hashed content records. Checked where the context was stored with the content captured
 * here: not on links captured before contexts were kept (null), nor on a carried link (its content keeps
 * the names it was first captured with, while the context is the export's, where a prefix may be renamed).
 */
function contextChanged(r: EventRow & { epcis_context?: EventContext | null }): boolean {
  const epcis = r.content.epcis as EpcisEvent | undefined;
  const hash = r.content.epcisHash;
  if (!epcis || typeof hash !== 'string' || !r.epcis_context || r.content.eventId !== r.id) return false;
  return !contextKeepsEventHash(epcis, r.epcis_context, hash);
}

/** `GET …/batches/{id}/verify`: the chain of a batch the caller may see, verified. */
export async function verifyBatchChain(core: TraceCore, id: string, principal: Principal): Promise<StoredChainVerification> {
  const batch = await visibleBatchRow(core, id, principal);
  const rows = (await core.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
  return verifyStoredChain(batch, rows);
}
