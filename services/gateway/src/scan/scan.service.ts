import { Inject, Injectable, Optional } from '@nestjs/common';
import { Gs1Error, parseDigitalLink } from '@trace/gs1';
import { badRequest, DIRECTORY, notFound, type Directory } from '@trace/platform';
import { BatchRegistry, DOMAINS, type PublicBatchView } from '@trace/trace-service';

const MAX_UPSTREAM_NODES = 100;
const MAX_UPSTREAM_DEPTH = 8;

interface InputRef {
  domain: string;
  batchId: string;
  gtin: string;
  lot: string;
  quantity?: { value: number; unit: string };
}

/**
 * The consumer's view behind a GS1 Digital Link: the batch found in whichever
 * domain holds it, its product, origin, chain validity and history, and the
 * batches it was made from, across domains (a food lot shows its agri lots).
 */
@Injectable()
export class ScanService {
  constructor(
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Optional() @Inject(DIRECTORY) private readonly directory?: Directory,
  ) {}

  parse(path: string) {
    try {
      const link = parseDigitalLink(path);
      if (!link.lot) throw badRequest('digital-link', 'The link must name a lot (AI 10)');
      return link;
    } catch (err) {
      if (err instanceof Gs1Error) throw badRequest('digital-link', err.message);
      throw err;
    }
  }

  async find(gtin: string, lot: string): Promise<PublicBatchView> {
    // Ask every domain at once; one that is down must not hide a batch another holds.
    const answers = await Promise.allSettled(DOMAINS.map((d) => this.registry.publicView(d, gtin, lot)));
    const found = answers.find((a) => a.status === 'fulfilled' && a.value !== undefined) as PromiseFulfilledResult<PublicBatchView> | undefined;
    if (found) return found.value;
    const failed = answers.find((a) => a.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    throw notFound('batch', `No batch ${lot} of GTIN ${gtin}`);
  }

  async scan(path: string) {
    const link = this.parse(path);
    const view = await this.find(link.gtin, link.lot as string);
    const upstream = await this.upstream(view);
    return {
      product: view.product,
      batch: { ...view.batch, domain: view.domain, serial: link.serial ?? null },
      origin: await this.place(view.origin),
      certificates: view.certificates,
      inspections: view.inspections,
      recall: this.recallOf(view),
      chain: view.chain,
      history: await Promise.all(view.history.map(async (h) => ({ ...h, location: await this.locationName(h.locationId) }))),
      madeFrom: upstream,
    };
  }

  /** Whether the batch is recalled and, from the chain's recall event, the level and reason the consumer sees. */
  private recallOf(view: PublicBatchView): { active: boolean; level?: number; reason?: string } {
    if (view.batch.status !== 'recalled') return { active: false };
    const recall = [...view.history].reverse().find((h) => h.recall)?.recall;
    return recall ? { active: true, level: recall.level, reason: recall.reason } : { active: true };
  }

  /** Walks the inputs recorded on each chain's first event, breadth first, bounded. */
  private async upstream(root: PublicBatchView) {
    const out: unknown[] = [];
    const seen = new Set<string>([root.batch.id]);
    let frontier: { view: PublicBatchView; depth: number }[] = [{ view: root, depth: 0 }];
    while (frontier.length && out.length < MAX_UPSTREAM_NODES) {
      const next: typeof frontier = [];
      for (const { view, depth } of frontier) {
        if (depth >= MAX_UPSTREAM_DEPTH) continue;
        const inputs = (view.history[0]?.inputs as InputRef[] | undefined) ?? [];
        for (const input of inputs) {
          if (seen.has(input.batchId) || out.length >= MAX_UPSTREAM_NODES) continue;
          seen.add(input.batchId);
          const v = await this.registry.publicView(input.domain, input.gtin, input.lot);
          if (!v) continue;
          out.push({
            domain: v.domain,
            gtin: v.batch.gtin,
            lot: v.batch.lot,
            product: v.product,
            status: v.batch.status,
            quantityUsed: input.quantity,
            origin: await this.place(v.origin),
            chain: v.chain,
            madeInto: { domain: view.domain, lot: view.batch.lot },
          });
          next.push({ view: v, depth: depth + 1 });
        }
      }
      frontier = next;
    }
    return out;
  }

  private async place(origin: PublicBatchView['origin']) {
    if (!origin) return null;
    const loc = await this.directory?.location(origin.locationId).catch(() => undefined);
    const org = await this.directory?.organisation(origin.orgId).catch(() => undefined);
    return {
      at: origin.at,
      location: loc ? { name: loc.name, kind: loc.kind, region: loc.region ?? null, gln: loc.gln ?? null } : { id: origin.locationId },
      producer: org ? { name: org.name } : { id: origin.orgId },
    };
  }

  private async locationName(id: string) {
    const loc = await this.directory?.location(id).catch(() => undefined);
    return loc ? { name: loc.name, kind: loc.kind, region: loc.region ?? null } : null;
  }
}
