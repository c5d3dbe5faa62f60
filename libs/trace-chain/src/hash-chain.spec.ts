import {
  canonicalRecord,
  GENESIS_HASH,
  linkHash,
  nextLink,
  recordHash,
  verifyChain,
  type ChainLink,
  type ShownFields,
} from './hash-chain';

const shownAt = (i: number): ShownFields => ({
  bizStep: i === 0 ? 'commissioning' : 'shipping',
  disposition: 'active',
  eventTime: new Date(Date.UTC(2026, 0, 1, i)).toISOString(),
  orgId: 'org-a',
});

function buildChain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  for (let i = 0; i < n; i++) {
    links.push(nextLink(links[links.length - 1], { step: `step-${i + 1}`, qty: i * 10, meta: { i } }, shownAt(i)));
  }
  return links;
}

/** A chain as written before hash versions: content-only hashes, no version. */
function buildV1Chain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  for (let i = 0; i < n; i++) {
    const prev = links[links.length - 1];
    const seq = i + 1;
    const prevHash = prev ? prev.hash : GENESIS_HASH;
    const content = { step: `step-${seq}` };
    links.push({ seq, prevHash, content, hash: linkHash(seq, prevHash, content) });
  }
  return links;
}

describe('nextLink', () => {
  it('starts a chain at seq 1 on the genesis hash, as a v2 link over the full record', () => {
    const first = nextLink(undefined, { a: 1 }, shownAt(0));
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(first.version).toBe(2);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.hash).toBe(recordHash(1, GENESIS_HASH, { a: 1 }, shownAt(0)));
    expect(first.hash).not.toBe(linkHash(1, GENESIS_HASH, { a: 1 }));
  });

  it('links each new entry to the previous hash', () => {
    const [a, b] = buildChain(2);
    expect(b.seq).toBe(2);
    expect(b.prevHash).toBe(a.hash);
    expect(b.hash).not.toBe(a.hash);
  });

  it('hashes content independently of key order', () => {
    expect(nextLink(undefined, { x: 1, y: 2 }, shownAt(0)).hash).toBe(nextLink(undefined, { y: 2, x: 1 }, shownAt(0)).hash);
  });
});

describe('verifyChain', () => {
  it('accepts an empty chain with the genesis head', () => {
    expect(verifyChain([])).toEqual({ valid: true, length: 0, head: GENESIS_HASH });
  });

  it('accepts a valid chain of several links; head is the last hash', () => {
    const links = buildChain(5);
    const result = verifyChain(links);
    expect(result).toEqual({ valid: true, length: 5, head: links[4].hash });
    expect(result.brokenAt).toBeUndefined();
  });

  it('reports hash_mismatch at the link whose content was tampered with', () => {
    const links = buildChain(5);
    links[2] = { ...links[2], content: { ...links[2].content, qty: 9999 } };
    const result = verifyChain(links);
    expect(result.valid).toBe(false);
    expect(result.brokenAt).toEqual({ seq: 3, reason: 'hash_mismatch' });
    expect(result.head).toBe(links[1].hash);
    expect(result.length).toBe(5);
  });

  it('reports prev_hash_mismatch when a prevHash was changed', () => {
    const links = buildChain(4);
    links[3] = { ...links[3], prevHash: 'f'.repeat(64) };
    expect(verifyChain(links).brokenAt).toEqual({ seq: 4, reason: 'prev_hash_mismatch' });
  });

  it('reports prev_hash_mismatch even if the tamperer recomputed the link hash', () => {
    const links = buildChain(3);
    const forgedPrev = 'a'.repeat(64);
    links[1] = { ...links[1], prevHash: forgedPrev, hash: recordHash(2, forgedPrev, links[1].content, links[1].shown as ShownFields) };
    expect(verifyChain(links).brokenAt).toEqual({ seq: 2, reason: 'prev_hash_mismatch' });
  });

  it('reports prev_hash_mismatch when the first link does not start on genesis', () => {
    const links = buildChain(2);
    links[0] = { ...links[0], prevHash: '1'.repeat(64) };
    const result = verifyChain(links);
    expect(result.brokenAt).toEqual({ seq: 1, reason: 'prev_hash_mismatch' });
    expect(result.head).toBe(GENESIS_HASH);
  });

  it('reports sequence_gap when a middle link is removed', () => {
    const links = buildChain(5);
    links.splice(2, 1); // remove seq 3
    const result = verifyChain(links);
    expect(result.valid).toBe(false);
    expect(result.brokenAt).toEqual({ seq: 4, reason: 'sequence_gap' });
    expect(result.head).toBe(links[1].hash);
  });

  it('reports sequence_gap when the chain does not start at seq 1', () => {
    const links = buildChain(3).slice(1);
    expect(verifyChain(links).brokenAt).toEqual({ seq: 2, reason: 'sequence_gap' });
  });

  it('detects a rewritten link even when its own hash was recomputed (next link breaks)', () => {
    const links = buildChain(4);
    const content = { step: 'forged' };
    links[1] = { ...links[1], content, hash: recordHash(2, links[1].prevHash, content, links[1].shown as ShownFields) };
    expect(verifyChain(links).brokenAt).toEqual({ seq: 3, reason: 'prev_hash_mismatch' });
  });
});

