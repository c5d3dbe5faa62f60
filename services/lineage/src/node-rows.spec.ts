import { NODE_COLUMNS, nodeFromArray, nodeFromRow, type NodeRow } from './node-rows';

describe('node rows', () => {
  it('reads array rows in the order NODE_COLUMNS selects them', () => {
    const row: NodeRow = {
      batch_id: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d',
      domain: 'drug',
      gtin: '09506000134352',
      lot: 'L1',
      status: 'recalled',
      registered: true,
      owner_org_id: 'o',
      holder_org_id: 'h',
      in_transit_to_org_id: 't',
      version: 7,
      quantity_value: 12.5,
      quantity_unit: 'kg',
      location_id: 'loc-1',
    };
    const columns = NODE_COLUMNS.split(',').map((c) => c.trim().split(/\s+AS\s+/i).pop()!) as (keyof NodeRow)[];
    expect(nodeFromArray(columns.map((c) => row[c]))).toEqual(nodeFromRow(row));
    expect(nodeFromRow(row)).toMatchObject({ batchId: row.batch_id, holderOrgId: 'h', inTransitToOrgId: 't', version: 7 });
    expect(nodeFromRow(row)).toMatchObject({ quantity: 12.5, unit: 'kg', locationId: 'loc-1' });
  });
});
