import type { ChainLink } from './hash-chain';
import { formatOffsetTime } from './time';

/** What a batch row shows a reader (the scan's status, recall banner and dates) that its chain also records. */
export interface BatchRowFacts {
  status: string;
  producedAt: Date | string;
  producedAtOffset?: string | null;
  expiresAt: Date | string | null;
  expiresAtOffset?: string | null;
}

export type BatchRowField = 'status' | 'produced_at' | 'expires_at';

/**
 * Where a batch row disagrees with its (verified) chain, or undefined. The
 * row is a projection of the chain kept for reading; editing it (a recalled
 * batch set back to active, another expiry date) must break tamper evidence
 * as editing a link does. Only what the chain records under a v2 hash is
 * compared: the status the head link left (`statusAfter`), the production
 * time (the first link's time) and the expiry the registration wrote
 * (`content.expiresAt`, null when none). Links written before these were
 * recorded compare nothing.
 */
export function batchRowMismatch(row: BatchRowFacts, links: readonly ChainLink[]): { seq: number; field: BatchRowField } | undefined {
  const head = links[links.length - 1];
  if (head?.version === 2 && head.shown?.statusAfter != null && head.shown.statusAfter !== row.status) return { seq: head.seq, field: 'status' };
  const first = links[0];
  if (first?.seq !== 1 || first.version !== 2 || !first.shown) return undefined;
  const at = (t: Date | string) => new Date(t).getTime();
  const producedOffset = row.producedAtOffset ?? null;
  if (at(first.shown.eventTime) !== at(row.producedAt) || (producedOffset !== null && producedOffset !== (first.shown.eventTimeOffset ?? null))) {
    return { seq: 1, field: 'produced_at' };
  }
  if ('expiresAt' in first.content) {
    const written = first.content.expiresAt as string | null;
    const shown = row.expiresAt === null ? null : formatOffsetTime(row.expiresAt, row.expiresAtOffset);
    if (written !== shown) return { seq: 1, field: 'expires_at' };
  }
  return undefined;
}
