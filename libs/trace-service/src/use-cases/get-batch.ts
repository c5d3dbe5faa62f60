import type { Principal } from '@trace/platform';
import { HoldingsStore } from '../store';
import { toBatchView, type BatchView } from '../rows';
import { visibleBatchRow, type TraceCore } from './core';

/** One organisation's part of a batch as GET /v1/{domain}/batches/{id} shows it. */
export interface HoldingView {
  orgId: string;
  /** Received and still held. */
  quantity: number;
  /** On its way to the organisation (shipped, not received yet). */
  inTransit: number;
}

export type BatchWithHoldings = Omit<BatchView, 'quantity'> & {
  /** As produced. */
  quantity: { value: number; unit: string };
  /** What is left of it in the supply chain: held and in transit, all holders together. */
  remaining: { value: number; unit: string };
  holdings: HoldingView[];
};

/**
 * A batch with its holdings: the owner, inspectors and regulators see every
 * organisation holding some of it (or with some in transit to it); another
 * operator sees its own part only.
 */
export async function getBatch(core: TraceCore, id: string, principal: Principal): Promise<BatchWithHoldings> {
  const row = await visibleBatchRow(core, id, principal);
  const seesAll = principal.role !== 'operator' || row.owner_org_id === principal.orgId;
  const holdings = (await HoldingsStore.read(core.dataSource.manager, id))
    .filter((h) => (h.quantity > 0 || h.inTransit > 0) && (seesAll || h.orgId === principal.orgId))
    .map((h) => ({ orgId: h.orgId, quantity: h.quantity, inTransit: h.inTransit }));
  const view = toBatchView(row);
  return { ...view, quantity: view.initialQuantity, remaining: view.quantity, holdings };
}
