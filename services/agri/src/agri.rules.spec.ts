import type { EventContext } from '@trace/trace-chain';
import {
  agriRules,
  agriRulesFromEnv,
  DEFAULT_CERTIFICATE_CATEGORIES,
  certificateIssuable,
  certificateNumber,
  isCertificateNumber,
  isPhoneNumber,
  validateCertificateRequest,
} from './agri.rules';

const ctx = (bizStep: string, productCategory = 'vegetable'): EventContext => ({
  batch: { id: 'b1', status: 'active', holderOrgId: 'farm', pendingReceiverOrgId: null, quantity: 10, productCategory, attributes: {} },
  event: { bizStep: bizStep as never, actorOrgId: 'farm', toOrgId: 'buyer', locationId: 'l1' },
});

describe('agri rules: certificate before sale', () => {
  const rules = agriRules();

  it('refuses shipping or selling a vegetable batch without its certificate, naming the rule', () => {
    expect(rules.onEvent!(ctx('shipping'), {})).toMatchObject({ status: 409, rule: 'certificate-required' });
    expect(rules.onEvent!(ctx('retail_selling', 'egg'), { certificateNumber: null })).toMatchObject({ rule: 'certificate-required' });
  });

  it('allows it with a certificate, for grain without one, and other steps without one', () => {
    expect(rules.onEvent!(ctx('shipping'), { certificateNumber: 'AC20261120-7K3QX9PM' })).toBeUndefined();
    expect(rules.onEvent!(ctx('shipping', 'grain'), {})).toBeUndefined();
    expect(rules.onEvent!(ctx('storing'), {})).toBeUndefined();
  });

  it('takes the category list from configuration', () => {
    const custom = agriRulesFromEnv({ AGRI_CERTIFICATE_CATEGORIES: 'grain, edible_fungus' });
    expect(custom.certificateCategories).toEqual(['grain', 'edible_fungus']);
    expect(custom.onEvent!(ctx('shipping', 'grain'), {})).toMatchObject({ rule: 'certificate-required' });
    expect(custom.onEvent!(ctx('shipping', 'vegetable'), {})).toBeUndefined();
    expect(agriRulesFromEnv({}).certificateCategories).toContain('aquatic');
    expect(() => agriRulesFromEnv({ AGRI_CERTIFICATE_CATEGORIES: 'Fruit!' })).toThrow(/AGRI_CERTIFICATE_CATEGORIES/);
    // A configured category must be one of the closed list, or the rule could never apply.
    expect(() => agriRulesFromEnv({ AGRI_CERTIFICATE_CATEGORIES: 'vegetables' })).toThrow(/AGRI_CERTIFICATE_CATEGORIES: vegetables is not a category/);
  });

  it('lists its closed set of categories with names and the rules each brings', () => {
    const rules = agriRulesFromEnv({});
    expect(rules.categories!.find((c) => c.code === 'vegetable')).toEqual({ code: 'vegetable', name: { zh: '蔬菜', en: 'Vegetables' }, rules: ['certificate-required'] });
    expect(rules.categories!.find((c) => c.code === 'grain')?.rules).toEqual([]);
    expect(rules.categories!.filter((c) => c.rules.includes('certificate-required')).map((c) => c.code)).toEqual([...DEFAULT_CERTIFICATE_CATEGORIES]);
  });
});

describe('agri rules: issuing a certificate', () => {
  const batch = { id: 'b1', status: 'active' as const };
  const h = (orgId: string, quantity: number, inTransit = 0, received = quantity + inTransit) => ({ orgId, quantity, inTransit, received });
  const farmHolds = [h('farm', 10)];

  it('lets an organisation holding some of the batch issue one certificate for it while active', () => {
    expect(certificateIssuable(batch, 'farm', farmHolds, null)).toBeUndefined();
    // Part shipped on and received: both the farm (still holding 7) and the receiver are holders.
    const split = [h('farm', 7, 0, 10), h('mill', 3)];
    expect(certificateIssuable(batch, 'farm', split, null)).toBeUndefined();
    expect(certificateIssuable(batch, 'mill', split, null)).toBeUndefined();
  });

  it('refuses a non-holder, a former holder, a second certificate, a held batch and one shipped away whole', () => {
    expect(certificateIssuable(batch, 'other', farmHolds, null)).toMatchObject({ status: 403, rule: 'not-the-holder' });
    expect(certificateIssuable(batch, 'farm', [h('farm', 0, 0, 10), h('mill', 10)], null)).toMatchObject({ status: 403, rule: 'not-the-holder' });
    expect(certificateIssuable(batch, 'farm', farmHolds, 'AC20261120-7K3QX9PM')).toMatchObject({ status: 409, rule: 'certificate-exists' });
    expect(certificateIssuable({ ...batch, status: 'held' }, 'farm', farmHolds, null)).toMatchObject({ status: 409, rule: 'batch-held' });
    expect(certificateIssuable(batch, 'farm', [h('farm', 0, 0, 10), h('mill', 0, 10)], null)).toMatchObject({ status: 409, rule: 'in-transit' });
  });

  const good = { commitments: ['no_banned_substances', 'residues_within_limits'], basis: 'self_test', contact: '+86 138-0013-8000', origin: 'Shouguang' };

  it('accepts a complete request', () => {
    expect(validateCertificateRequest(good)).toBeUndefined();
  });

  it('refuses no commitment, a repeated one, an unknown basis, a contact that is not a phone, no origin', () => {
    expect(validateCertificateRequest({ ...good, commitments: [] })).toMatchObject({ status: 400, rule: 'certificate-commitments' });
    expect(validateCertificateRequest({ ...good, commitments: ['a', 'a '] })).toMatchObject({ rule: 'certificate-commitments' });
    expect(validateCertificateRequest({ ...good, basis: 'trust_me' })).toMatchObject({ rule: 'certificate-basis', field: 'basis' });
    expect(validateCertificateRequest({ ...good, contact: 'farmer@example.com' })).toMatchObject({ rule: 'certificate-contact' });
    expect(validateCertificateRequest({ ...good, origin: '  ' })).toMatchObject({ rule: 'certificate-origin' });
  });

  it('knows a phone number', () => {
    expect(isPhoneNumber('13800138000')).toBe(true);
    expect(isPhoneNumber('(010) 6512-3456')).toBe(true);
    expect(isPhoneNumber('12345')).toBe(false);
    expect(isPhoneNumber('call me')).toBe(false);
  });

  it('numbers certificates AC + issue date (UTC+8) + 8 base32 characters', () => {
    const n = certificateNumber(new Date('2026-11-19T17:30:00Z'), new Uint8Array([0, 0, 0, 0, 1]));
    expect(n).toBe('AC20261120-00000001');
    expect(isCertificateNumber(n)).toBe(true);
    expect(certificateNumber(new Date('2026-11-19T10:00:00Z'), new Uint8Array([255, 255, 255, 255, 255]))).toBe('AC20261119-ZZZZZZZZ');
    expect(isCertificateNumber('AC20261120-0000000I')).toBe(false);
    expect(isCertificateNumber('XX20261120-00000001')).toBe(false);
  });
});
