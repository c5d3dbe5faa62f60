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

/** The first implementation (entries, filter, sort, map, join): the single-pass one must write the same bytes. */
function reference(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}

class Thing {
  a = 2;
  b = 1;
  toJSON() {
    return 'a toJSON that canonical JSON does not call';
  }
}
const toJSON = () => 'nor this one';

describe('canonicalJson, single pass', () => {
  it.each([
    ['with array-index keys (written key by key)', ['a', 'B', 'é', 'z', '10', '2', 'ä', '😀', '', 'a b', '"q"', 'Z']],
    ['without them (put in order, then JSON.stringify)', ['a', 'B', 'é', 'z', 'ä', '😀', '', 'a b', '"q"', 'Z', 'toJSON', '01', '-1']],
    ['with __proto__ as a key', ['a', '__proto__', 'z']],
  ])('writes the same bytes as the first implementation on varied values, %s', (_, keys) => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const gen = (depth: number): unknown => {
      switch (rnd(depth > 3 ? 6 : 9)) {
        case 0: return null;
        case 1: return rnd(2) === 0;
        case 2: return [0, -1.5, 1e21, 3.14159, NaN, -0, 2 ** 53][rnd(7)];
        case 3: return ['', 'x', 'line\nbreak', '\u2028', 'é😀', '"'][rnd(6)];
        case 4: return undefined;
        case 5: return [new Date(Date.UTC(2026, rnd(12), 1 + rnd(28), rnd(24))), new Thing(), Object.assign(Object.create(null), { z: 1, a: [] }),
          Object.assign([1, 'x'], { toJSON }), Object.defineProperty({ a: 1 }, 'toJSON', { value: toJSON, enumerable: false }), new Number(5)][rnd(7)];
        case 6:
        case 7: return Array.from({ length: rnd(5) }, () => gen(depth + 1));
        default: return Object.fromEntries(Array.from({ length: rnd(6) }, () => [keys[rnd(keys.length)], gen(depth + 1)]));
      }
    };
    for (let i = 0; i < 2000; i++) {
      const v = { root: gen(0), list: [gen(0), gen(0)] };
      expect(canonicalJson(v)).toBe(reference(v));
    }
  });
});
