import type { IdentityClaims, ItemKind } from '@trace/contracts';
import type { Principal } from '@trace/platform';
import type { DomainName } from '../domains';
import { itemKey } from './carried-link';
import type { PlannedChainEvent } from './contract';

/**
 * Claims the lot or serial of every batch the events would create, before
 * any is written; answers those another domain holds (item key → that
 * domain). A trial only looks.
 */
export async function claimCreated(
  claims: IdentityClaims | undefined,
  domain: DomainName,
  events: readonly PlannedChainEvent[],
  principal: Principal,
  dryRun: boolean,
): Promise<Map<string, string>> {
  const elsewhere = new Map<string, string>();
  if (!claims) return elsewhere;
  const items = new Map<string, { gtin: string; kind: ItemKind; value: string }>();
  for (const e of events) {
    for (const t of e.targets) if (t.create) items.set(itemKey(t), { gtin: t.gtin, kind: t.instance ? 'serial' : 'lot', value: t.lot });
  }
  const list = [...items.values()];
  if (dryRun) {
    for (const i of list) {
      const where = await claims.locate(i.gtin, i.kind, i.value);
      if (where && where.domain !== domain) elsewhere.set(itemKey({ gtin: i.gtin, instance: i.kind === 'serial', lot: i.value }), where.domain);
    }
    return elsewhere;
  }
  const answers = await claims.claimItems(list.map((i) => ({ ...i, domain, orgId: principal.orgId })));
  answers.forEach((a, n) => {
    if (!a.granted) elsewhere.set(itemKey({ gtin: list[n].gtin, instance: list[n].kind === 'serial', lot: list[n].value }), a.domain);
  });
  return elsewhere;
}