describe('canonical record (hash v2)', () => {
  const content = { eventId: 'e1', locationId: 'loc-1', quantity: { value: 500, unit: 'kg' } };
  const shown: ShownFields = { bizStep: 'shipping', disposition: 'in_transit', eventTime: '2026-12-05T07:00:00.000Z', eventTimeOffset: '+08:00', orgId: 'org-a' };
  const base = recordHash(3, 'a'.repeat(64), content, shown);

  it.each<[string, Partial<ShownFields>]>([
    ['the step', { bizStep: 'receiving' }],
    ['the disposition', { disposition: 'recalled' }],
    ['an absent disposition', { disposition: null }],
    ['the time', { eventTime: '2026-12-05T07:00:00.001Z' }],
    ['the time offset', { eventTimeOffset: '+00:00' }],
    ['an absent time offset', { eventTimeOffset: undefined }],
    ['the organisation', { orgId: 'org-b' }],
    ['the status after', { statusAfter: 'recalled' }],
  ])('changes when %s changes', (_, change) => {
    expect(recordHash(3, 'a'.repeat(64), content, { ...shown, ...change })).not.toBe(base);
  });

  it.each<[string, Record<string, unknown>]>([
    ['the location', { ...content, locationId: 'loc-2' }],
    ['the quantity', { ...content, quantity: { value: 5000, unit: 'kg' } }],
    ['the unit', { ...content, quantity: { value: 500, unit: 'g' } }],
  ])('changes when %s in the content changes', (_, changed) => {
    expect(recordHash(3, 'a'.repeat(64), changed, shown)).not.toBe(base);
  });

  it('changes with the position and the previous hash', () => {
    expect(recordHash(4, 'a'.repeat(64), content, shown)).not.toBe(base);
    expect(recordHash(3, 'b'.repeat(64), content, shown)).not.toBe(base);
  });

  it('depends on the instant, not on how the time was written', () => {
    expect(recordHash(3, 'a'.repeat(64), content, { ...shown, eventTime: new Date('2026-12-05T15:00:00+08:00') })).toBe(base);
    expect(canonicalRecord(3, 'a'.repeat(64), content, { ...shown, disposition: undefined as never })).toBe(
      canonicalRecord(3, 'a'.repeat(64), content, { ...shown, disposition: null }),
    );
  });

  it('leaves out a status that was not recorded, so v2 links written before it keep their hashes', () => {
    expect(recordHash(3, 'a'.repeat(64), content, { ...shown, statusAfter: null })).toBe(base);
    expect(recordHash(3, 'a'.repeat(64), content, { ...shown, statusAfter: 'active' })).not.toBe(base);
  });

  it('is never the v1 hash of the same content', () => {
    expect(base).not.toBe(linkHash(3, 'a'.repeat(64), content));
  });
});

describe('verifyChain across hash versions', () => {
  it('still accepts a chain written before hash versions (v1)', () => {
    const links = buildV1Chain(3);
    expect(verifyChain(links)).toEqual({ valid: true, length: 3, head: links[2].hash });
  });

  it('accepts v1 links followed by v2 links (a chain written across the upgrade)', () => {
    const links = buildV1Chain(2);
    links.push(nextLink(links[1], { step: 'step-3' }, shownAt(2)));
    expect(verifyChain(links)).toMatchObject({ valid: true, length: 3 });
  });

  it.each<[string, Partial<ShownFields>]>([
    ['step', { bizStep: 'receiving' }],
    ['disposition', { disposition: 'recalled' }],
    ['time', { eventTime: '2027-01-01T00:00:00.000Z' }],
    ['time offset', { eventTimeOffset: '-05:00' }],
    ['organisation', { orgId: 'org-z' }],
  ])('reports hash_mismatch at a v2 link whose shown %s was changed', (_, change) => {
    const links = buildChain(4);
    links[2] = { ...links[2], shown: { ...(links[2].shown as ShownFields), ...change } };
    expect(verifyChain(links)).toMatchObject({ valid: false, brokenAt: { seq: 3, reason: 'hash_mismatch' } });
  });

  it('reports a v2 link relabelled as v1 (hash_mismatch) and a v1 link after v2 ones (version_downgrade)', () => {
    const relabelled = buildChain(3);
    relabelled[1] = { ...relabelled[1], version: 1 };
    expect(verifyChain(relabelled).brokenAt).toEqual({ seq: 2, reason: 'version_downgrade' });
    // Even with its hash recomputed under v1, a downgraded head is refused.
    const forged = buildChain(3);
    forged[2] = { ...forged[2], version: 1, shown: undefined, hash: linkHash(3, forged[2].prevHash, forged[2].content) };
    expect(verifyChain(forged).brokenAt).toEqual({ seq: 3, reason: 'version_downgrade' });
  });

  it('reports a v2 link stored without its shown fields', () => {
    const links = buildChain(2);
    links[1] = { ...links[1], shown: undefined };
    expect(verifyChain(links).brokenAt).toEqual({ seq: 2, reason: 'hash_mismatch' });
  });
});
