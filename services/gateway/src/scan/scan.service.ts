import { Inject, Injectable, Optional } from '@nestjs/common';
import { IDENTITY_CLAIMS, type IdentityClaims, type ItemKind } from '@trace/contracts';
import { Gs1Error, parseDigitalLink } from '@trace/gs1';
import { badRequest, DIRECTORY, notFound, type Directory, type LocationInfo, type OrganisationInfo } from '@trace/platform';
import { BatchRegistry, type PublicBatchView } from '@trace/trace-service';

const MAX_UPSTREAM_NODES = 100;
const MAX_UPSTREAM_DEPTH = 8;

interface Lookups {
  location(id: string): Promise<LocationInfo | undefined>;
  organisation(id: string): Promise<OrganisationInfo | undefined>;
}

export interface PublicPlace {
  name: string;
  kind: string;
  region: string | null;
}

/** The consumer scan document (API.md "Consumer scan"), as cached. */
export interface ScanDocument {
  product: { gtin: string; name: string; category: string; categoryName?: { zh: string; en: string } } | null;
  /** `lot` is null for a serialised item scanned by its serial alone (`/01/{gtin}/21/{serial}`). */
  batch: { domain: string; gtin: string; lot: string | null; status: string; producedAt: string; expiresAt: string | null; serial?: string | null };
  origin: { at: string; location: (PublicPlace & { gln: string | null }) | null; producer: { name: string } | null } | null;
  certificates: PublicBatchView['certificates'];
  inspections: PublicBatchView['inspections'];
  recall: { active: boolean; level?: number; reason?: string };
  chain: { valid: boolean; length: number };
  history: { seq: number; bizStep: string; disposition: string | null; eventTime: string; location: PublicPlace | null; recall?: { level: number; reason: string } }[];
  madeFrom: {
    domain: string;
    gtin: string;
    /** Null for a serialised input, named by `serial`. */
    lot: string | null;
    serial?: string;
    product: ScanDocument['product'];
    status: string;
    quantityUsed?: { value: number; unit: string };
    origin: ScanDocument['origin'];
    chain: { valid: boolean; length: number };
    madeInto: { domain: string; lot: string };
  }[];
}

/** The document with the serial of the scanned item (AI 21), which the cache does not key on when the link names a lot. */
export const withSerial = (doc: ScanDocument, serial: string | undefined): ScanDocument => ({
  ...doc,
  batch: { ...doc.batch, serial: serial ?? null },
});

/** What a Digital Link identifies: its lot when it names one, else the serialised item. */
export interface ScannedItem {
  gtin: string;
  kind: ItemKind;
  /** The lot or the serial. */
  value: string;
}

