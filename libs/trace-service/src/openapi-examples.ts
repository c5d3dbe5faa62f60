/**
 * Examples shown in /docs for the five domains' shared routes: answers as the
 * quick start (docs/quickstart.md) got them from `npm start`, ids shortened to
 * a few fixed ones so that the examples refer to each other.
 */
export const EXAMPLE_IDS = {
  farm: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
  shop: 'c92dfc37-18ec-4095-9f8c-d034e07d20fe',
  lab: '07d54a0a-9219-4443-9097-6aca740abfd8',
  farmLocation: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9',
  shopLocation: '1fbf8517-d64a-41f8-90c7-c2e8d05875c3',
  product: 'a9f71e06-de24-466e-9ded-5e15c98070f2',
  batch: '8765cc77-b133-4213-9cf9-0d507dcd2340',
  event: '5b58b39c-bb69-4a98-88d3-7caf120f4494',
  shipping: 'bd209e41-72af-4584-8288-197a3d2df9fc',
  inspection: '3d9415ae-ca68-4b6a-baf2-1974091b41b6',
} as const;

const ids = EXAMPLE_IDS;
const HEAD = '49db19811efa49f01392a7a3ec8da9f15d51238de27b05c869d36997245b5157';

export const PRODUCT_EXAMPLE = {
  id: ids.product,
  gtin: '06917965435904',
  name: '樱桃番茄 Cherry tomatoes',
  category: 'vegetable',
  ownerOrgId: ids.farm,
  attributes: {},
  createdAt: '2026-12-06T07:53:14.702Z',
};

export const BATCH_EXAMPLE = {
  id: ids.batch,
  domain: 'agri',
  gtin: '06917965435904',
  lot: 'TOM-2026-12-06',
  quantity: { value: 1200, unit: 'kg' },
  initialQuantity: { value: 1200, unit: 'kg' },
  status: 'active',
  ownerOrgId: ids.farm,
  holderOrgId: ids.farm,
  inTransitTo: null,
  locationId: ids.farmLocation,
  productId: ids.product,
  category: 'vegetable',
  producedAt: '2026-12-06T07:53:14+08:00',
  expiresAt: null,
  attributes: {},
  itemKind: 'lot',
  digitalLink: '/01/06917965435904/10/TOM-2026-12-06',
  chainLength: 1,
  chainHead: 'ac6c1a402fcf6bb775951c9aed21f79910eff4037a58fa01880b08fdab79bee0',
};

export const BATCH_VIEW_EXAMPLE = {
  ...BATCH_EXAMPLE,
  holderOrgId: ids.shop,
  locationId: ids.shopLocation,
  chainLength: 3,
  chainHead: HEAD,
  remaining: { value: 1200, unit: 'kg' },
  holdings: [
    { orgId: ids.farm, quantity: 700, inTransit: 0 },
    { orgId: ids.shop, quantity: 500, inTransit: 0 },
  ],
};

export const EVENT_RECORDED_EXAMPLE = {
  id: ids.shipping,
  seq: 2,
  hash: 'd80aac95603196d6c463123138f7cb627ea869814d93897bccb221f2f4812b16',
  prevHash: 'ac6c1a402fcf6bb775951c9aed21f79910eff4037a58fa01880b08fdab79bee0',
};

