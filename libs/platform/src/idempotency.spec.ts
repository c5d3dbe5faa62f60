import { idempotencyKeyOf, requestFingerprint } from './idempotency';

describe('idempotency keys', () => {
  it('accepts 1-200 printable ASCII characters, refuses anything else with a 400', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf('a3f1-99 x')).toBe('a3f1-99 x');
    expect(idempotencyKeyOf('k'.repeat(200))).toHaveLength(200);
    for (const bad of ['', 'k'.repeat(201), 'tab\there', 'é', 'nul\u0000']) {
      expect(() => idempotencyKeyOf(bad)).toThrow(expect.objectContaining({ status: 400, rule: 'idempotency-key' }));
    }
  });

  it('fingerprints method, path and body, whatever the order of keys', () => {
    const fp = requestFingerprint('POST', '/v1/x', { a: 1, b: { c: [1, 2] } });
    expect(requestFingerprint('POST', '/v1/x', { b: { c: [1, 2] }, a: 1 })).toBe(fp);
    expect(requestFingerprint('POST', '/v1/y', { a: 1, b: { c: [1, 2] } })).not.toBe(fp);
    expect(requestFingerprint('POST', '/v1/x', { a: 1, b: { c: [2, 1] } })).not.toBe(fp);
    expect(requestFingerprint('POST', '/v1/x', undefined)).not.toBe(requestFingerprint('POST', '/v1/x', {}));
  });
});
