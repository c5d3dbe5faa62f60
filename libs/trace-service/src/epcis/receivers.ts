import type { EpcisEvent } from '@trace/epcis';
import { DomainError, type Directory } from '@trace/platform';
import { isUuid } from '@trace/trace-chain';
import type { PlannedChainEvent } from './contract';

/** A destination party's type, short or as a CBV URI. */
const PARTY = /(?:^|[:/#])(possessing_party|owning_party)$/;

/**
 * The organisation of ours a captured event names as its receiver: a
 * destinationList party `urn:uuid:<organisation id>`, the possessing party
 * (who gets custody) before the owning one. Parties named otherwise (a PGLN,
 * an SGLN) are trading partners of no organisation here.
 */
export function receiverOf(e: EpcisEvent): string | undefined {
  const parties = (e.destinationList ?? []).map((d) => ({ type: PARTY.exec(d.type)?.[1], id: /^urn:uuid:(.+)$/i.exec(d.destination)?.[1]?.toLowerCase() }));
  const ours = parties.filter((p) => p.type && isUuid(p.id));
  return (ours.find((p) => p.type === 'possessing_party') ?? ours.find((p) => p.type === 'owning_party'))?.id;
}

/**
 * The receivers captured shippings (and void_shippings) name, by event index,
 * checked against the directory as the API checks `toOrgId`: an unknown one
 * is the refusal.
 */
export async function resolveReceivers(directory: Directory | undefined, events: readonly PlannedChainEvent[]): Promise<Map<number, string | DomainError>> {
  const out = new Map<number, string | DomainError>();
  const known = new Map<string, boolean>();
  for (const e of events) {
    if (e.error || (e.bizStep !== 'shipping' && e.bizStep !== 'void_shipping')) continue;
    const orgId = receiverOf(e.event);
    if (!orgId) continue;
    if (directory && !known.has(orgId)) known.set(orgId, !!(await directory.organisation(orgId)));
    out.set(e.index, known.get(orgId) === false ? new DomainError(422, 'unknown-organisation', `No organisation ${orgId} (the shipping's destinationList)`) : orgId);
  }
  return out;
}
