/** Examples shown in /docs for the gateway's own routes (identity, locations, audit, scan), as `npm start` answered them. */
const ids = {
  farm: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
  location: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9',
};

export const TOKEN_EXAMPLE = {
  accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmciOiJiM2MyN2RlOC02OGY2LTRjZGQtOTg1Mi02NmM4NzQ0YmQ0NjciLCJyb2xlIjoib3BlcmF0b3IifQ.sig',
  tokenType: 'Bearer',
  expiresIn: 3600,
};

export const ORGANISATION_EXAMPLE = { id: ids.farm, name: 'Green Hill Farm', kind: 'producer', gln: '6917965000003' };

export const CLIENT_EXAMPLE = { clientId: 'cli_0310ad574c26e10aaf515cc9', clientSecret: 'b1c5e0d2f7a94c3e8a6d0f1b2c3d4e5f6a7b8c9d0e1f2a3b', orgId: ids.farm, role: 'operator' };

export const LOCATION_EXAMPLE = {
  id: ids.location,
  orgId: ids.farm,
  name: 'Green Hill greenhouse 3',
  kind: 'farm',
  region: 'CN-37',
  address: '山东省寿光市 Shouguang, Shandong',
  gln: '6901234000017',
  createdAt: '2026-12-06T07:53:14.376Z',
};

const LINK = 'https://id.example.cn/01/06917965435904/10/TOM-2026-12-06';
const GREENHOUSE = { name: 'Green Hill greenhouse 3', kind: 'farm', region: 'CN-37' };
const STORE = { name: 'South Market, Chaoyang store', kind: 'store', region: 'CN-11' };
const RECALL = { level: 1, reason: '毒死蜱残留超标 Chlorpyrifos residue above the limit' };

/** The consumer's JSON document of a recalled lot. */
export const SCAN_EXAMPLE = {
  product: { gtin: '06917965435904', name: '樱桃番茄 Cherry tomatoes', category: 'vegetable', categoryName: { zh: '蔬菜', en: 'Vegetables' } },
  batch: { domain: 'agri', gtin: '06917965435904', lot: 'TOM-2026-12-06', status: 'recalled', producedAt: '2026-12-06T07:50:27+08:00', expiresAt: null, serial: null },
  origin: { at: '2026-12-06T07:50:27+08:00', location: { ...GREENHOUSE, gln: null }, producer: { name: 'Green Hill Farm' } },
  certificates: [{ kind: 'agri_compliance', number: 'AC20261206-KBB3VM5P', issuedAt: '2026-12-06T07:50:27.534Z', verifyLink: '/v1/certificates/AC20261206-KBB3VM5P' }],
  inspections: [{ reportNo: 'SD-2026-0042', agency: 'Provincial QA Centre', sampledAt: '2026-12-06T07:50:28+08:00', conclusion: 'fail', retest: false }],
  recall: { active: true, ...RECALL },
  chain: { valid: true, length: 5 },
  history: [
    { seq: 1, bizStep: 'commissioning', disposition: 'active', eventTime: '2026-12-06T07:50:27+08:00', location: GREENHOUSE },
    { seq: 2, bizStep: 'shipping', disposition: 'in_transit', eventTime: '2026-12-06T08:30:00+08:00', location: GREENHOUSE },
    { seq: 3, bizStep: 'receiving', disposition: 'in_progress', eventTime: '2026-12-06T11:00:00+08:00', location: STORE },
    { seq: 4, bizStep: 'inspecting', disposition: 'non_conformant', eventTime: '2026-12-06T15:20:00+08:00', location: STORE },
    { seq: 5, bizStep: 'holding', disposition: 'recalled', eventTime: '2026-12-07T09:00:00+08:00', location: STORE, recall: RECALL },
  ],
  madeFrom: [],
};

/** The linkset (RFC 9264) of a Digital Link (?linkType=all). */
export const LINKSET_EXAMPLE = {
  linkset: [
    {
      anchor: LINK,
      'https://gs1.org/voc/defaultLink': [{ href: `${LINK}?linkType=gs1:pip`, title: 'Product information page', type: 'text/html', hreflang: ['zh-CN', 'en'] }],
      'https://gs1.org/voc/pip': [{ href: `${LINK}?linkType=gs1:pip`, title: 'Product information page', type: 'text/html', hreflang: ['zh-CN', 'en'] }],
      'https://gs1.org/voc/recallStatus': [{ href: `${LINK}?linkType=gs1:recallStatus`, title: 'Recall status', type: 'application/json' }],
      'https://gs1.org/voc/certificationInfo': [{ href: `${LINK}?linkType=gs1:certificationInfo`, title: 'Certification information', type: 'application/json' }],
      'https://gs1.org/voc/traceability': [{ href: `${LINK}?linkType=gs1:traceability`, title: 'Traceability information', type: 'application/json' }],
    },
  ],
};
