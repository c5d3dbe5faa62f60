import { Controller, Get, Inject, Param, ParseIntPipe, ParseUUIDPipe, Query, DefaultValuePipe, ParseEnumPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { badRequest, notFound, Roles } from '@trace/platform';

enum Direction {
  upstream = 'upstream',
  downstream = 'downstream',
  both = 'both',
}

const DOMAINS = new Set(['agri', 'food', 'drug', 'material', 'goods']);

interface NodeRow {
  batch_id: string;
  domain: string;
  gtin: string;
  lot: string;
  status: string;
  holder_org_id: string;
}

@ApiTags('trace')
@ApiBearerAuth()
@Controller('v1/trace')
export class TraceController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get(':domain/:batchId')
  @Roles('inspector', 'regulator', 'operator')
  @ApiOkResponse({ description: 'Nodes and edges reachable from the batch' })
  async trace(
    @Param('domain') domain: string,
    @Param('batchId', new ParseUUIDPipe()) batchId: string,
    @Query('direction', new DefaultValuePipe('both'), new ParseEnumPipe(Direction)) direction: Direction,
    @Query('depth', new DefaultValuePipe(10), ParseIntPipe) depth: number,
  ) {
    if (!DOMAINS.has(domain)) throw badRequest('domain', `unknown domain ${domain}`);
    if (depth < 1 || depth > 50) throw badRequest('depth', 'depth must be between 1 and 50');
    const root: NodeRow[] = await this.ds.query('SELECT * FROM lineage_nodes WHERE batch_id = $1 AND domain = $2', [batchId, domain]);
    if (root.length === 0) throw notFound('batch', `No batch ${batchId} in ${domain}`);
    const edges: { from_batch: string; to_batch: string; kind: string }[] = [];
    if (direction !== Direction.upstream) edges.push(...(await this.walk(batchId, depth, 'down')));
    if (direction !== Direction.downstream) edges.push(...(await this.walk(batchId, depth, 'up')));
    const ids = [...new Set([batchId, ...edges.flatMap((e) => [e.from_batch, e.to_batch])])];
    const nodes: NodeRow[] = await this.ds.query('SELECT * FROM lineage_nodes WHERE batch_id = ANY($1::uuid[])', [ids]);
    return {
      root: { domain, batchId },
      nodes: nodes.map((n) => ({
        domain: n.domain,
        batchId: n.batch_id,
        gtin: n.gtin,
        lot: n.lot,
        status: n.status,
        holderOrgId: n.holder_org_id,
      })),
      edges: edges.map((e) => ({ from: e.from_batch, to: e.to_batch, kind: e.kind })),
    };
  }

  private walk(start: string, depth: number, dir: 'up' | 'down') {
    const [near, far] = dir === 'down' ? ['from_batch', 'to_batch'] : ['to_batch', 'from_batch'];
    return this.ds.query(
      `WITH RECURSIVE walk(from_batch, to_batch, kind, depth) AS (
         SELECT from_batch, to_batch, kind, 1 FROM lineage_edges WHERE ${near} = $1
         UNION
         SELECT e.from_batch, e.to_batch, e.kind, w.depth + 1
           FROM lineage_edges e JOIN walk w ON e.${near} = w.${far}
          WHERE w.depth < $2)
       SELECT DISTINCT from_batch, to_batch, kind FROM walk`,
      [start, depth],
    );
  }
}
