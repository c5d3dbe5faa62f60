import { canonicalJson } from './canonical';

describe('canonicalJson', () => {
  it('is independent of key order, at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: 'x', p: true }], x: null } };
    const b = { a: { x: null, y: [1, { p: true, q: 'x' }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[1,{"p":true,"q":"x"}]},"b":1}');
  });

  it('drops undefined object members, so absent and undefined hash alike', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ n: { c: undefined } })).toBe('{"n":{}}');
  });

  it('keeps array positions: undefined items become null', () => {
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
  });

  it('emits no whitespace and escapes strings as JSON does', () => {
    expect(canonicalJson({ 'k y': 'a "quoted"\nline' })).toBe('{"k y":"a \\"quoted\\"\\nline"}');
  });

  it('serialises Dates as ISO strings', () => {
    expect(canonicalJson({ at: new Date('2024-01-02T03:04:05.000Z') })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it('keeps distinct values distinct', () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
    expect(() => canonicalJson(BigInt(1))).toThrow(TypeError);
  });
});
