import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LineageHolding, LineageScope, LineageScopeAnswer, LineageScopeRoot } from '@trace/contracts';
import { unprocessable } from '@trace/platform';
import { readHoldings } from './holdings.projection';
import { LineageIndex } from './lineage-index';

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
    const { graph, ids } = await this.graphKnowing(roots);
    const answer = graph.downstreamScope(ids);
    if ('unknown' in answer) throw unprocessable('unknown-batch', `No batch ${answer.unknown}`, { batch: answer.unknown });
    return { batches: answer };
  }

  async size(roots: LineageScopeRoot[]): Promise<number> {
    const { graph, ids } = await this.graphKnowing(roots);
    const size = graph.downstreamSize(ids);
    if (typeof size !== 'number') throw unprocessable('unknown-batch', `No batch ${size.unknown}`, { batch: size.unknown });
    return size;
  }

  /** Holdings of the named batches (a recall names its whole scope). */
  async holdings(batchIds: string[]): Promise<LineageHolding[]> {
    return readHoldings(this.ds.manager, batchIds.map((id) => id.toLowerCase()));
  }

  /** The graph, caught up first when it misses a root the table has; 422 for a root unknown, or known in another domain. */
  private async graphKnowing(roots: LineageScopeRoot[]) {
    const named = roots.map((r) => ({ domain: r.domain, batchId: r.batchId.toLowerCase() }));
    let graph = await this.index.current();
    const missing = named.filter((r) => graph.domain(r.batchId) === undefined);
    if (missing.length && (await this.anyInTable(missing.map((r) => r.batchId)))) {
      await this.index.catchUp();
      graph = await this.index.current();
    }
    for (const r of named) {
      if (graph.domain(r.batchId) !== r.domain) {
        throw unprocessable('unknown-batch', `No batch ${r.batchId} in ${r.domain}`, { batch: r });
      }
    }
    return { graph, ids: named.map((r) => r.batchId) };
  }

  private async anyInTable(batchIds: string[]): Promise<boolean> {
    const rows: unknown[] = await this.ds.query('SELECT 1 FROM lineage_nodes WHERE batch_id = ANY($1::uuid[]) LIMIT 1', [batchIds]);
    return rows.length > 0;
  }
}
