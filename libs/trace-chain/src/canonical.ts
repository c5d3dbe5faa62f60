/**
 * Canonical JSON: keys sorted, no whitespace, undefined dropped. Two systems
 * that hold the same event content produce the same bytes, hence the same hash.
 *
 * Written into one string as it walks (no arrays of entries, no filter/map/join
 * per object): every chain link of a capture is serialised this way, and the
 * intermediate arrays were most of the cost. Same bytes as before.
 */
export function canonicalJson(value: unknown): string {
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
          out += v === undefined ? 'null' : canonicalJson(v);
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
        out += quotedKey(keys[i]) + canonicalJson(v);
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
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return keys.sort();
  return keys;
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
