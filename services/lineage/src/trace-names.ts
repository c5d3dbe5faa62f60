import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DIRECTORY, type Directory, type Principal } from '@trace/platform';
import type { TraceNode } from './lineage-graph';
import type { TraceAnswer } from './trace.query';

/** Look-ups in flight at once: in distributed mode each is an HTTP call to the gateway (cached there after). */
const DIRECTORY_CONCURRENCY = 16;

export interface NamedTraceNode extends TraceNode {
  productName: string | null;
  holderName: string | null;
  /** Where the batch is (made, or last received); null when the caller may not see that location. */
  locationName: string | null;
}

/** A custody step of a batch in the trace: `from`/`to` are the batch (node ids stay node ids), the parties are named beside. */
export interface ShipmentEdge {
  from: string;
  to: string;
  kind: 'shipment';
  batchId: string;
  fromOrgId: string;
  fromOrgName: string | null;
  toOrgId: string;
  toOrgName: string | null;
  quantity: { value: number; unit: string } | null;
  shippedAt: string;
}

/**
 * Puts names on a trace answer so that a person can read it: the product name
 * (lineage's record of the registration), the holder's name, the location's
 * name, and the shipments of every batch in it as `kind: "shipment"` edges.
 * What the caller may see: inspectors and regulators everything; an operator
 * organisation names (the parties of a trace it is in), the names of its own
 * locations only (another organisation's premises are its business), and the
 * shipments it sent or received.
 */
@Injectable()
export class TraceNames {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(DIRECTORY) private readonly directory: Directory,
  ) {}

  async name(answer: TraceAnswer, principal: Principal) {
    const ids = answer.nodes.map((n) => n.batchId);
    const operator = principal.role === 'operator';
    const [facts, shipments] = await Promise.all([
      this.ds.query(
        `SELECT n.batch_id, n.location_id, f.product_name FROM lineage_nodes n LEFT JOIN fsma_lots f ON f.batch_id = n.batch_id
          WHERE n.batch_id = ANY($1::uuid[])`,
        [ids],
      ) as Promise<{ batch_id: string; location_id: string | null; product_name: string | null }[]>,
      this.ds.query(
        `SELECT batch_id, from_org_id, to_org_id, quantity, unit, shipped_at FROM lineage_shipments
          WHERE batch_id = ANY($1::uuid[]) AND ($2::text IS NULL OR from_org_id = $2 OR to_org_id = $2)
          ORDER BY shipped_at, seq`,
        [ids, operator ? principal.orgId : null],
      ) as Promise<{ batch_id: string; from_org_id: string; to_org_id: string; quantity: string | null; unit: string | null; shipped_at: Date }[]>,
    ]);
    const byBatch = new Map(facts.map((f) => [f.batch_id, f]));

    const orgIds = new Set<string>();
    for (const n of answer.nodes) if (n.holderOrgId) orgIds.add(n.holderOrgId);
    for (const s of shipments) orgIds.add(s.from_org_id).add(s.to_org_id);
    const locationIds = new Set(facts.map((f) => f.location_id).filter((l): l is string => !!l));
    const orgNames = new Map<string, string>();
    const locations = new Map<string, { orgId: string; name: string }>();
    await eachBounded([...orgIds], async (id) => {
      const org = await this.directory.organisation(id).catch(() => undefined);
      if (org) orgNames.set(id, org.name);
    });
    await eachBounded([...locationIds], async (id) => {
      const loc = await this.directory.location(id).catch(() => undefined);
      if (loc) locations.set(id, { orgId: loc.orgId, name: loc.name });
    });
    const locationName = (id: string | null | undefined) => {
      const loc = id ? locations.get(id) : undefined;
      return loc && (!operator || loc.orgId === principal.orgId) ? loc.name : null;
    };

    const nodes: NamedTraceNode[] = answer.nodes.map((n) => {
      const f = byBatch.get(n.batchId);
      return {
        ...n,
        productName: f?.product_name ?? null,
        holderName: n.holderOrgId ? (orgNames.get(n.holderOrgId) ?? null) : null,
        locationName: locationName(f?.location_id),
      };
    });
    const custody: ShipmentEdge[] = shipments.map((s) => ({
      from: s.batch_id,
      to: s.batch_id,
      kind: 'shipment',
      batchId: s.batch_id,
      fromOrgId: s.from_org_id,
      fromOrgName: orgNames.get(s.from_org_id) ?? null,
      toOrgId: s.to_org_id,
      toOrgName: orgNames.get(s.to_org_id) ?? null,
      quantity: s.quantity === null ? null : { value: Number(s.quantity), unit: s.unit ?? '' },
      shippedAt: s.shipped_at.toISOString(),
    }));
    return { root: answer.root, nodes, edges: [...answer.edges, ...custody] };
  }
}

async function eachBounded<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(DIRECTORY_CONCURRENCY, items.length) }, worker));
}
