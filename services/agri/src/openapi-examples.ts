/** Examples shown in /docs for the 承诺达标合格证 (as `npm start` answered them). */
const CERTIFICATE = {
  number: 'AC20261206-ZRGX2MZ7',
  status: 'valid',
  issuedAt: '2026-12-06T07:53:15.318Z',
  product: { gtin: '06917965435904', name: '樱桃番茄 Cherry tomatoes', category: 'vegetable' },
  quantity: { unit: 'kg', value: 1200 },
  origin: '山东寿光 Shouguang, Shandong',
  contact: '+86 138 0013 8000',
  commitments: ['no_banned_substances', 'residues_within_limits'],
  basis: 'self_test',
  qrLink: '/v1/certificates/AC20261206-ZRGX2MZ7',
};

/** The certificate as its producer (and who may read the batch) sees it. */
export const CERTIFICATE_EXAMPLE = {
  ...CERTIFICATE,
  batch: { id: '8765cc77-b133-4213-9cf9-0d507dcd2340', domain: 'agri', gtin: '06917965435904', lot: 'TOM-2026-12-06', status: 'active', digitalLink: '/01/06917965435904/10/TOM-2026-12-06' },
  producer: { name: 'Green Hill Farm', orgId: 'b3c27de8-68f6-4cdd-9852-66c8744bd467' },
};

/** The public verification: no internal ids. */
export const PUBLIC_CERTIFICATE_EXAMPLE = {
  ...CERTIFICATE,
  batch: { domain: 'agri', gtin: '06917965435904', lot: 'TOM-2026-12-06', status: 'active', digitalLink: '/01/06917965435904/10/TOM-2026-12-06' },
  producer: { name: 'Green Hill Farm' },
};
