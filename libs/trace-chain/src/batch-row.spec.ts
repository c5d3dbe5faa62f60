import { batchRowMismatch, type BatchRowFacts } from './batch-row';
import { GENESIS_HASH, linkHash, nextLink, type ChainLink } from './hash-chain';

const registered = (expiresAt: string | null = '2027-05-20T00:00:00+08:00'): ChainLink[] => {
  const first = nextLink(undefined, { eventId: 'e1', quantity: { value: 10, unit: 'kg' }, expiresAt }, {
    bizStep: 'commissioning',
    disposition: 'active',
    eventTime: '2026-11-20T00:00:00.000Z',
    eventTimeOffset: '+08:00',
    orgId: 'org-a',
    statusAfter: 'active',
  });
  const recalled = nextLink(first, { eventId: 'e2' }, {
    bizStep: 'holding',
    disposition: 'recalled',
    eventTime: '2026-11-22T00:00:00.000Z',
    orgId: 'org-r',
    statusAfter: 'recalled',
  });
  return [first, recalled];
};
const row: BatchRowFacts = {
  status: 'recalled',
  producedAt: new Date('2026-11-20T00:00:00.000Z'),
  producedAtOffset: '+08:00',
  expiresAt: new Date('2027-05-19T16:00:00.000Z'),
  expiresAtOffset: '+08:00',
};

describe('batchRowMismatch', () => {
  it('accepts a row that agrees with its chain', () => {
    expect(batchRowMismatch(row, registered())).toBeUndefined();
    expect(batchRowMismatch({ ...row, expiresAt: null }, registered(null))).toBeUndefined();
  });

  it.each<[string, Partial<BatchRowFacts>, { seq: number; field: string }]>([
    ['a recalled batch set back to active', { status: 'active' }, { seq: 2, field: 'status' }],
    ['another production time', { producedAt: new Date('2026-11-21T00:00:00.000Z') }, { seq: 1, field: 'produced_at' }],
    ['another production offset', { producedAtOffset: '+00:00' }, { seq: 1, field: 'produced_at' }],
    ['another expiry', { expiresAt: new Date('2028-05-19T16:00:00.000Z') }, { seq: 1, field: 'expires_at' }],
    ['an expiry removed', { expiresAt: null }, { seq: 1, field: 'expires_at' }],
  ])('reports %s', (_, change, at) => {
    expect(batchRowMismatch({ ...row, ...change }, registered())).toEqual(at);
  });

  it('reports an expiry added to a batch registered without one', () => {
    expect(batchRowMismatch({ ...row, expiresAt: new Date() }, registered(null))).toEqual({ seq: 1, field: 'expires_at' });
  });

  it('compares nothing a chain written before these facts were recorded does not hold (v1 links)', () => {
    const content = { eventId: 'e1' };
    const v1: ChainLink[] = [{ seq: 1, prevHash: GENESIS_HASH, content, hash: linkHash(1, GENESIS_HASH, content) }];
    expect(batchRowMismatch({ ...row, status: 'active', producedAt: new Date(0) }, v1)).toBeUndefined();
  });

  it('takes a row without a production offset (kept only since offsets were) at its instant', () => {
    expect(batchRowMismatch({ ...row, producedAtOffset: null }, registered())).toBeUndefined();
  });
});
