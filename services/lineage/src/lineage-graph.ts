/**
 * The in-memory lineage graph every trace is answered from: batches are dense
 * integer ids, and everything about them lives in typed arrays (no object per
 * node or per edge), so a million batches and two million edges take about
 * 160 MB (with 20 % headroom) and a trace of a few hundred nodes is a few
 * thousand array reads: about a millisecond at p99 (scripts/bench/README.md).
 *
 * Adjacency is a "forward star": one record per edge (from, to, kind) threaded
 * on two linked lists, the out-list of its source and the in-list of its
 * target. It is CSR's growable sibling: appending an edge is O(1) and never
 * needs a compaction pass, so edges projected while the service runs cost the
 * same as edges loaded at start-up, and no rebuild pause ever stalls a trace.
 *
 * This is a cache of the lineage tables, never the truth: the tables are,
 * and the graph is rebuilt from them at start-up (see LineageIndex).
 * No I/O and no framework here, so it is unit-tested on its own.
 */

import { DOMAINS as DOMAIN_NAMES, type DomainName, type LineageScopeColumns } from '@trace/contracts';

export { DOMAIN_NAMES, type DomainName };
export const NODE_STATUSES = ['active', 'held', 'recalled', 'destroyed', 'dispensed'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
export const EDGE_KINDS = ['input', 'shipment'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];
export type Direction = 'upstream' | 'downstream' | 'both';

/** A node as the lineage_nodes table holds it (and as the graph takes it). */
export interface NodeRecord {
  batchId: string;
  domain: string;
  gtin: string | null;
  lot: string | null;
  status: string;
  registered: boolean;
  ownerOrgId: string | null;
  holderOrgId: string | null;
  inTransitToOrgId: string | null;
  /** Row version, incremented by every update: an older copy never overwrites a newer one. */
  version: number;
  /** What the batch holds now, and in what unit; null until known. */
  quantity?: number | null;
  unit?: string | null;
  /** Where the batch is (made or last received). */
  locationId?: string | null;
}

export interface TraceNode {
  domain: string;
  batchId: string;
  gtin: string | null;
  lot: string | null;
  status: string;
  holderOrgId: string | null;
  ownerOrgId: string | null;
  /** Set while a shipment is on its way to this organisation. */
  inTransitToOrgId: string | null;
  /** False for a batch known only from references (its registration has not arrived yet). */
  registered: boolean;
}

export interface TraceEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

/** A recall scope column by column: the LINEAGE_SCOPE port's answer (a type only; no runtime import). */
export type ScopeColumns = LineageScopeColumns;

export interface TraceResult {
  nodes: TraceNode[];
  edges: TraceEdge[];
}

const REGISTERED = 0x08;
const STATUS_MASK = 0x07;
const NONE = -1;

/** Interned strings (GTINs, organisation ids): few distinct values shared by many nodes. */
class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [''];

  id(value: string | null): number {
    if (value === null || value === '') return 0;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  value(id: number): string | null {
    return id === 0 ? null : this.values[id];
  }

  approxBytes(): number {
    let chars = 0;
    for (const v of this.values) chars += v.length;
    return this.values.length * 64 + chars * 2;
  }
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Parses a canonical UUID (8-4-4-4-12 hex) into four 32-bit words; false when it is not one. */
export function parseUuid(s: string, out: Uint32Array, at = 0): boolean {
  if (s.length !== 36) return false;
  let word = 0;
  let digits = 0;
  let w = at;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = c < 128 ? HEX_VALUE[c] : -1;
    if (v < 0) return false;
    word = (word << 4) | v;
    if (++digits === 8) {
      out[w++] = word >>> 0;
      word = 0;
      digits = 0;
    }
  }
  return true;
}

/** ASCII hex digits of every byte value, two per byte. */
const HEX_DIGITS = Buffer.from(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''), 'latin1');
/** Where each of the 16 bytes goes in the 36 characters of 8-4-4-4-12. */
const UUID_POSITIONS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const uuidText = Buffer.alloc(36, '-');

/**
 * The canonical lower-case text of four 32-bit words. Written byte by byte
 * into one scratch buffer and read out as a single string: building it with
 * `+` would leave some twenty intermediate strings per id for the garbage
 * collector, which dominated a ten-thousand-batch recall scope.
 */
