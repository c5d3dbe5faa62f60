/** Examples shown in /docs for the drug routes (as `npm start` answered them). */
const BATCH_ID = '5629a150-faee-4525-a1a9-140ab10cf871';
const CODE = '(01)06917965443329(21)WCXU0CVNK6KL';

export const CODES_EXAMPLE = { batchId: BATCH_ID, registered: 2, codes: [CODE, '(01)06917965443329(21)JZ7NW3Q6GWVH'] };

export const RELEASE_EXAMPLE = {
  batchId: BATCH_ID,
  number: 'SJ20261206001',
  releasedAt: '2026-12-06T08:05:36.915Z',
  releasedBy: '88450b8a-958d-483b-9e99-216c546d03e2',
  note: 'Released after review',
};

export const VERIFY_CODE_EXAMPLE = {
  status: 'VERIFIED',
  code: CODE,
  batch: {
    id: BATCH_ID,
    gtin: '06917965443329',
    lot: 'AMX-2026-12',
    status: 'active',
    expiresAt: '2028-11-30T16:00:00.000Z',
    product: { name: 'Amoxicillin 250 mg', category: 'capsule' },
    digitalLink: '/01/06917965443329/10/AMX-2026-12',
  },
};

export const DISPENSED_EXAMPLE = {
  code: CODE,
  batchId: BATCH_ID,
  status: 'DISPENSED',
  dispensedAt: '2026-12-06T08:05:38.723Z',
  event: {
    id: '489b46e4-5f28-4c38-85ec-f11cd2d0b256',
    seq: 4,
    hash: '398743ff534eaf124f78a6e1b826e02fb8ce21d33175482d9ef2e36a07992750',
    prevHash: '98b0a1cce8dc5243734c33a9e66001ab93845efc6d81b7682216e80f81af0716',
    eventTime: '2026-12-06T16:05:38.723+08:00',
  },
};
