import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { notFound, type Principal } from '@trace/platform';
import { LineageIndex } from './lineage-index';
import type { Direction, TraceEdge, TraceNode } from './lineage-graph';

export interface TraceRequest {
  domain: string;
  batchId: string;
  direction: Direction;
  depth: number;
}

export interface TraceAnswer {
  root: { domain: string; batchId: string };
  nodes: TraceNode[];
  edges: TraceEdge[];
}

/**
 * Answers a trace from this replica's in-memory graph (LineageIndex); the
 * database is asked only what the graph cannot say: whether an operator's
 * organisation owns, holds or held the root (one primary-key probe of
 * lineage_custody), and whether a batch the graph misses was just written by
 * another replica (then the graph catches up before answering).
 * The controller and the benchmark both call this.
 */
@Injectable()
export class TraceQuery {
  constructor(
    @Inject(LineageIndex) private readonly index: LineageIndex,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  async trace(req: TraceRequest, principal: Principal): Promise<TraceAnswer> {
    const batchId = req.batchId.toLowerCase();
    let graph = await this.index.current();
    if (graph.domain(batchId) === undefined && (await this.inTable(batchId))) {
      await this.index.catchUp();
      graph = await this.index.current();
    }
    if (graph.domain(batchId) !== req.domain) throw this.unknown(req);
    if (principal.role === 'operator' && !(await this.isCustodian(batchId, principal.orgId))) throw this.unknown(req);
    const result = graph.trace(batchId, req.direction, req.depth);
    if (!result) throw this.unknown(req);
    return { root: { domain: req.domain, batchId }, nodes: result.nodes, edges: result.edges };
  }

  private async inTable(batchId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query('SELECT 1 FROM lineage_nodes WHERE batch_id = $1', [batchId]);
    return rows.length > 0;
  }

  /**
   * The one query on an operator's hot path: straight on the DataSource's pg
   * pool as a named (per-connection prepared) statement, without a TypeORM
   * query runner around it.
   */
  private async isCustodian(batchId: string, orgId: string): Promise<boolean> {
    const pool = (this.ds.driver as unknown as { master: Pool }).master;
    const r = await pool.query({
      name: 'lineage_custody_probe',
      text: 'SELECT 1 FROM lineage_custody WHERE batch_id = $1 AND org_id = $2',
      values: [batchId, orgId],
    });
    return r.rowCount !== null && r.rowCount > 0;
  }

  // Another organisation's batch is as unknown to an operator as a batch that does not exist.
  private unknown(req: TraceRequest) {
    return notFound('batch', `No batch ${req.batchId} in ${req.domain}`);
  }
}