export function formatUuid(words: Uint32Array, at = 0): string {
  for (let w = 0; w < 4; w++) {
    const v = words[at + w];
    for (let b = 0; b < 4; b++) {
      const byte = (v >>> (24 - 8 * b)) & 255;
      const p = UUID_POSITIONS[w * 4 + b];
      uuidText[p] = HEX_DIGITS[byte * 2];
      uuidText[p + 1] = HEX_DIGITS[byte * 2 + 1];
    }
  }
  return uuidText.toString('latin1', 0, 36);
}

function hashWords(a: number, b: number, c: number, d: number): number {
  // murmur3 fmix32 over a mix of all four words: UUIDs from other generators
  // (v7, sequential) are not random in every word.
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35), 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function grow<T extends Uint8Array | Uint32Array | Int32Array>(a: T, size: number, fill?: number): T {
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a);
  if (fill !== undefined) next.fill(fill, a.length);
  return next;
}

function growFloat(a: Float64Array, size: number): Float64Array {
  const next = new Float64Array(size).fill(NaN);
  next.set(a);
  return next;
}

export interface GraphCapacity {
  nodes?: number;
  edges?: number;
}

export class LineageGraph {
  private nodeCount = 0;
  private nodeCap: number;
  private uuids: Uint32Array;
  private slots: Int32Array;
  private slotMask: number;
  private domainOf: Uint8Array;
  private flags: Uint8Array;
  private gtinOf: Uint32Array;
  private lotStart: Uint32Array;
  private lotLength: Uint32Array;
  private lotBytes: Buffer;
  private lotUsed = 0;
  private ownerOf: Uint32Array;
  private holderOf: Uint32Array;
  private transitOf: Uint32Array;
  private versionOf: Uint32Array;
  /** NaN while unknown. */
  private quantityOf: Float64Array;
  private unitOf: Uint32Array;
  private locationOf: Uint32Array;
  private headOut: Int32Array;
  private headIn: Int32Array;
  private seenDown: Uint32Array;
  private seenUp: Uint32Array;
  private inResult: Uint32Array;
  private resultPos: Int32Array;

  private edgeCount = 0;
  private edgeCap: number;
  private edgeFrom: Int32Array;
  private edgeTo: Int32Array;
  private edgeKind: Uint8Array;
  private nextOut: Int32Array;
  private nextIn: Int32Array;
  private edgeSeen: Uint32Array;

  private readonly gtins = new Interner();
  private readonly orgs = new Interner();
  private readonly units = new Interner();
  private readonly locations = new Interner();
  private epoch = 0;
  private queue = new Int32Array(1024);
  private readonly scratch = new Uint32Array(4);

  constructor(capacity: GraphCapacity = {}) {
    this.nodeCap = Math.max(16, capacity.nodes ?? 0);
    this.edgeCap = Math.max(16, capacity.edges ?? 0);
    const n = this.nodeCap;
    this.uuids = new Uint32Array(n * 4);
    let slots = 16;
    while (slots < n * 2) slots *= 2;
    this.slots = new Int32Array(slots).fill(NONE);
    this.slotMask = slots - 1;
    this.domainOf = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.gtinOf = new Uint32Array(n);
    this.lotStart = new Uint32Array(n);
    this.lotLength = new Uint32Array(n);
    this.lotBytes = Buffer.allocUnsafe(Math.max(256, n * 12));
    this.ownerOf = new Uint32Array(n);
    this.holderOf = new Uint32Array(n);
    this.transitOf = new Uint32Array(n);
    this.versionOf = new Uint32Array(n);
    this.quantityOf = new Float64Array(n).fill(NaN);
    this.unitOf = new Uint32Array(n);
    this.locationOf = new Uint32Array(n);
    this.headOut = new Int32Array(n).fill(NONE);
    this.headIn = new Int32Array(n).fill(NONE);
    this.seenDown = new Uint32Array(n);
    this.seenUp = new Uint32Array(n);
    this.inResult = new Uint32Array(n);
    this.resultPos = new Int32Array(n);
    const m = this.edgeCap;
    this.edgeFrom = new Int32Array(m);
    this.edgeTo = new Int32Array(m);
    this.edgeKind = new Uint8Array(m);
    this.nextOut = new Int32Array(m);
    this.nextIn = new Int32Array(m);
    this.edgeSeen = new Uint32Array(m);
  }

