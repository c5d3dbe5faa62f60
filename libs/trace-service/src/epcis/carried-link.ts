import type { CarriedLink } from '@trace/epcis';
import { expectedHash, GENESIS_HASH } from '@trace/trace-chain';
import type { BatchRow } from '../rows';
import type { PlannedTarget } from './contract';

/** The identity of a target across domains: a lot and a serial with the same text differ. */
export function itemKey(t: Pick<PlannedTarget, 'gtin' | 'instance' | 'lot'>): string {
  return `${t.gtin}|${t.instance ? 'serial' : 'lot'}|${t.lot}`;
}

/**
 * A carried link is stored as it was only if it is the next link of this batch's chain here. Its content
 * names the batch id of the system it was exported from; ids here are this system's own (issue 13), so
 * the chain is tied by seq and prevHash, not by that id.
 */
export function fits(c: CarriedLink, batch: BatchRow | undefined): boolean {
  const seq = batch?.chain_seq ?? 0;
  const head = seq > 0 && batch ? batch.chain_head : GENESIS_HASH;
  if (c.hashVersion === 2 && !c.shown) return false;
  return c.seq === seq + 1 && c.prevHash === head && expectedHash({ seq: c.seq, prevHash: c.prevHash, content: c.content, version: c.hashVersion ?? 1, shown: c.shown }) === c.hash;
}