export const EVENTS_EXAMPLE = [
  {
    id: ids.event,
    seq: 1,
    bizStep: 'commissioning',
    disposition: 'active',
    recordTime: '2026-12-06T07:53:14.864Z',
    orgId: ids.farm,
    batchId: ids.batch,
    eventId: ids.event,
    quantity: { unit: 'kg', value: 1200 },
    eventTime: '2026-12-06T07:53:14+08:00',
    expiresAt: null,
    locationId: ids.farmLocation,
    prevHash: '0000000000000000000000000000000000000000000000000000000000000000',
    hash: 'ac6c1a402fcf6bb775951c9aed21f79910eff4037a58fa01880b08fdab79bee0',
  },
  {
    id: ids.shipping,
    seq: 2,
    bizStep: 'shipping',
    disposition: 'in_transit',
    recordTime: '2026-12-06T07:53:15.742Z',
    orgId: ids.farm,
    batchId: ids.batch,
    eventId: ids.shipping,
    toOrgId: ids.shop,
    quantity: { unit: 'kg', value: 500 },
    eventTime: '2026-12-06T07:53:15+08:00',
    locationId: ids.farmLocation,
    prevHash: 'ac6c1a402fcf6bb775951c9aed21f79910eff4037a58fa01880b08fdab79bee0',
    hash: 'd80aac95603196d6c463123138f7cb627ea869814d93897bccb221f2f4812b16',
  },
];

export const VERIFY_EXAMPLE = { valid: true, length: 3, head: HEAD };

export const EPCIS_DOCUMENT_EXAMPLE = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { trace: 'https://ns.trace.dev/epcis/' }],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-06T07:53:20.930Z',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventID: 'ni:///sha-256;6d0f9f1d3c2b1a09e8f7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918?ver=CBV2.0',
        eventTime: '2026-12-06T07:53:14+08:00',
        eventTimeZoneOffset: '+08:00',
        recordTime: '2026-12-06T07:53:14.864Z',
        quantityList: [{ epcClass: 'https://id.gs1.org/01/06917965435904/10/TOM-2026-12-06', quantity: 1200, uom: 'KGM' }],
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        readPoint: { id: 'urn:trace:location:5d1c0f0b9e3a4c27a8f61d2e3b7c9a40' },
        bizLocation: { id: 'urn:trace:location:5d1c0f0b9e3a4c27a8f61d2e3b7c9a40' },
      },
    ],
  },
};

export const INSPECTION_EXAMPLE = {
  id: ids.inspection,
  batchId: ids.batch,
  domain: 'agri',
  reportNo: 'SD-2026-0042',
  agency: 'Provincial QA Centre',
  sampledAt: '2026-12-06T07:53:16+08:00',
  items: [{ name: 'chlorpyrifos', unit: 'mg/kg', limit: 0.02, value: 0.05, result: 'fail' }],
  conclusion: 'fail',
  retestOf: null,
  retestDeadline: '2026-12-21T07:53:16.000Z',
  cleared: false,
  inspectorOrgId: ids.lab,
  eventId: '8b9f448a-b975-4ae5-ae01-ea74b3f497bd',
  recordedAt: '2026-12-06T07:53:16.534Z',
};

export const INSPECTION_RECORDED_EXAMPLE = { id: ids.inspection, conclusion: 'fail', retestDeadline: '2026-12-21T07:53:16.000Z' };

export const CATEGORY_EXAMPLE = { code: 'vegetable', name: { zh: '蔬菜', en: 'Vegetables' }, rules: ['certificate-required'] };

/** A bulk import job just accepted, and the same job finished with one refused row. */
export const IMPORT_JOB_EXAMPLE = {
  id: '8366a363-058a-4727-9e18-fd38c7828756',
  domain: 'agri',
  status: 'running',
  format: 'csv',
  total: 2,
  processed: 0,
  failedRows: 0,
  batchesCreated: 0,
  batchesExisting: 0,
  productsCreated: 0,
  productsExisting: 0,
  errors: [],
  createdAt: '2026-12-06T08:10:25.507Z',
  finishedAt: null,
};

export const IMPORT_JOB_DONE_EXAMPLE = {
  ...IMPORT_JOB_EXAMPLE,
  status: 'completed',
  processed: 2,
  failedRows: 1,
  batchesCreated: 1,
  productsCreated: 1,
  errors: [
    {
      row: 3,
      type: 'validation',
      status: 400,
      detail: 'quantity.value: value must be a number conforming to the specified constraints',
      errors: [{ field: 'quantity.value', message: 'value must be a number conforming to the specified constraints' }],
    },
  ],
  finishedAt: '2026-12-06T08:10:25.771Z',
};
