/**
 * Recall scope in memory: the downstream closure the lineage service computes
 * for `POST /v1/recalls` (LineageScopeQuery → LineageGraph.downstreamScope:
 * one walk over the integer graph, one object per batch of the answer, with
 * quantity and location), on a generated graph of 1,000,000 batches and ~2,000,000
 * edges in which one root lot feeds ~10,000 downstream batches.
 *
 *   node scripts/run.js scripts/bench/recall-scope.ts [nodes=1000000] [runs=200]
 *
 * No database: this measures the walk itself. The database-backed graph load
 * and the trace path are measured by lineage-trace.ts.
 */
import { randomUUID } from 'node:crypto';
import { LineageGraph } from '../../services/lineage/src/lineage-graph';

function main() {
  const [nodesArg, runsArg] = process.argv.slice(3);
  const total = Number(nodesArg ?? 1_000_000);
  const runs = Number(runsArg ?? 200);
  const t0 = Date.now();
  const graph = new LineageGraph({ nodes: total, edges: total * 2 + 100_000 });
  const ids: string[] = new Array(total);
  const domains = ['agri', 'food', 'drug', 'material', 'goods'];
  for (let i = 0; i < total; i++) {
    ids[i] = randomUUID();
    graph.upsertNode({
      batchId: ids[i],
      domain: domains[i % 5],
      gtin: '09506000134352',
      lot: `L${i}`,
      status: 'active',
      registered: true,
      ownerOrgId: `org-${i % 997}`,
      holderOrgId: `org-${i % 991}`,
      inTransitToOrgId: null,
      version: 1,
      quantity: 100 + (i % 900),
      unit: i % 2 ? 'kg' : 'box',
      locationId: `loc-${i % 50_021}`,
    });
  }
  // Background: 10 layers; each batch made of 2 inputs from the previous layer, nearby (regional chains).
  const layer = Math.floor(total / 10);
  let edges = 0;
  for (let i = layer; i < total; i++) {
    const base = i - layer;
    for (let k = 0; k < 2; k++) {
      const from = Math.max(0, Math.min(total - 1, base + ((i * 7 + k * 13) % 41) - 20));
      if (graph.addEdge(ids[from], ids[i], 'input')) edges++;
    }
  }
  // The recalled root: a commodity lot feeding a fan-out tree of ~11,000 batches over 4 levels.
  const root = randomUUID();
  graph.upsertNode({ batchId: root, domain: 'agri', gtin: '09506000134352', lot: 'ROOT', status: 'active', registered: true, ownerOrgId: 'farm', holderOrgId: 'farm', inTransitToOrgId: null, version: 1 });
  let frontier: string[] = [root];
  let fed = 0;
  for (const fanout of [10, 10, 10, 10]) {
    const next: string[] = [];
    for (const parent of frontier) {
      for (let f = 0; f < fanout; f++) {
        // Children come from the last background layer, which feeds nothing else, so the
        // scope is the ~11,110 batches of this tree (plus nothing the background adds).
        const child = ids[9 * layer + ((fed * 104_729 + 17) % (total - 9 * layer))];
        fed++;
        if (graph.addEdge(parent, child, 'input')) edges++;
        next.push(child);
      }
    }
    frontier = next;
  }
  const built = Date.now() - t0;
  const sizes: number[] = [];
  const times: number[] = [];
  for (let r = 0; r < runs + 5; r++) {
    const started = process.hrtime.bigint();
    const scope = graph.downstreamScope([root]);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if ('unknown' in scope) throw new Error('root unknown');
    if (r >= 5) {
      times.push(ms);
      sizes.push(scope.batchId.length);
    }
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(2);
  console.log(
    JSON.stringify({
      nodes: total + 1,
      edges,
      buildSeconds: built / 1000,
      scopeBatches: sizes[0],
      runs,
      p50ms: pct(50),
      p95ms: pct(95),
      p99ms: pct(99),
      maxMs: times[times.length - 1].toFixed(1),
      graphMB: Math.round(graph.memoryBytes() / 1e6),
    }),
  );
}

main();
