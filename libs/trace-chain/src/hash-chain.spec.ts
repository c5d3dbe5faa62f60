import { GENESIS_HASH, linkHash, nextLink, verifyChain, type ChainLink } from './hash-chain';

function buildChain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  for (let i = 0; i < n; i++) {
    links.push(nextLink(links[links.length - 1], { step: `step-${i + 1}`, qty: i * 10, meta: { i } }));
  }
  return links;
}

describe('nextLink', () => {
  it('starts a chain at seq 1 on the genesis hash', () => {
    const first = nextLink(undefined, { a: 1 });
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.hash).toBe(linkHash(1, GENESIS_HASH, { a: 1 }));
  });

  it('links each new entry to the previous hash', () => {
    const [a, b] = buildChain(2);
    expect(b.seq).toBe(2);
    expect(b.prevHash).toBe(a.hash);
    expect(b.hash).not.toBe(a.hash);
  });

  it('hashes content independently of key order', () => {
    expect(nextLink(undefined, { x: 1, y: 2 }).hash).toBe(nextLink(undefined, { y: 2, x: 1 }).hash);
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
    links[1] = { ...links[1], prevHash: forgedPrev, hash: linkHash(2, forgedPrev, links[1].content) };
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
    links[1] = { ...links[1], content, hash: linkHash(2, links[1].prevHash, content) };
    expect(verifyChain(links).brokenAt).toEqual({ seq: 3, reason: 'prev_hash_mismatch' });
  });
});
