import { partyGlnOf, type EpcisEvent } from '@trace/epcis';
import { DomainError, type Directory } from '@trace/platform';
import { isUuid } from '@trace/trace-chain';
import type { PlannedChainEvent } from './contract';

/** A destination party's type, short or as a CBV URI. */
const PARTY = /(?:^|[:/#])(possessing_party|owning_party)$/;

/** How a captured event names its receiver: our organisation's id, or a party GLN (one of ours, or a partner's). */
export type ReceiverName = { orgId: string } | { gln: string };

/**
 * The receiver a captured event names: a destinationList party, the possessing party (who gets
 * custody) before the owning one, named `urn:uuid:<organisation id>` (the round trip's form) or by a
 * PGLN (EPC URN or Digital Link with AI 417: partner exports name our organisations with a GLN so).
 * Parties named otherwise (an SGLN, an opaque name) are trading partners of no organisation here.
 */
export function receiverOf(e: EpcisEvent): ReceiverName | undefined {
  const parties = (e.destinationList ?? []).flatMap((d): { type: string; name: ReceiverName }[] => {
    const type = PARTY.exec(d.type)?.[1];
    if (!type) return [];
    const id = /^urn:uuid:(.+)$/i.exec(d.destination)?.[1]?.toLowerCase();
    if (isUuid(id)) return [{ type, name: { orgId: id as string } }];
    const gln = partyGlnOf(d.destination);
    return gln ? [{ type, name: { gln } }] : [];
  });
  return (parties.find((p) => p.type === 'possessing_party') ?? parties.find((p) => p.type === 'owning_party'))?.name;
}

/**
 * The receivers captured shippings (and void_shippings) name, by event index, checked against the
 * directory as the API checks `toOrgId`: an unknown organisation id is the refusal; a PGLN that is no
 * organisation of ours is a partner's, no receiver here.
 */
export async function resolveReceivers(directory: Directory | undefined, events: readonly PlannedChainEvent[]): Promise<Map<number, string | DomainError>> {
  const out = new Map<number, string | DomainError>();
  const known = new Map<string, boolean>();
  const byGln = new Map<string, string | undefined>();
  for (const e of events) {
    if (e.error || (e.bizStep !== 'shipping' && e.bizStep !== 'void_shipping')) continue;
    const name = receiverOf(e.event);
    if (!name) continue;
    if ('gln' in name) {
      if (!directory) continue;
      if (!byGln.has(name.gln)) byGln.set(name.gln, (await directory.organisationByGln(name.gln))?.id);
      const orgId = byGln.get(name.gln);
      if (orgId) out.set(e.index, orgId);
      continue;
    }
    const { orgId } = name;
    if (directory && !known.has(orgId)) known.set(orgId, !!(await directory.organisation(orgId)));
    out.set(e.index, known.get(orgId) === false ? new DomainError(422, 'unknown-organisation', `No organisation ${orgId} (the shipping's destinationList)`) : orgId);
  }
  return out;
}
