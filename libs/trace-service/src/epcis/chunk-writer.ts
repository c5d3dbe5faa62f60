import type { EntityManager } from 'typeorm';
import { batchKey, type CarriedLink } from '@trace/epcis';
import type { Outbox, OutboxItem } from '@trace/messaging';
import { deferringWrites, DomainError, type EventLoopSlices, type Principal } from '@trace/platform';
import { GENESIS_HASH, holdingsAfter, movementRefusal, type BatchStatus, type DomainRules, type Holding, type MovementResult } from '@trace/trace-chain';
import type { DomainHooks } from '../batch.service';
import type { DomainName } from '../domains';
import type { BatchRow } from '../rows';
import { addCustody, HoldingsStore, insertBatches, insertEdges, insertLinks, setChainHeads, traceEventItem, type HoldingsWrite, type LinkRow } from '../store';
import type { PlannedMovement } from '../use-cases/plan-movement';
import { capturedLink } from './captured-link';
import { fits, itemKey } from './carried-link';
import { capturedConsumption, capturedMovement } from './captured-movement';
import { checkCapturedRules } from './captured-rules';
import type { ApplyRequest, PlannedChainEvent, PlannedTarget } from './contract';
import { capturedLot, registeredPayload } from './create-lot';
import { linkInputs, type InputEdge } from './link-inputs';

/**
 * Stores captured events, chunk by chunk, with a handful of statements instead
 * of several per event: every batch, product, custody and de-duplication fact
 * the events need is read first (batches locked), the events are checked and
 * chained in memory in document order, and each chunk's rows (batches, links,
 * custody, edges, outbox) are written in bulk at its end. A refused event leaves no
 * trace in memory, so the chunk goes on without savepoints.
 */
export class ChunkWriter {
  private readonly batches = new Map<string, BatchRow>();
  private readonly products = new Map<string, { id: string; name: string; category: string; owner_org_id: string }>();
  /** The holdings of every batch the writer holds (batch_holdings), as they are after the events so far. */
  private readonly holdings = new Map<string, Holding[]>();
  /** What left each batch's supply chain so far (taken + lost), for the mass balance. */
  private readonly gone = new Map<string, number>();
  /** The shipments of every batch the writer holds (batch_shipments), as they are after the events so far. */
  private readonly shipments = new Map<string, { fromOrgId: string; toOrgId: string; outstanding: number }[]>();
  /** Organisations that became a batch's holder by a captured receiving (batch_custody). */
  private readonly custody: { batchId: string; orgId: string }[] = [];
  private readonly holdingWrites: HoldingsWrite[] = [];
  private readonly seen = new Set<string>();
  /** Batches that existed before this writer (their stored links may be duplicates). */
  private readonly stored = new Set<string>();
  private readonly newBatches: BatchRow[] = [];
  private readonly links: LinkRow[] = [];
  private readonly edges: InputEdge[] = [];
  private readonly announcements: OutboxItem[] = [];
  private readonly touched = new Set<string>();
  /** What the domain's rules need of each batch (certificate, batch release…), read with the chunk. */
  private readonly facts = new Map<string, Record<string, unknown>>();
  private readonly recordTime: Date;

  constructor(
    private readonly domain: DomainName,
    private readonly m: EntityManager,
    private readonly req: ApplyRequest,
    private readonly principal: Principal,
    /** Items whose identity another domain holds (`gtin|kind|value` → that domain): not created here. */
    private readonly claimedElsewhere: ReadonlyMap<string, string> = new Map(),
    /** The domain's rules and the facts they need (certificate, batch release…), as over REST. */
    readonly rules?: DomainRules,
    readonly hooks?: DomainHooks,
    /** The receiver a captured shipping names (by event index): an organisation of ours, or why it is refused. */
    private readonly receivers: ReadonlyMap<number, string | DomainError> = new Map(),
  ) {
    this.recordTime = new Date(req.recordTime);
  }