  get nodes(): number {
    return this.nodeCount;
  }

  get edges(): number {
    return this.edgeCount;
  }

  /** Bytes held by the typed arrays and interned strings (what a million nodes cost). */
  memoryBytes(): number {
    const arrays = [
      this.uuids, this.slots, this.domainOf, this.flags, this.gtinOf, this.lotStart, this.lotLength, this.ownerOf,
      this.holderOf, this.transitOf, this.versionOf, this.quantityOf, this.unitOf, this.locationOf, this.headOut, this.headIn, this.seenDown, this.seenUp, this.inResult,
      this.resultPos, this.edgeFrom, this.edgeTo, this.edgeKind, this.nextOut, this.nextIn, this.edgeSeen, this.queue,
    ];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0) + this.lotBytes.byteLength + this.gtins.approxBytes() + this.orgs.approxBytes() +
      this.units.approxBytes() + this.locations.approxBytes();
  }

  has(batchId: string): boolean {
    return this.find(batchId) !== NONE;
  }

  /** The node's current state, or undefined when the graph does not know it. */
  node(batchId: string): TraceNode | undefined {
    const i = this.find(batchId);
    return i === NONE ? undefined : this.view(i, batchId);
  }

  /**
   * Applies a row of lineage_nodes. Returns false (and changes nothing) when
   * the graph already holds this version or a newer one, so the same row may
   * arrive from the projector and from a catch-up in either order.
   */
  upsertNode(r: NodeRecord): boolean {
    if (!Number.isInteger(r.version) || r.version < 1) throw new Error(`bad node version ${r.version}`);
    const i = this.intern(r.batchId);
    if (r.version <= this.versionOf[i]) return false;
    const domain = DOMAIN_NAMES.indexOf(r.domain as DomainName);
    const status = NODE_STATUSES.indexOf(r.status as NodeStatus);
    if (domain < 0) throw new Error(`unknown domain ${r.domain}`);
    if (status < 0) throw new Error(`unknown status ${r.status}`);
    this.versionOf[i] = r.version >>> 0;
    this.domainOf[i] = domain + 1;
    this.flags[i] = status | (r.registered ? REGISTERED : 0);
    this.gtinOf[i] = this.gtins.id(r.gtin);
    this.setLot(i, r.lot);
    this.ownerOf[i] = this.orgs.id(r.ownerOrgId);
    this.holderOf[i] = this.orgs.id(r.holderOrgId);
    this.transitOf[i] = this.orgs.id(r.inTransitToOrgId);
    this.quantityOf[i] = r.quantity === null || r.quantity === undefined ? NaN : r.quantity;
    this.unitOf[i] = this.units.id(r.unit ?? null);
    this.locationOf[i] = this.locations.id(r.locationId ?? null);
    return true;
  }

  /** Adds an edge unless it is there already; unknown endpoints get an empty slot until their row arrives. */
  addEdge(from: string, to: string, kind: EdgeKind): boolean {
    const f = this.intern(from);
    const t = this.intern(to);
    const k = EDGE_KINDS.indexOf(kind);
    if (k < 0) throw new Error(`unknown edge kind ${kind}`);
    // The in-list of the output is its inputs: short even when the input is a
    // commodity lot feeding a hundred thousand batches.
    for (let e = this.headIn[t]; e !== NONE; e = this.nextIn[e]) {
      if (this.edgeFrom[e] === f && this.edgeKind[e] === k) return false;
    }
    this.appendEdge(f, t, k);
    return true;
  }

  /**
   * Adds an edge known to be new (the initial load, where the table's primary
   * key already guarantees it): no duplicate scan.
   */
  addEdgeUnchecked(from: string, to: string, kind: EdgeKind): void {
    const k = EDGE_KINDS.indexOf(kind);
    if (k < 0) throw new Error(`unknown edge kind ${kind}`);
    this.appendEdge(this.intern(from), this.intern(to), k);
  }

  /**
   * Everything reachable from the root within `depth` edges: following edges
   * forward (downstream: what was made from it), backward (upstream: what it
   * was made from) or both walks from the root. Every edge leaving a visited
   * node within the depth is reported once, so a diamond shows both paths.
   * Undefined when the root is unknown.
   */
  trace(batchId: string, direction: Direction, depth: number): TraceResult | undefined {
    const root = this.find(batchId);
    if (root === NONE) return undefined;
    const stamp = this.nextEpoch();
    const order: number[] = [root];
    const edges: number[] = [];
    this.inResult[root] = stamp;
    if (direction !== 'upstream') this.walk(root, depth, true, stamp, order, edges);
    if (direction !== 'downstream') this.walk(root, depth, false, stamp, order, edges);

    const nodes: TraceNode[] = new Array(order.length);
    const ids: string[] = new Array(order.length);
    for (let p = 0; p < order.length; p++) {
      const i = order[p];
      this.resultPos[i] = p;
      ids[p] = p === 0 ? batchId.toLowerCase() : formatUuid(this.uuids, i * 4);
      nodes[p] = this.view(i, ids[p]);
    }
    const out: TraceEdge[] = new Array(edges.length);
    for (let x = 0; x < edges.length; x++) {
      const e = edges[x];
      out[x] = {
        from: ids[this.resultPos[this.edgeFrom[e]]],
        to: ids[this.resultPos[this.edgeTo[e]]],
        kind: EDGE_KINDS[this.edgeKind[e]],
      };
    }
    return { nodes, edges: out };
  }

  /**
   * How many batches the scope of `roots` holds that a domain owns (a node
   * known only from an edge is not counted): what a recall's scope would
   * store. Without building the answer, for a recall asking "has anything
   * joined since?".
   */
  downstreamSize(roots: readonly string[]): number | { unknown: string } {
    const walked = this.downstream(roots);
    if ('unknown' in walked) return walked;
    let n = 0;
    for (let p = 0; p < walked.end; p++) if (this.domainOf[this.queue[p]] !== 0) n++;
    return n;
  }

  /** Breadth-first over outgoing edges from the roots, each node once: this.queue[0, end) holds them, roots first. */
  private downstream(roots: readonly string[]): { end: number; rootCount: number } | { unknown: string } {
    const stamp = this.nextEpoch();
    const seen = this.seenDown;
    let queue = this.queue;
    let end = 0;
    for (const r of roots) {
      const i = this.find(r);
      if (i === NONE || this.domainOf[i] === 0) return { unknown: r };
      if (seen[i] === stamp) continue;
      seen[i] = stamp;
      if (end === queue.length) queue = this.queue = grow(queue, queue.length * 2);
      queue[end++] = i;
    }
    const rootCount = end;
    for (let q = 0; q < end; q++) {
      for (let e = this.headOut[queue[q]]; e !== NONE; e = this.nextOut[e]) {
        const v = this.edgeTo[e];
        if (seen[v] === stamp) continue;
        seen[v] = stamp;
        if (end === queue.length) queue = this.queue = grow(queue, queue.length * 2);
        queue[end++] = v;
      }
    }
    return { end, rootCount };
  }

  /**
   * A recall's scope: the roots and every batch downstream of any of them
   * (what was made from them, at any depth), each once, roots first in the
   * order given. One walk from all roots together over the integer graph,
   * then the answer column by column: a few arrays and a string per batch id
   * and lot, no object per batch, so ten thousand batches stay within the
   * young generation's budget and a few milliseconds (object-per-batch answers
   * spent most of their time in the garbage collector). `unknown` names the
   * first root the graph does not know.
   */
  downstreamScope(roots: readonly string[]): ScopeColumns | { unknown: string } {
    const walked = this.downstream(roots);
    if ('unknown' in walked) return walked;
    const { end, rootCount } = walked;
    const queue = this.queue;
    const c: ScopeColumns = {
      roots: rootCount,
      batchId: new Array(end),
      domain: new Array(end),
      gtin: new Array(end),
      lot: new Array(end),
      status: new Array(end),
      holderOrgId: new Array(end),
      quantityValue: new Array(end),
      quantityUnit: new Array(end),
      locationId: new Array(end),
    };
    for (let p = 0; p < end; p++) {
      const i = queue[p];
      const d = this.domainOf[i];
      const len = this.lotLength[i];
      const q = this.quantityOf[i];
      c.batchId[p] = formatUuid(this.uuids, i * 4);
      c.domain[p] = d === 0 ? 'unknown' : DOMAIN_NAMES[d - 1];
      c.gtin[p] = this.gtins.value(this.gtinOf[i]);
      c.lot[p] = len === 0 ? null : this.lotBytes.toString('utf8', this.lotStart[i], this.lotStart[i] + len);
      c.status[p] = NODE_STATUSES[this.flags[i] & STATUS_MASK];
      c.holderOrgId[p] = this.orgs.value(this.holderOf[i]);
      c.quantityValue[p] = Number.isNaN(q) ? null : q;
      c.quantityUnit[p] = this.units.value(this.unitOf[i]);
      c.locationId[p] = this.locations.value(this.locationOf[i]);
    }
    return c;
  }

  private walk(root: number, depth: number, forward: boolean, stamp: number, order: number[], edges: number[]): void {
    const seen = forward ? this.seenDown : this.seenUp;
    const head = forward ? this.headOut : this.headIn;
    const next = forward ? this.nextOut : this.nextIn;
    const far = forward ? this.edgeTo : this.edgeFrom;
    seen[root] = stamp;
    let queue = this.queue;
    queue[0] = root;
    let start = 0;
    let end = 1;
    for (let level = 0; level < depth && start < end; level++) {
      const levelEnd = end;
      for (let q = start; q < levelEnd; q++) {
        for (let e = head[queue[q]]; e !== NONE; e = next[e]) {
          if (this.edgeSeen[e] !== stamp) {
            this.edgeSeen[e] = stamp;
            edges.push(e);
          }
          const v = far[e];
          if (seen[v] === stamp) continue;
          seen[v] = stamp;
          if (end === queue.length) {
            queue = grow(queue, queue.length * 2);
            this.queue = queue;
          }
          queue[end++] = v;
          if (this.inResult[v] !== stamp) {
            this.inResult[v] = stamp;
            order.push(v);
          }
        }
      }
      start = levelEnd;
    }
  }

  private view(i: number, batchId: string): TraceNode {
    const d = this.domainOf[i];
    const f = this.flags[i];
    const len = this.lotLength[i];
    return {
      domain: d === 0 ? 'unknown' : DOMAIN_NAMES[d - 1],
      batchId,
      gtin: this.gtins.value(this.gtinOf[i]),
      lot: len === 0 ? null : this.lotBytes.toString('utf8', this.lotStart[i], this.lotStart[i] + len),
      status: NODE_STATUSES[f & STATUS_MASK],
      holderOrgId: this.orgs.value(this.holderOf[i]),
      ownerOrgId: this.orgs.value(this.ownerOf[i]),
      inTransitToOrgId: this.orgs.value(this.transitOf[i]),
      registered: (f & REGISTERED) !== 0,
    };
  }

  /** The node's domain, or undefined when unknown or only referenced by an edge whose row has not arrived. */
  domain(batchId: string): string | undefined {
    const i = this.find(batchId);
    if (i === NONE || this.domainOf[i] === 0) return undefined;
    return DOMAIN_NAMES[this.domainOf[i] - 1];
  }

  private setLot(i: number, lot: string | null): void {
    if (lot === null || lot === '') {
      this.lotLength[i] = 0;
      return;
    }
    const current = this.lotLength[i];
    if (current > 0 && this.lotBytes.toString('utf8', this.lotStart[i], this.lotStart[i] + current) === lot) return;
    const bytes = Buffer.byteLength(lot, 'utf8');
    if (this.lotUsed + bytes > this.lotBytes.length) {
      const next = Buffer.allocUnsafe(Math.max(this.lotBytes.length * 2, this.lotUsed + bytes));
      this.lotBytes.copy(next, 0, 0, this.lotUsed);
      this.lotBytes = next;
    }
    this.lotBytes.write(lot, this.lotUsed, bytes, 'utf8');
    this.lotStart[i] = this.lotUsed;
    this.lotLength[i] = bytes;
    this.lotUsed += bytes;
  }

  private appendEdge(f: number, t: number, k: number): void {
    if (this.edgeCount === this.edgeCap) this.growEdges(Math.ceil(this.edgeCap * 1.5));
    const e = this.edgeCount++;
    this.edgeFrom[e] = f;
    this.edgeTo[e] = t;
    this.edgeKind[e] = k;
    this.nextOut[e] = this.headOut[f];
    this.headOut[f] = e;
    this.nextIn[e] = this.headIn[t];
    this.headIn[t] = e;
  }

  private find(batchId: string): number {
    const w = this.scratch;
    if (!parseUuid(batchId, w)) return NONE;
    return this.findWords(w[0], w[1], w[2], w[3]);
  }

  private findWords(a: number, b: number, c: number, d: number): number {
    const u = this.uuids;
    let s = hashWords(a, b, c, d) & this.slotMask;
    for (;;) {
      const i = this.slots[s];
      if (i === NONE) return NONE;
      const o = i * 4;
      if (u[o] === a && u[o + 1] === b && u[o + 2] === c && u[o + 3] === d) return i;
      s = (s + 1) & this.slotMask;
    }
  }

  /** The node's dense id, creating an empty node (version 0) when it is new. */
  private intern(batchId: string): number {
    const w = this.scratch;
    if (!parseUuid(batchId, w)) throw new Error(`not a UUID: ${batchId}`);
    const [a, b, c, d] = w;
    const found = this.findWords(a, b, c, d);
    if (found !== NONE) return found;
    if (this.nodeCount === this.nodeCap) this.growNodes(Math.ceil(this.nodeCap * 1.5));
    if ((this.nodeCount + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const i = this.nodeCount++;
    const o = i * 4;
    this.uuids[o] = a;
    this.uuids[o + 1] = b;
    this.uuids[o + 2] = c;
    this.uuids[o + 3] = d;
    this.place(i);
    return i;
  }

  private place(i: number): void {
    const o = i * 4;
    const u = this.uuids;
    let s = hashWords(u[o], u[o + 1], u[o + 2], u[o + 3]) & this.slotMask;
    while (this.slots[s] !== NONE) s = (s + 1) & this.slotMask;
    this.slots[s] = i;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(NONE);
    this.slotMask = size - 1;
    for (let i = 0; i < this.nodeCount; i++) this.place(i);
  }

  private growNodes(cap: number): void {
    this.uuids = grow(this.uuids, cap * 4);
    this.domainOf = grow(this.domainOf, cap);
    this.flags = grow(this.flags, cap);
    this.gtinOf = grow(this.gtinOf, cap);
    this.lotStart = grow(this.lotStart, cap);
    this.lotLength = grow(this.lotLength, cap);
    this.ownerOf = grow(this.ownerOf, cap);
    this.holderOf = grow(this.holderOf, cap);
    this.transitOf = grow(this.transitOf, cap);
    this.versionOf = grow(this.versionOf, cap);
    this.quantityOf = growFloat(this.quantityOf, cap);
    this.unitOf = grow(this.unitOf, cap);
    this.locationOf = grow(this.locationOf, cap);
    this.headOut = grow(this.headOut, cap, NONE);
    this.headIn = grow(this.headIn, cap, NONE);
    this.seenDown = grow(this.seenDown, cap);
    this.seenUp = grow(this.seenUp, cap);
    this.inResult = grow(this.inResult, cap);
    this.resultPos = grow(this.resultPos, cap);
    this.nodeCap = cap;
  }

  private growEdges(cap: number): void {
    this.edgeFrom = grow(this.edgeFrom, cap);
    this.edgeTo = grow(this.edgeTo, cap);
    this.edgeKind = grow(this.edgeKind, cap);
    this.nextOut = grow(this.nextOut, cap);
    this.nextIn = grow(this.nextIn, cap);
    this.edgeSeen = grow(this.edgeSeen, cap);
    this.edgeCap = cap;
  }

  private nextEpoch(): number {
    if (this.epoch === 0xffffffff) {
      // Stamps wrap after four billion traces: forget them all once.
      this.epoch = 0;
      this.seenDown.fill(0);
      this.seenUp.fill(0);
      this.inResult.fill(0);
      this.edgeSeen.fill(0);
    }
    return ++this.epoch;
  }
}
