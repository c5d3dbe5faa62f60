import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { unprocessable, type LineageScope, type LineageScopeAnswer, type LineageScopeBatch, type LineageScopeRoot } from '@trace/platform';
import { LineageIndex } from './lineage-index';

/** Deep enough for any real supply chain; the walk stops when nothing new is reached. */
const FULL_DEPTH = Number.MAX_SAFE_INTEGER;

/**
 * LINEAGE_SCOPE from this replica's in-memory graph: the roots and every batch
 * downstream of them (transformation edges, any depth, any domain), each once.
 * A root the graph misses but the table has (written by another replica a
 * moment ago) makes the graph catch up first; a root still unknown, or known
 * in another domain, is a 422.
 */
@Injectable()
export class LineageScopeQuery implements LineageScope {
  constructor(
    @Inject(LineageIndex) private readonly index: LineageIndex,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  async scope(roots: LineageScopeRoot[]): Promise<LineageScopeAnswer> {
    const ids = roots.map((r) => ({ domain: r.domain, batchId: r.batchId.toLowerCase() }));
    let graph = await this.index.current();
    const missing = ids.filter((r) => graph.domain(r.batchId) === undefined);
    if (missing.length && (await this.anyInTable(missing.map((r) => r.batchId)))) {
      await this.index.catchUp();
      graph = await this.index.current();
    }
    for (const r of ids) {
      if (graph.domain(r.batchId) !== r.domain) {
        throw unprocessable('unknown-batch', `No batch ${r.batchId} in ${r.domain}`, { batch: r });
      }
    }
    const byId = new Map<string, LineageScopeBatch>();
    const rootIds = new Set(ids.map((r) => r.batchId));
    for (const r of ids) {
      const result = graph.trace(r.batchId, 'downstream', FULL_DEPTH);
      if (!result) throw unprocessable('unknown-batch', `No batch ${r.batchId} in ${r.domain}`, { batch: r });
      for (const n of result.nodes) {
        if (byId.has(n.batchId)) continue;
        byId.set(n.batchId, {
          domain: n.domain,
          batchId: n.batchId,
          gtin: n.gtin,
          lot: n.lot,
          holderOrgId: n.holderOrgId,
          status: n.status,
          root: rootIds.has(n.batchId),
          quantity: null,
        });
      }
    }
    const batches = [...byId.values()];
    // Roots first, in the order named; then the rest as the walks found them.
    batches.sort((a, b) => Number(b.root) - Number(a.root));
    return { batches };
  }

  private async anyInTable(batchIds: string[]): Promise<boolean> {
    const rows: unknown[] = await this.ds.query('SELECT 1 FROM lineage_nodes WHERE batch_id = ANY($1::uuid[]) LIMIT 1', [batchIds]);
    return rows.length > 0;
  }
}
