import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical';

/** The hash that precedes the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a chain link's hash covers: the event's content, its position and the previous hash. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  content: Record<string, unknown>;
  hash: string;
}

export function linkHash(seq: number, prevHash: string, content: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson({ seq, prevHash, content })).digest('hex');
}

/** Builds the next link of a chain whose head is `prev` (undefined for the first). */
export function nextLink(prev: Pick<ChainLink, 'seq' | 'hash'> | undefined, content: Record<string, unknown>): ChainLink {
  const seq = prev ? prev.seq + 1 : 1;
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  return { seq, prevHash, content, hash: linkHash(seq, prevHash, content) };
}

export interface ChainVerification {
  valid: boolean;
  length: number;
  head: string;
  /** The first link that does not hold, and why. */
  brokenAt?: { seq: number; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' };
}

/** Recomputes every hash in order; names the first broken link. */
export function verifyChain(links: ChainLink[]): ChainVerification {
  let prev: ChainLink | undefined;
  for (const link of links) {
    const expectedSeq = prev ? prev.seq + 1 : 1;
    if (link.seq !== expectedSeq) return broken(links, prev, link.seq, 'sequence_gap');
    if (link.prevHash !== (prev ? prev.hash : GENESIS_HASH)) return broken(links, prev, link.seq, 'prev_hash_mismatch');
    if (linkHash(link.seq, link.prevHash, link.content) !== link.hash) return broken(links, prev, link.seq, 'hash_mismatch');
    prev = link;
  }
  return { valid: true, length: links.length, head: prev ? prev.hash : GENESIS_HASH };
}

function broken(
  links: ChainLink[],
  lastGood: ChainLink | undefined,
  seq: number,
  reason: NonNullable<ChainVerification['brokenAt']>['reason'],
): ChainVerification {
  return { valid: false, length: links.length, head: lastGood ? lastGood.hash : GENESIS_HASH, brokenAt: { seq, reason } };
}
