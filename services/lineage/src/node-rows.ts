import type { NodeRecord } from './lineage-graph';

/** The columns of lineage_nodes the index keeps, in the order array rows carry them. */
export const NODE_COLUMNS =
  'batch_id, domain, gtin, lot, status, registered, owner_org_id, holder_org_id, in_transit_to_org_id, version, ' +
  'quantity_value::float8 AS quantity_value, quantity_unit, location_id';

export interface NodeRow {
  batch_id: string;
  domain: string;
  gtin: string | null;
  lot: string | null;
  status: string;
  registered: boolean;
  owner_org_id: string | null;
  holder_org_id: string | null;
  in_transit_to_org_id: string | null;
  version: number;
  quantity_value: number | null;
  quantity_unit: string | null;
  location_id: string | null;
}

export function nodeFromRow(r: NodeRow): NodeRecord {
  return {
    batchId: r.batch_id,
    domain: r.domain,
    gtin: r.gtin,
    lot: r.lot,
    status: r.status,
    registered: r.registered,
    ownerOrgId: r.owner_org_id,
    holderOrgId: r.holder_org_id,
    inTransitToOrgId: r.in_transit_to_org_id,
    version: r.version,
    quantity: r.quantity_value,
    unit: r.quantity_unit,
    locationId: r.location_id,
  };
}

/** The same from a row fetched with `rowMode: 'array'` (bulk loads: no object per row). */
export function nodeFromArray(a: unknown[]): NodeRecord {
  return {
    batchId: a[0] as string,
    domain: a[1] as string,
    gtin: a[2] as string | null,
    lot: a[3] as string | null,
    status: a[4] as string,
    registered: a[5] as boolean,
    ownerOrgId: a[6] as string | null,
    holderOrgId: a[7] as string | null,
    inTransitToOrgId: a[8] as string | null,
    version: a[9] as number,
    quantity: a[10] as number | null,
    unit: a[11] as string | null,
    locationId: a[12] as string | null,
  };
}