  /**
   * Reads what the events need and this writer does not hold yet, the existing batches locked. applyCapture
   * reads all of a transaction's events at once, before the first chunk; what the chunks then make or change
   * is held in memory.
   */
  async load(events: PlannedChainEvent[]) {
    const all = [...new Set(events.flatMap((e) => e.targets.map((t) => t.batchId)))];
    const ids = all.filter((id) => !this.batches.has(id));
    const gtins = [...new Set(events.flatMap((e) => e.targets.map((t) => t.gtin)))];
    const hashes = [...new Set(events.map((e) => e.hash))];
    // Locked in id order, as every writer of several batches should, against deadlocks.
    for (const b of (await this.m.query('SELECT * FROM batches WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [ids])) as BatchRow[]) {
      this.batches.set(b.id, b);
      this.stored.add(b.id);
    }
    for (const p of (await this.m.query('SELECT id, gtin, name, category, owner_org_id FROM products WHERE gtin = ANY($1)', [gtins])) as {
      id: string;
      gtin: string;
      name: string;
      category: string;
      owner_org_id: string;
    }[]) {
      this.products.set(p.gtin, p);
    }
    const known = ids.filter((id) => this.batches.has(id));
    // Batches this capture creates are asked too: nothing is on record for them yet, which is their answer.
    const factsWanted = this.hooks?.eventFactsOfBatches && this.rules?.onEvent ? all.filter((id) => !this.facts.has(id)) : [];
    if (factsWanted.length) for (const [id, f] of await (this.hooks as Required<DomainHooks>).eventFactsOfBatches(this.m, factsWanted)) this.facts.set(id, f);
    const held = await HoldingsStore.readMany(this.m, known);
    for (const id of known) this.holdings.set(id, held.get(id) ?? []);
    for (const [id, gone] of await HoldingsStore.goneOfMany(this.m, known)) this.gone.set(id, gone);
    const shipments = await HoldingsStore.shipmentsOfMany(this.m, known);
    for (const id of known) this.shipments.set(id, shipments.get(id) ?? []);
    // Links already stored for this chunk's events, on every batch that existed before this writer.
    const stored = (await this.m.query(
      'SELECT batch_id, epcis_hash, epcis_error FROM trace_events WHERE batch_id = ANY($1::uuid[]) AND epcis_hash = ANY($2)',
      [all.filter((id) => this.stored.has(id)), hashes],
    )) as { batch_id: string; epcis_hash: string; epcis_error: boolean }[];
    for (const r of stored) this.seen.add(`${r.batch_id}|${r.epcis_hash}|${r.epcis_error}`);
  }

  /** Checks one event against every batch it names, then chains it in memory; true when already stored. */
  async add(ev: PlannedChainEvent): Promise<boolean> {
    const plans: { t: PlannedTarget; batch?: BatchRow; product?: { id: string; category: string }; take?: MovementResult; move?: PlannedMovement }[] = [];
    for (const t of ev.targets) {
      const batch = this.batches.get(t.batchId);
      if (batch) {
        if (!t.edgeOnly && this.seen.has(`${batch.id}|${ev.hash}|${ev.error}`)) continue;
        const p = this.principal.orgId;
        const holdings = this.holdings.get(batch.id) ?? [];
        const mine = holdings.find((h) => h.orgId === p);
        // As over REST (issue 13): only an organisation that owns the batch or holds part of it now
        // (received or on its way to it) records on it; having held it once is not enough.
        if (batch.owner_org_id !== p && batch.holder_org_id !== p && !(mine && (mine.quantity > 0 || mine.inTransit > 0))) {
          throw new DomainError(403, 'not-in-scope', `${batchKey(batch.gtin, batch.lot)} belongs to another organisation`);
        }
        if (t.edgeOnly) {
          plans.push({ t, batch });
          continue;
        }
        // Shipping to an organisation of ours and receiving what is in transit to the capturer move
        // holdings as over REST; the holdings rule then decides, recalled batches' returns included.
        const facts = { holdings, shipments: this.shipments.get(batch.id) ?? [], gone: this.gone.get(batch.id) ?? 0 };
        const move = capturedMovement(ev, t, batch, facts, p, this.receivers.get(ev.index));
        // A recalled (or held, or finished) batch does not move on, captured or not; an error
        // declaration only corrects what was recorded before.
        const blocked = ev.error || move ? undefined : movementRefusal(batch.status as BatchStatus, ev.bizStep);
        if (blocked) throw new DomainError(blocked.status, blocked.rule, `${batchKey(batch.gtin, batch.lot)}: ${blocked.message}`);
        const take = t.role === 'input' && !ev.error ? capturedConsumption(t, batch, holdings, facts.gone, p) : undefined;
        if (!ev.error) await checkCapturedRules(this.m, this, batch, ev, t, { actorOrgId: p, toOrgId: move ? this.receiverOf(ev) : undefined, consumes: take?.taken ?? (move?.result.taken || undefined) }, this.facts.get(batch.id));
        plans.push({ t, batch, ...(take ? { take } : {}), ...(move ? { move } : {}) });
      } else {
        if (!t.create) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)} is not a batch in ${this.domain} and the event does not say enough to create it`);
        const holder = this.claimedElsewhere.get(itemKey(t));
        if (holder) throw new DomainError(409, 'duplicate-lot', `${batchKey(t.gtin, t.lot, t.instance)} is already registered in ${holder}`);
        const product = this.products.get(t.gtin);
        if (!product) throw new DomainError(422, 'unknown-product', `No product with GTIN ${t.gtin} in ${this.domain}`);
        // As registering through the API: only the GTIN's owner brings a new lot or serial of it into being
        // (a capture naming another organisation's product must not create, and so own, one of its lots).
        if (product.owner_org_id !== this.principal.orgId) {
          throw new DomainError(422, 'product-owner', `GTIN ${t.gtin} belongs to another organisation: ${batchKey(t.gtin, t.lot, t.instance)} is not a batch here to record events on`);
        }
        if (!t.create.quantity && !t.carried?.content.quantity) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)}: no quantity to create it with`);
        plans.push({ t, product });
      }
    }
    if (plans.length === 0) return true;
    for (const { t, batch: found, product, take, move } of plans) {
      // An imported transformation's input: checked above, its edge comes with the output's link below.
      if (t.edgeOnly) continue;
      const carried = t.carried && fits(t.carried, found) ? t.carried : undefined;
      const batch = found ?? this.create(t, ev, carried, product as { id: string; category: string });
      const taken = take ? holdingsAfter(this.holdings.get(batch.id) ?? [], take.changed) : undefined;
      const { row, link, content, after, bizStep, disposition, eventTime, locationId } = capturedLink(ev, t, batch, {
        actorOrgId: this.principal.orgId,
        carried,
        move,
        take: take && taken ? { remaining: take.remaining, holdings: taken } : undefined,
        toOrgId: this.receiverOf(ev),
      });
      const id = row.id;
      this.links.push(row);
      batch.chain_seq = link.seq;
      batch.chain_head = link.hash;
      batch.status = after.status;
      if (take && taken) {
        // The input is taken from the capturer's holding, as a transformation over REST takes it.
        batch.quantity_value = String(take.remaining);
        this.holdings.set(batch.id, taken);
        this.gone.set(batch.id, (this.gone.get(batch.id) ?? 0) + take.taken);
        this.holdingWrites.push({ batchId: batch.id, eventId: id, bizStep: 'transforming', disposition, actorOrgId: this.principal.orgId, eventTime, result: take });
      }
      if (move) this.moved(batch, move, { id, bizStep, disposition, eventTime, toOrgId: content.toOrgId as string | undefined });
      this.touched.add(batch.id);
      this.seen.add(`${batch.id}|${ev.hash}|${ev.error}`);
      this.announcements.push(
        traceEventItem(this.domain, batch.id, { eventId: id, content, bizStep, disposition, eventTime, locationId, orgId: this.principal.orgId }, link, after, {
          // A captured event does not move the batch's place (its bizLocation need not be a location of ours).
          quantityUnit: batch.quantity_unit,
          locationId: batch.location_id,
          identity: batch,
        }),
      );
      // Edges only from the inputs the plan resolved here and add() checked (see linkInputs).
      if (t.inputs?.length && !ev.error) {
        const linked = linkInputs(this.domain, batch.id, t.inputs, { eventId: id, eventTime, orgId: this.principal.orgId });
        this.edges.push(...linked.edges);
        this.announcements.push(linked.announcement);
      }
    }
    return false;
  }

  /** Keeps what a captured movement did in memory (the next events see it) and queues its writes. */
  private moved(batch: BatchRow, move: PlannedMovement, e: { id: string; bizStep: string; disposition: string | null; eventTime: Date; toOrgId?: string }) {
    const actorOrgId = this.principal.orgId;
    const { result, after } = move;
    if (after.holderOrgId !== batch.holder_org_id) this.custody.push({ batchId: batch.id, orgId: after.holderOrgId });
    batch.holder_org_id = after.holderOrgId;
    batch.pending_receiver_org_id = after.pendingReceiverOrgId;
    batch.quantity_value = String(after.quantity);
    if (after.holdings) this.holdings.set(batch.id, after.holdings);
    this.gone.set(batch.id, (this.gone.get(batch.id) ?? 0) + result.taken + result.shortage);
    const shipments = this.shipments.get(batch.id) ?? [];
    if (e.bizStep === 'shipping' && e.toOrgId && result.moved > 0) shipments.push({ fromOrgId: actorOrgId, toOrgId: e.toOrgId, outstanding: result.moved });
    if (e.bizStep === 'receiving') for (const s of shipments) if (s.toOrgId === actorOrgId) s.outstanding = 0;
    if (e.bizStep === 'void_shipping') for (const s of shipments) if (s.fromOrgId === actorOrgId && s.toOrgId === e.toOrgId) s.outstanding = 0;
    this.shipments.set(batch.id, shipments);
    this.holdingWrites.push({ batchId: batch.id, eventId: e.id, bizStep: e.bizStep, disposition: e.disposition, actorOrgId, toOrgId: e.toOrgId, eventTime: e.eventTime, result });
  }

  /** The receiver a shipping (or void_shipping) names, once capturedMovement accepted it. */
  private receiverOf(ev: PlannedChainEvent): string | undefined {
    const r = this.receivers.get(ev.index);
    return typeof r === 'string' ? r : undefined;
  }

  /** A lot the event creates: kept in memory (later events see it) and queued with its announcement. */
  private create(t: PlannedTarget, ev: PlannedChainEvent, carried: CarriedLink | undefined, product: { id: string; category: string }): BatchRow {
    const { batch: b, announcement } = capturedLot(this.domain, t, ev, carried, product, this.principal.orgId);
    this.batches.set(b.id, b);
    this.newBatches.push(b);
    this.holdings.set(b.id, [{ orgId: b.owner_org_id, quantity: Number(b.quantity_value), inTransit: 0, received: Number(b.quantity_value) }]);
    this.announcements.push(announcement);
    return b;
  }

  /**
   * Writes what the chunk added. `heads: false` (one transaction over all chunks, which holds every batch
   * row lock): the batches' heads wait for writeHeads() at the end, one row update per batch rather than
   * one per batch and chunk — nothing in the transaction reads them from the table meanwhile.
   */
  async flush(outbox: Outbox, opts: { heads: boolean; slices?: EventLoopSlices } = { heads: true }) {
    // Nothing here reads back what it writes: in a pipelined transaction the chunk's writes wait for the
    // next statement, or for the caller to send them (sendDeferred), in one round trip.
    const m = deferringWrites(this.m);
    // As produced: an input taken or a part shipped later in the same chunk is recorded after (setChainHeads, holdingWrites).
    await insertBatches(
      m,
      this.newBatches.map((b) => ({
        ...b,
        quantity: b.quantity_initial ?? b.quantity_value,
        product_id: b.product_id as string,
        chain_seq: 0,
        chain_head: GENESIS_HASH,
      })),
    );
    if (this.links.length) {
      await insertLinks(m, this.links, { recordTime: this.recordTime, captureId: this.req.captureId });
      if (opts.heads) await this.writeHeads();
    }
    await addCustody(m, this.custody);
    await HoldingsStore.recordMany(m, this.holdingWrites);
    await insertEdges(m, this.edges);
    for (const a of this.announcements) {
      if (a.eventCase !== 'batchRegistered') continue;
      // The first link of a batch created here is known now.
      const b = this.batches.get(a.opts.subject) as BatchRow;
      const first = this.links.find((l) => l.batch_id === b.id && l.seq === 1);
      a.payload = registeredPayload(this.domain, b, (first?.hash as string | undefined) ?? b.chain_head, {
        productName: this.products.get(b.gtin)?.name ?? '',
        documents: (first?.content.documents as { type: string; id: string }[] | undefined) ?? [],
      });
    }
    await outbox.appendMany(m, this.announcements, { slices: opts.slices });
    this.discard();
  }

  /**
   * Forgets the rows the chunk would write (a trial, or a rollback capture already refused, writes nothing):
   * what the events did stays in memory for the next chunk's checks, the rows do not pile up for the whole share.
   */
  discard() {
    this.newBatches.length = 0;
    this.links.length = 0;
    this.edges.length = 0;
    this.holdingWrites.length = 0;
    this.custody.length = 0;
    this.announcements.length = 0;
  }

  /** The head, the status, custody and quantity of every batch changed since the last heads written; never the place (see above). */
  async writeHeads() {
    await setChainHeads(
      deferringWrites(this.m),
      [...this.touched].map((id) => {
        const b = this.batches.get(id) as BatchRow;
        return {
          id: b.id,
          seq: b.chain_seq,
          hash: b.chain_head,
          status: b.status,
          holder: b.holder_org_id,
          pending: b.pending_receiver_org_id,
          quantity: b.quantity_value,
          location: b.location_id,
        };
      }),
    );
    this.touched.clear();
  }
}
