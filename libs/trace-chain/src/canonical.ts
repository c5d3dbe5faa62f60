/**
 * Canonical JSON: keys sorted, no whitespace, undefined dropped. Two systems
 * that hold the same event content produce the same bytes, hence the same hash.
 *
 * The value is put in canonical order (canonicalOrder: objects whose keys are
 * out of order are copied with their keys sorted, everything already in order
 * is taken as it is) and V8's own JSON.stringify writes it: about twice as fast
 * as writing the string in JavaScript (every chain link of a capture, every
 * link of a verified chain is serialised this way). Where JSON.stringify could
 * not keep the canonical order (a key that is an array index: objects list
 * those first, in numeric order) or would read a value differently (a key
 * `__proto__`, which an assignment does not copy), the string is written key by
 * key (canonicalJsonWalk). Same bytes either way (canonical.spec.ts compares
 * both with the first implementation).
 */
export function canonicalJson(value: unknown): string {
  // Only inside an object or a list does undefined mean something (left out, or null).
  if (value === undefined) throw new TypeError('cannot canonicalise a undefined');
  const ordered = canonicalOrder(value);
  return ordered === WALK ? canonicalJsonWalk(value) : (JSON.stringify(ordered) as string);
}

/** canonicalOrder's answer where only canonicalJsonWalk writes the value as canonical JSON. */
const WALK = Symbol('written key by key');

/**
 * The value as JSON.stringify writes canonically: every object a plain one with its keys in UTF-16 order (no
 * toJSON of its own kind to call), Dates as their ISO strings. Parts already so are taken as they are, not
 * copied. WALK where JSON.stringify cannot write it so. Throws as canonicalJson does on what JSON cannot carry.
 */
function canonicalOrder(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
  if (value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = canonicalOrder(v);
      if (c === WALK) return WALK;
      if (c !== v) (out ??= Array.from(value))[i] = c;
    }
    // An array with a toJSON (its own, or its class's) would be written as that says: a plain copy has none.
    if ('toJSON' in value || Object.getPrototypeOf(value) !== Array.prototype) return Array.from(out ?? value);
    return out ?? value;
  }
  if (value instanceof Date) return value.toISOString();
  const keys = Object.keys(value);
  // Array-index keys come first in an object's own order (and JSON.stringify's), numerically: "10" before "9".
  if (keys.length > 0 && isIndexKey(keys[0])) return WALK;
  const sorted = inUtf16Order(keys);
  const proto: unknown = Object.getPrototypeOf(value);
  // A toJSON (a Buffer's, a class's, a hidden one of its own) is not canonical JSON's to call, nor is a boxed
  // number's value read: anything but a plain object is copied into one.
  let out: Record<string, unknown> | undefined = sorted && (proto === Object.prototype || proto === null) && !('toJSON' in value) ? undefined : {};
  if (!sorted) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '__proto__') return WALK;
    const v = (value as Record<string, unknown>)[k];
    const c = canonicalOrder(v);
    if (c === WALK) return WALK;
    if (out) out[k] = c;
    else if (c !== v) {
      // The first part that changed: the keys before it are copied as they were, in their (sorted) order.
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = (value as Record<string, unknown>)[keys[j]];
      out[k] = c;
    }
  }
  return out ?? value;
}

/** An array index ("0", "17"; not "01" nor "-1"): such keys come first among an object's own keys. */
function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

/** canonicalJson written key by key into one string as it walks (no arrays of entries, no filter/map/join per object). */
function canonicalJsonWalk(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (i > 0) out += ',';
          out += v === undefined ? 'null' : canonicalJsonWalk(v);
        }
        return `${out}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const keys = sortedKeys(value);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const v = (value as Record<string, unknown>)[keys[i]];
        if (v === undefined) continue;
        if (first) first = false;
        else out += ',';
        out += quotedKey(keys[i]) + canonicalJsonWalk(v);
      }
      return `${out}}`;
    }
  }
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}

/**
 * An object's own keys in UTF-16 code unit order (as `a < b` compares). Most
 * objects a link holds are small and many are built in order already: a
 * sorted list is returned as it is, without the sort's comparisons.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  return inUtf16Order(keys) ? keys : keys.sort();
}

/** Whether keys are in UTF-16 code unit order already (as `a < b` compares, and as sort() leaves them). */
function inUtf16Order(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

/**
 * `"key":` for a key. The same few dozen keys (eventTime, bizStep, epcClass…)
 * make up nearly every link, so their quoted form is kept rather than escaped
 * again for each one; the cache is bounded, because captured documents bring
 * keys of their own (extension fields) without limit.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_KEPT = 4096;
function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < QUOTED_KEYS_KEPT) quotedKeys.set(key, quoted);
  }
  return quoted;
}
