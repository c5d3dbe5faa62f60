import { hash } from 'node:crypto';
import { canonicalJson } from './canonical';

/** The hash that precedes the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Which rule a link's hash follows. v1 (chains written before hash versions)
 * covers the event's content only; v2 covers the canonical record, i.e. also
 * the fields kept in columns beside the content and shown to readers. Every
 * new link is v2; v1 links keep verifying as they were written.
 */
export type HashVersion = 1 | 2;
export const HASH_VERSION: HashVersion = 2;

/**
 * What readers are shown of an event besides its content (the API's event
 * list, the scan's journey, EPCIS answers read these from columns, not from
 * the content): a v2 hash covers them.
 */
export interface ShownFields {
  bizStep: string;
  disposition: string | null;
  /** The instant (a Date or any ISO 8601 string): hashed as UTC ISO, milliseconds. */
  eventTime: string | Date;
  /** The offset the event time was given in (e.g. `+08:00`), when it is kept. */
  eventTimeOffset?: string | null;
  orgId: string;
  /**
   * The batch's status after this link (active, held, recalled…): the scan's
   * status and recall banner show it, so the batch row must agree with the
   * head link. Absent in links written before it was recorded.
   */
  statusAfter?: string | null;
}

/** A chain link: its position, the previous hash, the event's content and what the hash covers. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  content: Record<string, unknown>;
  hash: string;
  /** Absent: 1 (a link written before hash versions). */
  version?: HashVersion;
  /** Required for a v2 link. */
  shown?: ShownFields;
}

/** v1: the content, its position and the previous hash. */
export function linkHash(seq: number, prevHash: string, content: Record<string, unknown>): string {
  return sha256(canonicalJson({ seq, prevHash, content }));
}

/**
 * The v2 canonical record of a link: every field a reader is shown, each in
 * one normal form (time as UTC ISO with milliseconds, an absent disposition or
 * offset as null), so the bytes depend only on what is shown. Fields added
 * after v2 was first written (statusAfter) are left out when absent, so the
 * links written before them keep their hashes.
 */
export function canonicalRecord(seq: number, prevHash: string, content: Record<string, unknown>, shown: ShownFields): string {
  return canonicalJson({
    v: 2,
    seq,
    prevHash,
    content,
    bizStep: shown.bizStep,
    disposition: shown.disposition ?? null,
    eventTime: new Date(shown.eventTime).toISOString(),
    eventTimeOffset: shown.eventTimeOffset ?? null,
    orgId: shown.orgId,
    statusAfter: shown.statusAfter ?? undefined,
  });
}

/** v2: the hash of the canonical record. */
export function recordHash(seq: number, prevHash: string, content: Record<string, unknown>, shown: ShownFields): string {
  return sha256(canonicalRecord(seq, prevHash, content, shown));
}

/** The hash a link should carry under its own version (undefined: a v2 link without its shown fields). */
export function expectedHash(link: Omit<ChainLink, 'hash'>): string | undefined {
  if ((link.version ?? 1) === 1) return linkHash(link.seq, link.prevHash, link.content);
  return link.shown ? recordHash(link.seq, link.prevHash, link.content, link.shown) : undefined;
}

/** Builds the next (v2) link of a chain whose head is `prev` (undefined for the first). */
export function nextLink(prev: Pick<ChainLink, 'seq' | 'hash'> | undefined, content: Record<string, unknown>, shown: ShownFields): ChainLink & { version: 2; shown: ShownFields } {
  const seq = prev ? prev.seq + 1 : 1;
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  return { seq, prevHash, content, shown, version: 2, hash: recordHash(seq, prevHash, content, shown) };
}

export interface ChainVerification {
  valid: boolean;
  length: number;
  head: string;
  /** The first link that does not hold, and why. */
  brokenAt?: { seq: number; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' | 'version_downgrade' };
}

/**
 * Recomputes every hash in order, each under its link's version; names the
 * first broken link. Versions never go down along a chain: a v1 link after a
 * v2 one is a link whose version was rewritten to escape the full record.
 */
export function verifyChain(links: ChainLink[]): ChainVerification {
  let prev: ChainLink | undefined;
  for (const link of links) {
    const expectedSeq = prev ? prev.seq + 1 : 1;
    if (link.seq !== expectedSeq) return broken(links, prev, link.seq, 'sequence_gap');
    if (link.prevHash !== (prev ? prev.hash : GENESIS_HASH)) return broken(links, prev, link.seq, 'prev_hash_mismatch');
    if ((link.version ?? 1) < (prev?.version ?? 1)) return broken(links, prev, link.seq, 'version_downgrade');
    if (expectedHash(link) !== link.hash) return broken(links, prev, link.seq, 'hash_mismatch');
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

/** One call, no Hash object: a link is hashed at every write and every verification. */
function sha256(s: string): string {
  return hash('sha256', s, 'hex');
}
