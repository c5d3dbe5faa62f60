import { randomUUID } from 'node:crypto';
import { formatUuid, LineageGraph, parseUuid, type NodeRecord, type ScopeColumns } from './lineage-graph';

const node = (batchId: string, over: Partial<NodeRecord> = {}): NodeRecord => ({
  batchId,
  domain: 'agri',
  gtin: '09506000134352',
  lot: `L-${batchId.slice(0, 4)}`,
  status: 'active',
  registered: true,
  ownerOrgId: 'org-a',
  holderOrgId: 'org-a',
  inTransitToOrgId: null,
  version: 1,
  ...over,
});

const ids = (r: { nodes: { batchId: string }[] } | undefined) => r!.nodes.map((n) => n.batchId).sort();
const edgeSet = (r: { edges: { from: string; to: string }[] } | undefined) => r!.edges.map((e) => `${e.from}>${e.to}`).sort();

describe('uuid words', () => {
  it('round-trips any UUID through four 32-bit words', () => {
    const words = new Uint32Array(4);
    for (const id of [randomUUID(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff']) {
      expect(parseUuid(id, words)).toBe(true);
      expect(formatUuid(words)).toBe(id);
    }
    expect(parseUuid('5B6E8C1E-3F0A-4C1B-9A8E-2D7F6A1B3C4D', words)).toBe(true);
    expect(formatUuid(words)).toBe('5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
  });

  it('refuses what is not a canonical UUID', () => {
    const words = new Uint32Array(4);
    for (const bad of ['', 'not-a-uuid', '5b6e8c1e3f0a4c1b9a8e2d7f6a1b3c4d', '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4g', '5b6e8c1e-3f0a-4c1b-9a8e_2d7f6a1b3c4d']) {
      expect(parseUuid(bad, words)).toBe(false);
    }
  });
});

describe('LineageGraph', () => {
  //   a ─┐
  //      ├─> c ──> d ──> e
  //   b ─┘     └──────────> f
  const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => randomUUID());
  const build = () => {
    const g = new LineageGraph();
    for (const id of [a, b, c, d, e, f]) g.upsertNode(node(id));
    g.addEdge(a, c, 'input');
    g.addEdge(b, c, 'input');
    g.addEdge(c, d, 'input');
    g.addEdge(d, e, 'input');
    g.addEdge(c, f, 'input');
    return g;
  };

  it('walks downstream, upstream and both, within the depth', () => {
    const g = build();
    expect(ids(g.trace(a, 'downstream', 10))).toEqual([a, c, d, e, f].sort());
    expect(ids(g.trace(a, 'downstream', 1))).toEqual([a, c].sort());
    expect(ids(g.trace(a, 'downstream', 2))).toEqual([a, c, d, f].sort());
    expect(ids(g.trace(e, 'upstream', 10))).toEqual([a, b, c, d, e].sort());
    expect(ids(g.trace(e, 'upstream', 2))).toEqual([c, d, e].sort());
    expect(ids(g.trace(d, 'both', 1))).toEqual([c, d, e].sort());
    // both = the upstream walk plus the downstream walk, not a walk through siblings
    expect(ids(g.trace(c, 'both', 10))).toEqual([a, b, c, d, e, f].sort());
    expect(ids(g.trace(a, 'both', 10))).not.toContain(b);
    const r = g.trace(c, 'both', 1)!;
    expect(r.nodes[0].batchId).toBe(c);
    expect(edgeSet(r)).toEqual([`${a}>${c}`, `${b}>${c}`, `${c}>${d}`, `${c}>${f}`].sort());
    expect(r.edges.every((x) => x.kind === 'input')).toBe(true);
  });

  it('reports the node fields and unknown roots', () => {
    const g = build();
    g.upsertNode(node(e, { status: 'recalled', holderOrgId: 'org-b', inTransitToOrgId: 'org-c', lot: 'Lot 7 ü', version: 2 }));
    const r = g.trace(e, 'upstream', 1)!;
    expect(r.nodes[0]).toEqual({
      domain: 'agri',
      batchId: e,
      gtin: '09506000134352',
      lot: 'Lot 7 ü',
      status: 'recalled',
      holderOrgId: 'org-b',
      ownerOrgId: 'org-a',
      inTransitToOrgId: 'org-c',
      registered: true,
    });
    expect(g.trace(randomUUID(), 'both', 10)).toBeUndefined();
    expect(g.trace('not-a-uuid', 'both', 10)).toBeUndefined();
    expect(g.domain(e)).toBe('agri');
    expect(g.domain(randomUUID())).toBeUndefined();
  });

  it('keeps the newest version of a node whatever the order it arrives in', () => {
    const g = new LineageGraph();
    expect(g.upsertNode(node(a, { status: 'destroyed', version: 3 }))).toBe(true);
    expect(g.upsertNode(node(a, { status: 'recalled', version: 2 }))).toBe(false);
    expect(g.upsertNode(node(a, { status: 'recalled', version: 3 }))).toBe(false);
    expect(g.node(a)!.status).toBe('destroyed');
    expect(g.upsertNode(node(a, { status: 'dispensed', version: 4 }))).toBe(true);
    expect(g.node(a)!.status).toBe('dispensed');
  });

  it('completes a placeholder when its registration arrives', () => {
    const g = new LineageGraph();
    g.upsertNode(node(a, { gtin: null, lot: null, registered: false, ownerOrgId: null, holderOrgId: null, domain: 'food' }));
    expect(g.node(a)).toMatchObject({ registered: false, gtin: null, lot: null, domain: 'food' });
    g.upsertNode(node(a, { version: 2 }));
    expect(g.node(a)).toMatchObject({ registered: true, gtin: '09506000134352', domain: 'agri', holderOrgId: 'org-a' });
  });

  it('adds an edge once, and takes edges to nodes it has not seen yet', () => {
    const g = new LineageGraph();
    expect(g.addEdge(a, b, 'input')).toBe(true);
    expect(g.addEdge(a, b, 'input')).toBe(false);
    expect(g.addEdge(a, b, 'shipment')).toBe(true);
    expect(g.edges).toBe(2);
    expect(g.nodes).toBe(2);
    // Known only from the edge until its row arrives: no domain yet, so no trace can root there.
    expect(g.domain(b)).toBeUndefined();
    expect(ids(g.trace(a, 'downstream', 5))).toEqual([a, b].sort());
    expect(g.trace(a, 'downstream', 5)!.edges).toHaveLength(2);
  });

  it('terminates on cycles and reports each edge once', () => {
    const g = new LineageGraph();
    for (const id of [a, b, c]) g.upsertNode(node(id));
    g.addEdge(a, b, 'input');
    g.addEdge(b, c, 'input');
    g.addEdge(c, a, 'input');
    const r = g.trace(a, 'both', 50)!;
    expect(ids(r)).toEqual([a, b, c].sort());
    expect(edgeSet(r)).toEqual([`${a}>${b}`, `${b}>${c}`, `${c}>${a}`].sort());
  });

  it('grows past its initial capacity and answers repeated traces the same', () => {
    const g = new LineageGraph({ nodes: 16, edges: 16 });
    const chain = Array.from({ length: 5000 }, () => randomUUID());
    chain.forEach((id, i) => {
      g.upsertNode(node(id, { lot: `lot-${i}` }));
      if (i > 0) g.addEdge(chain[i - 1], id, 'input');
    });
    // a fan-in: many inputs into the last batch
    const fan = Array.from({ length: 300 }, () => randomUUID());
    for (const id of fan) g.addEdgeUnchecked(id, chain[4999], 'input');
    expect(g.nodes).toBe(5300);
    expect(g.edges).toBe(5299);
    expect(g.node(chain[1234])!.lot).toBe('lot-1234');
    const down = g.trace(chain[0], 'downstream', 50)!;
    expect(down.nodes).toHaveLength(51);
    expect(down.edges).toHaveLength(50);
    const up = g.trace(chain[4999], 'upstream', 2)!;
    expect(up.nodes).toHaveLength(1 + 1 + 300 + 1);
    for (let i = 0; i < 3; i++) expect(g.trace(chain[0], 'downstream', 50)).toEqual(down);
    expect(g.memoryBytes()).toBeGreaterThan(0);
  });
});

/** The scope's columns as one object per batch, for readable assertions. */
const scopeRows = (answer: ScopeColumns | { unknown: string }) => {
  if ('unknown' in answer) throw new Error(`unexpected unknown root ${answer.unknown}`);
  return answer.batchId.map((batchId, i) => ({
    batchId,
    domain: answer.domain[i],
    holderOrgId: answer.holderOrgId[i],
    quantity: answer.quantityValue[i] === null ? null : { value: answer.quantityValue[i], unit: answer.quantityUnit[i] },
    locationId: answer.locationId[i],
    root: i < answer.roots,
  }));
};

describe('LineageGraph.downstreamScope (recall scope)', () => {
  it('gives the roots first, then everything downstream of any of them once, with quantity and location', () => {
    const g = new LineageGraph();
    const [a, b, c, d, e, other] = Array.from({ length: 6 }, () => randomUUID());
    g.upsertNode(node(a, { quantity: 1000, unit: 'kg', locationId: 'farm-1' }));
    g.upsertNode(node(b, { domain: 'food', quantity: 40, unit: 'box', locationId: 'plant-1', holderOrgId: 'org-b' }));
    g.upsertNode(node(c, { domain: 'food' }));
    g.upsertNode(node(d, { domain: 'food' }));
    g.upsertNode(node(e, { domain: 'agri' }));
    g.upsertNode(node(other));
    // a → b → d, a → c → d (a diamond), e → c; `other` is unrelated.
    g.addEdge(a, b, 'input');
    g.addEdge(a, c, 'input');
    g.addEdge(b, d, 'input');
    g.addEdge(c, d, 'input');
    g.addEdge(e, c, 'input');

    const rows = scopeRows(g.downstreamScope([e, a]));
    expect(rows.map((n) => n.batchId).slice(0, 2)).toEqual([e, a]);
    expect(rows.map((n) => n.batchId).sort()).toEqual([a, b, c, d, e].sort());
    expect(rows.filter((n) => n.root).map((n) => n.batchId)).toEqual([e, a]);
    expect(rows.find((n) => n.batchId === a)).toMatchObject({ domain: 'agri', quantity: { value: 1000, unit: 'kg' }, locationId: 'farm-1' });
    expect(rows.find((n) => n.batchId === b)).toMatchObject({ domain: 'food', holderOrgId: 'org-b', quantity: { value: 40, unit: 'box' } });
    expect(rows.find((n) => n.batchId === d)).toMatchObject({ quantity: null, locationId: null });
  });

  it('names a root it does not know (or knows only from an edge) instead of answering', () => {
    const g = new LineageGraph();
    const [a, placeholder, stranger] = [randomUUID(), randomUUID(), randomUUID()];
    g.upsertNode(node(a));
    g.addEdge(placeholder, a, 'input');
    expect(g.downstreamScope([a, stranger])).toEqual({ unknown: stranger });
    expect(g.downstreamScope([placeholder])).toEqual({ unknown: placeholder });
  });

  it('sizes a scope without building it: batches a domain owns, not nodes known only from an edge', () => {
    const g = new LineageGraph();
    const [a, b, c, placeholder, stranger] = Array.from({ length: 5 }, () => randomUUID());
    g.upsertNode(node(a));
    g.upsertNode(node(b, { domain: 'food' }));
    g.upsertNode(node(c, { domain: 'food' }));
    g.addEdge(a, b, 'input');
    g.addEdge(b, c, 'input');
    g.addEdge(a, c, 'input');
    g.addEdge(c, placeholder, 'input');
    expect(g.downstreamSize([a])).toBe(3);
    expect(g.downstreamSize([b, a])).toBe(3);
    expect(g.downstreamSize([c])).toBe(1);
    expect(scopeRows(g.downstreamScope([a]))).toHaveLength(4); // the placeholder is in the scope, domain unknown
    expect(g.downstreamSize([a, stranger])).toEqual({ unknown: stranger });
  });

  it('takes the quantity of the newer row version', () => {
    const g = new LineageGraph();
    const a = randomUUID();
    g.upsertNode(node(a, { quantity: 5, unit: 'kg', version: 1 }));
    g.upsertNode(node(a, { quantity: 3, unit: 'kg', version: 2 }));
    expect(scopeRows(g.downstreamScope([a]))[0].quantity).toEqual({ value: 3, unit: 'kg' });
  });
});
