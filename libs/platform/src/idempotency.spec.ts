import { idempotencyKeyId, idempotencyKeyOf, openAnswer, requestFingerprint, sealAnswer } from './idempotency';

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

describe('sealed answers', () => {
  it('open with the caller and key they were sealed with, and with nothing else', () => {
    const sealed = sealAnswer('org/client', 'k1', '{"clientSecret":"s3cret"}');
    expect(sealed).not.toContain('s3cret');
    expect(openAnswer('org/client', 'k1', sealed)).toBe('{"clientSecret":"s3cret"}');
    expect(() => openAnswer('org/client', 'k2', sealed)).toThrow();
    expect(() => openAnswer('other/client', 'k1', sealed)).toThrow();
    expect(idempotencyKeyId('org/client', 'k1')).toMatch(/^[0-9a-f]{64}$/);
    expect(idempotencyKeyId('org/client', 'k1')).not.toBe(idempotencyKeyId('org/other', 'k1'));
  });
});
