/** Examples shown in /docs for lineage's routes (search, incoming shipments, trace), as `npm start` answered them. */
const ids = {
  farm: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
  shop: 'c92dfc37-18ec-4095-9f8c-d034e07d20fe',
  batch: '8765cc77-b133-4213-9cf9-0d507dcd2340',
  juice: '2f6b1d0e-7c4a-4b8e-9d3f-5a1c2e4b6d80',
  shipping: 'bd209e41-72af-4584-8288-197a3d2df9fc',
};

export const SEARCH_ITEM_EXAMPLE = {
  domain: 'agri',
  batchId: ids.batch,
  gtin: '06917965435904',
  lot: 'TOM-2026-12-06',
  itemKind: 'lot',
  status: 'active',
  ownerOrgId: ids.farm,
  holderOrgId: ids.shop,
  quantity: { value: 1200, unit: 'kg' },
  registeredAt: '2026-12-06T07:53:14.000Z',
  digitalLink: '/01/06917965435904/10/TOM-2026-12-06',
  href: `/v1/agri/batches/${ids.batch}`,
};

export const INCOMING_ITEM_EXAMPLE = {
  domain: 'agri',
  batchId: ids.batch,
  gtin: '06917965435904',
  lot: 'TOM-2026-12-06',
  quantity: { value: 500, unit: 'kg' },
  fromOrgId: ids.farm,
  shippedAt: '2026-12-06T07:53:15+08:00',
  eventId: ids.shipping,
};

export const TRACE_EXAMPLE = {
  root: { domain: 'agri', batchId: ids.batch },
  nodes: [
    {
      domain: 'agri', batchId: ids.batch, gtin: '06917965435904', lot: 'TOM-2026-12-06', status: 'active', holderOrgId: ids.shop, ownerOrgId: ids.farm,
      inTransitToOrgId: null, registered: true, productName: '樱桃番茄 Cherry tomatoes', holderName: 'South Market', locationName: 'South Market, Chaoyang store',
    },
    {
      domain: 'food', batchId: ids.juice, gtin: '06901234567892', lot: 'JUICE-2026-12-07', status: 'active', holderOrgId: ids.shop, ownerOrgId: ids.shop,
      inTransitToOrgId: null, registered: true, productName: '番茄汁 Tomato juice', holderName: 'South Market', locationName: 'South Market, Chaoyang store',
    },
  ],
  edges: [
    { from: ids.batch, to: ids.juice, kind: 'input' },
    {
      from: ids.batch, to: ids.batch, kind: 'shipment', batchId: ids.batch, fromOrgId: ids.farm, fromOrgName: 'Green Hill Farm', toOrgId: ids.shop,
      toOrgName: 'South Market', quantity: { value: 500, unit: 'kg' }, shippedAt: '2026-12-06T07:53:15+08:00',
    },
  ],
};
