/**
 * Canonical JSON: keys sorted, no whitespace, undefined dropped. Two systems
 * that hold the same event content produce the same bytes, hence the same hash.
 *
 * Written into one string as it walks (no arrays of entries, no filter/map/join
 * per object): every chain link of a capture is serialised this way, and the
 * intermediate arrays were most of the cost. Same bytes as before.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'object') {
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    if (Array.isArray(value)) {
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        out += (i === 0 ? '' : ',') + (v === undefined ? 'null' : canonicalJson(v));
      }
      return `${out}]`;
    }
    // Object.keys(…).sort(): UTF-16 code unit order, as a < b compares strings.
    const keys = Object.keys(value).sort();
    let out = '{';
    for (const k of keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined) continue;
      out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    }
    return `${out}}`;
  }
  throw new TypeError(`cannot canonicalise a ${typeof value}`);
}
