import type { IdentityClaims, ItemKind } from '@trace/contracts';
import type { Principal } from '@trace/platform';
import type { DomainName } from '../domains';
import { itemKey } from './carried-link';
import type { PlannedChainEvent } from './contract';

export interface CreatedClaims {
  /** Items another domain holds (item key → that domain): not created here. */
  elsewhere: Map<string, string>;
  /**
   * When the claims wait for the writes to have passed (`later`): makes them, answering the items
   * another domain claimed in the meantime (item key → that domain).
   */
  claim?: () => Promise<Map<string, string>>;
}

/**
 * Claims the lot or serial of every batch the events would create, before
 * any is written; answers those another domain holds (item key → that
 * domain). A trial only looks. `later` (an all-or-nothing run): only looks
 * now, and claims through `claim` once every event passed, so a refused
 * document leaves no claim behind.
 */
export async function claimCreated(
  claims: IdentityClaims | undefined,
  domain: DomainName,
  events: readonly PlannedChainEvent[],
  principal: Principal,
  mode: { dryRun: boolean; later?: boolean },
): Promise<CreatedClaims> {
  const elsewhere = new Map<string, string>();
  if (!claims) return { elsewhere };
  const items = new Map<string, { gtin: string; kind: ItemKind; value: string }>();
  for (const e of events) {
    for (const t of e.targets) if (t.create) items.set(itemKey(t), { gtin: t.gtin, kind: t.instance ? 'serial' : 'lot', value: t.lot });
  }
  const list = [...items.values()];
  const keyOf = (i: { gtin: string; kind: ItemKind; value: string }) => itemKey({ gtin: i.gtin, instance: i.kind === 'serial', lot: i.value });
  const claimAll = async () => {
    const refused = new Map<string, string>();
    const answers = await claims.claimItems(list.map((i) => ({ ...i, domain, orgId: principal.orgId })));
    answers.forEach((a, n) => {
      if (!a.granted) refused.set(keyOf(list[n]), a.domain);
    });
    return refused;
  };
  if (mode.dryRun || mode.later) {
    // One look-up for all of them (a thousand lots were a thousand round trips).
    const where = await claims.locateMany(list);
    where.forEach((w, n) => {
      if (w && w.domain !== domain) elsewhere.set(keyOf(list[n]), w.domain);
    });
    return mode.dryRun ? { elsewhere } : { elsewhere, claim: claimAll };
  }
  return { elsewhere: await claimAll() };
}