interface InputRef {
  domain: string;
  batchId: string;
  gtin: string;
  /** The lot, or the serial of a serialised input (`kind`). */
  lot: string;
  kind?: ItemKind;
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
    @Inject(IDENTITY_CLAIMS) private readonly claims: IdentityClaims,
    @Optional() @Inject(DIRECTORY) private readonly directory?: Directory,
  ) {}

  parse(path: string) {
    try {
      const link = parseDigitalLink(path);
      if (!link.lot && !link.serial) throw badRequest('digital-link', 'The link must name a lot (AI 10) or a serial (AI 21)');
      return link;
    } catch (err) {
      if (err instanceof Gs1Error) throw badRequest('digital-link', err.message);
      throw err;
    }
  }

  /** The item a parsed link identifies: a lot wins over a serial (the serial is then shown, see withSerial). */
  static itemOf(link: { gtin: string; lot?: string; serial?: string }): ScannedItem {
    return link.lot !== undefined ? { gtin: link.gtin, kind: 'lot', value: link.lot } : { gtin: link.gtin, kind: 'serial', value: link.serial as string };
  }

  /**
   * The one domain that holds the item, from the identity claims (the same
   * table that keeps a lot in one domain), then that domain's view. Asking
   * every domain in turn would show whichever answered, not the one that owns it.
   */
  async find(item: ScannedItem): Promise<PublicBatchView> {
    const where = await this.claims.locate(item.gtin, item.kind, item.value);
    const view = where ? await this.registry.publicView(where.domain, item.gtin, item.value, item.kind) : undefined;
    if (!view) throw notFound('batch', `No ${item.kind === 'lot' ? 'batch' : 'serialised item'} ${item.value} of GTIN ${item.gtin}`);
    return view;
  }

  /**
   * The consumer's document for a lot, and the ids of every batch it was built
   * from (what the cache must watch). Only what a consumer may see: no internal
   * ids (batch, organisation, location, recall), no free-form batch attributes,
   * no quantities, no contact data — see README "Consumer scan".
   */
  async document(item: ScannedItem): Promise<{ value: ScanDocument; dependsOn: string[] }> {
    const view = await this.find(item);
    const dir = this.lookups();
    const { items: madeFrom, batchIds } = await this.upstream(view, dir);
    const value: ScanDocument = {
      product: view.product,
      batch: {
        domain: view.domain,
        gtin: view.batch.gtin,
        lot: view.batch.kind === 'serial' ? null : view.batch.lot,
        ...(view.batch.kind === 'serial' ? { serial: view.batch.lot } : {}),
        status: view.batch.status,
        producedAt: view.batch.producedAt,
        expiresAt: view.batch.expiresAt,
      },
      origin: await this.place(view.origin, dir),
      certificates: view.certificates,
      inspections: view.inspections,
      recall: this.recallOf(view),
      chain: view.chain,
      history: await Promise.all(
        view.history.map(async (h) => ({
          seq: h.seq,
          bizStep: h.bizStep,
          disposition: h.disposition,
          eventTime: h.eventTime,
          location: await this.locationName(h.locationId, dir),
          ...(h.recall ? { recall: { level: h.recall.level, reason: h.recall.reason } } : {}),
        })),
      ),
      madeFrom,
    };
    return { value, dependsOn: [view.batch.id, ...batchIds] };
  }

  /** Whether the batch is recalled and, from the chain's recall event, the level and reason the consumer sees. */
  private recallOf(view: PublicBatchView): { active: boolean; level?: number; reason?: string } {
    if (view.batch.status !== 'recalled') return { active: false };
    const recall = [...view.history].reverse().find((h) => h.recall)?.recall;
    return recall ? { active: true, level: recall.level, reason: recall.reason } : { active: true };
  }

  /** Walks the inputs recorded on each chain's first event, breadth first, bounded. */
  private async upstream(root: PublicBatchView, dir: Lookups): Promise<{ items: ScanDocument['madeFrom']; batchIds: string[] }> {
    const out: ScanDocument['madeFrom'] = [];
    const batchIds: string[] = [];
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
          const v = await this.registry.publicView(input.domain, input.gtin, input.lot, input.kind ?? 'lot');
          if (!v) continue;
          batchIds.push(v.batch.id);
          out.push({
            domain: v.domain,
            gtin: v.batch.gtin,
            lot: v.batch.kind === 'serial' ? null : v.batch.lot,
            ...(v.batch.kind === 'serial' ? { serial: v.batch.lot } : {}),
            product: v.product,
            status: v.batch.status,
            quantityUsed: input.quantity,
            origin: await this.place(v.origin, dir),
            chain: v.chain,
            madeInto: { domain: view.domain, lot: view.batch.lot },
          });
          next.push({ view: v, depth: depth + 1 });
        }
      }
      frontier = next;
    }
    return { items: out, batchIds };
  }

  /** Directory look-ups for one document: a journey names the same few places many times. */
  private lookups(): Lookups {
    const memo = new Map<string, Promise<unknown>>();
    const once = <T>(key: string, get: () => Promise<T> | undefined): Promise<T | undefined> => {
      if (!memo.has(key)) memo.set(key, Promise.resolve(get()).catch(() => undefined));
      return memo.get(key) as Promise<T | undefined>;
    };
    return {
      location: (id) => once(`l:${id}`, () => this.directory?.location(id)),
      organisation: (id) => once(`o:${id}`, () => this.directory?.organisation(id)),
    };
  }

  private async place(origin: PublicBatchView['origin'], dir: Lookups): Promise<ScanDocument['origin']> {
    if (!origin) return null;
    const [loc, org] = await Promise.all([dir.location(origin.locationId), dir.organisation(origin.orgId)]);
    return {
      at: origin.at,
      // Internal ids never stand in for a name the directory could not give.
      location: loc ? { name: loc.name, kind: loc.kind, region: loc.region ?? null, gln: loc.gln ?? null } : null,
      producer: org ? { name: org.name } : null,
    };
  }

  private async locationName(id: string, dir: Lookups): Promise<PublicPlace | null> {
    const loc = await dir.location(id);
    return loc ? { name: loc.name, kind: loc.kind, region: loc.region ?? null } : null;
  }
}
