import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DIRECTORY, notFound, type Directory, type Principal } from '@trace/platform';
import { LineageIndex } from '../lineage-index';
import { buildFsmaRows, type ChainEventRecord, type FsmaRow, type LocationFacts, type LotRecord, type SheetFilter } from './fsma-sheet';

/** Every lot the traced one touched, however far up or down: the walk stops when nothing new is reached. */
const FULL_DEPTH = Number.MAX_SAFE_INTEGER;

/** Look-ups in flight at once: in distributed mode each is an HTTP call to the gateway (cached there after). */
const DIRECTORY_CONCURRENCY = 16;

async function eachBounded<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(DIRECTORY_CONCURRENCY, items.length) }, worker));
}

export interface FsmaRequest extends SheetFilter {
  gtin: string;
  lot: string;
}

interface LotRow {
  batch_id: string;
  domain: string;
  gtin: string;
  lot: string;
  product_name: string | null;
  owner_org_id: string;
  location_id: string;
  quantity_value: string | null;
  quantity_unit: string | null;
  produced_at: Date;
  inputs: { batchId: string; quantity: { value: string; unit: string } | null }[];
  documents: { type: string; id: string }[];
}

interface EventRow {
  event_id: string;
  batch_id: string;
  seq: string;
  biz_step: string;
  event_time: Date;
  org_id: string;
  location_id: string;
  to_org_id: string | null;
  to_location_id: string | null;
  quantity_value: string | null;
  quantity_unit: string | null;
  documents: { type: string; id: string }[];
  epcis_hash: string | null;
  epcis_error: boolean;
}

/**
 * The rows of the FSMA 204 spreadsheet for a traceability lot (GTIN + lot):
 * the lot itself and every lot upstream (what it was made from) and
 * downstream (what was made from it) in any domain, from the lineage graph;
 * their CTEs from the FSMA read model; location and organisation names from
 * the Directory (the gateway's identity).
 *
 * Operators may export a lot their organisation owns, holds or held (its
 * lineage included, as for a trace); anyone else's lot is as unknown as a lot
 * that does not exist (404).
 */
@Injectable()
export class FsmaExportQuery {
  constructor(
    @Inject(LineageIndex) private readonly index: LineageIndex,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(DIRECTORY) private readonly directory: Directory,
  ) {}

  async rows(req: FsmaRequest, principal: Principal): Promise<FsmaRow[]> {
    // A traceability lot is a lot: a serialised item with the same text is another thing (API.md "Identity").
    let roots: { batch_id: string }[] = await this.ds.query('SELECT batch_id FROM fsma_lots WHERE gtin = $1 AND lot = $2 AND NOT serial', [req.gtin, req.lot]);
    if (principal.role === 'operator' && roots.length) {
      roots = await this.ds.query(
        'SELECT batch_id FROM lineage_custody WHERE batch_id = ANY($1::uuid[]) AND org_id = $2',
        [roots.map((r) => r.batch_id), principal.orgId],
      );
    }
    if (roots.length === 0) throw notFound('traceability-lot', `No traceability lot ${req.lot} of GTIN ${req.gtin}`);

    const reported = await this.touched(roots.map((r) => r.batch_id));
    const lots = await this.lots(reported);
    // Transformation inputs outside the traced lineage (another lot mixed in) are described too.
    const inputs = [...lots.values()].flatMap((l) => l.inputs.map((i) => i.batchId)).filter((id) => !lots.has(id));
    if (inputs.length) for (const [id, l] of await this.lots(inputs)) lots.set(id, l);
    const events = await this.events(reported);

    const locationIds = new Set<string>();
    for (const l of lots.values()) locationIds.add(l.locationId);
    for (const e of events) {
      locationIds.add(e.locationId);
      if (e.toLocationId) locationIds.add(e.toLocationId);
    }
    const locations = new Map<string, LocationFacts>();
    await eachBounded([...locationIds], async (id) => {
      const l = await this.directory.location(id);
      if (l) locations.set(id, l);
    });
    const orgIds = new Set<string>([...locations.values()].map((l) => l.orgId));
    for (const e of events) if (e.toOrgId) orgIds.add(e.toOrgId);
    const organisations = new Map<string, string>();
    await eachBounded([...orgIds], async (id) => {
      const o = await this.directory.organisation(id);
      if (o) organisations.set(id, o.name);
    });
    return buildFsmaRows({ lots, reported, events, locations, organisations }, { from: req.from, to: req.to });
  }

  /** The roots and every batch reachable from them up or down the graph (the roots alone if the graph has not caught up). */
  private async touched(roots: string[]): Promise<string[]> {
    let graph = await this.index.current();
    if (roots.some((id) => graph.domain(id) === undefined)) {
      await this.index.catchUp();
      graph = await this.index.current();
    }
    const ids = new Set<string>(roots);
    for (const root of roots) {
      for (const n of graph.trace(root, 'both', FULL_DEPTH)?.nodes ?? []) ids.add(n.batchId);
    }
    return [...ids];
  }

  private async lots(ids: string[]): Promise<Map<string, LotRecord>> {
    const rows: LotRow[] = await this.ds.query('SELECT * FROM fsma_lots WHERE batch_id = ANY($1::uuid[])', [ids]);
    return new Map(
      rows.map((r) => [
        r.batch_id,
        {
          batchId: r.batch_id,
          domain: r.domain,
          gtin: r.gtin,
          lot: r.lot,
          productName: r.product_name,
          ownerOrgId: r.owner_org_id,
          locationId: r.location_id,
          quantity: r.quantity_value !== null ? { value: r.quantity_value, unit: r.quantity_unit ?? '' } : null,
          producedAt: r.produced_at,
          inputs: r.inputs,
          documents: r.documents,
        },
      ]),
    );
  }

  private async events(ids: string[]): Promise<ChainEventRecord[]> {
    const rows: EventRow[] = await this.ds.query('SELECT * FROM fsma_events WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id, seq', [ids]);
    return rows.map((r) => ({
      batchId: r.batch_id,
      seq: Number(r.seq),
      bizStep: r.biz_step,
      eventTime: r.event_time,
      orgId: r.org_id,
      locationId: r.location_id,
      toOrgId: r.to_org_id,
      toLocationId: r.to_location_id,
      quantity: r.quantity_value !== null ? { value: r.quantity_value, unit: r.quantity_unit ?? '' } : null,
      documents: r.documents,
      epcisHash: r.epcis_hash,
      errorDeclaration: r.epcis_error,
    }));
  }
}
