import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { timestampFromDate, type IdentityClaims, type ItemKind } from '@trace/contracts';
import {
  batchKey,
  CARRIED_LINK_KEY,
  documentsOf,
  sensorsOf,
  nativeToEpcis,
  parseLocationId,
  stripTraceExtensions,
  uneceUnit,
  type CarriedLink,
  type EpcisEvent,
} from '@trace/epcis';
import type { Outbox, OutboxItem } from '@trace/messaging';
import { DomainError, notFound, type Directory, type Principal } from '@trace/platform';
import {
  expectedHash,
  formatOffsetTime,
  applyMovement,
  GENESIS_HASH,
  holdingsAfter,
  HASH_VERSION,
  isUuid,
  massBalanceRefusal,
  movementRefusal,
  nextLink,
  normalizeOffset,
  statusAfter,
  type BatchStatus,
  type ChainLink,
  type DomainRules,
  type EventContext,
  type Holding,
  type MovementResult,
} from '@trace/trace-chain';
import type { DomainHooks } from './batch.service';
import { insertLinks, setChainHeads, traceEventItem, type LinkRow } from './chain-writer';
import { HoldingsStore, type HoldingsWrite } from './holdings/holdings-store';
import { decideMovement, type PlannedMovement } from './use-cases/plan-movement';
import { DOMAIN_ENUM, type DomainName } from './domains';
import { chainLinkOf, type BatchRow, type EventRow } from './rows';

/** One batch an EPCIS event touches in this domain. */
export interface PlannedTarget {
  batchId: string;
  gtin: string;
  /** Lot, or the serial of a serialised item (a batch of one). */
  lot: string;
  instance: boolean;
  role: string;
  /** The quantity the event names for this batch. */
  quantity?: { value: number; unit: string };
  /** Set when the batch is not known here yet and the document says enough to create it. */
  create?: { quantity: { value: number; unit: string } };
  /** Transformation outputs: the inputs, in whichever domain they live. */
  /** `kind` only for a serialised input (absent: a lot, as inputs were always recorded). */
  inputs?: { domain: string; batchId: string; gtin: string; lot: string; kind?: ItemKind; quantity: { value: number; unit: string } }[];
  /** An exported link of this batch: stored as it was when it still fits the chain here. */
  carried?: CarriedLink;
  /**
   * An input of an imported (carried) transformation: its own export carries its consumption, so no
   * link is written on it here; it is only checked (the capturer must hold it) before the edge is kept.
   */
  edgeOnly?: boolean;
}

/** An EPCIS event as one domain stores it (only the targets in that domain). */
export interface PlannedChainEvent {
  index: number;
  hash: string;
  error: boolean;
  type: string;
  event: EpcisEvent;
  bizStep: string;
  disposition: string | null;
  eventTime: string;
  locationId: string;
  readPoint: string | null;
  bizLocation: string | null;
  epcKeys: string[];
  targets: PlannedTarget[];
}

export interface ApplyRequest {
  captureId: string;
  recordTime: string;
  /** rollback: everything in one transaction, any failure undoes all; proceed: good events kept. */
  atomic: boolean;
  /** Runs everything and rolls it back: the answer says what would fail. */
  dryRun: boolean;
  events: PlannedChainEvent[];
}

export interface ApplyResult {
  results: { index: number; stored: boolean; duplicate?: boolean; error?: string }[];
}

export interface ResolveResult {
  products: string[];
  /** `kind`: a lot and a serial with the same text are different batches. */
  batches: { gtin: string; lot: string; kind: ItemKind; id: string }[];
  /** Of the batch ids asked about, those already used here (by whatever item). */
  takenIds?: string[];
}

/** Filters of the EPCIS query, already normalised by the capture/query service. */
export interface DomainQuery {
  eventTypes?: string[];
  geEventTime?: string;
  ltEventTime?: string;
  geRecordTime?: string;
  ltRecordTime?: string;
  bizSteps?: string[];
  dispositions?: string[];
  /** Canonical object keys and their `gtin|lot|value` or `gtin|serial|value` items (MATCH_epc, MATCH_anyEPC, MATCH_epcClass…). */
  epcKeys?: string[];
  epcPairs?: string[];
  bizLocations?: string[];
  readPoints?: string[];
  existsErrorDeclaration?: boolean;
  /** EQ_eventID and GET /events/{eventID}: an event's eventID, or its event hash. */
  eventIds?: string[];
  after?: { recordTime: string; key: string };
  limit: number;
}

export interface QueriedEvent {
  recordTime: string;
  key: string;
  event: EpcisEvent;
}

/** Products and objects the EPCIS service asks a domain about; `ids`: batch ids an exported link would bring along. */
export interface ResolveRequest {
  gtins: string[];
  objects: { gtin: string; lot: string; kind?: ItemKind }[];
  ids?: string[];
}

/** What a domain offers the EPCIS service: look-ups, storing captured events, answering queries. */
export interface EpcisLedger {
  resolve(req: ResolveRequest): Promise<ResolveResult>;
  apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult>;
  query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]>;
}

/** Proceed mode commits in chunks: progress becomes visible and one bad event costs only its own savepoint. */
const CHUNK = 500;

class Rollback extends Error {}

/** The identity of a target across domains: a lot and a serial with the same text differ. */
function itemKey(t: Pick<PlannedTarget, 'gtin' | 'instance' | 'lot'>): string {
  return `${t.gtin}|${t.instance ? 'serial' : 'lot'}|${t.lot}`;
}

/** A destination party's type, short or as a CBV URI. */
const PARTY = /(?:^|[:/#])(possessing_party|owning_party)$/;

/**
 * The organisation of ours a captured event names as its receiver: a
 * destinationList party `urn:uuid:<organisation id>`, the possessing party
 * (who gets custody) before the owning one. Parties named otherwise (a PGLN,
 * an SGLN) are trading partners of no organisation here.
 */
export function receiverOf(e: EpcisEvent): string | undefined {
  const parties = (e.destinationList ?? []).map((d) => ({ type: PARTY.exec(d.type)?.[1], id: /^urn:uuid:(.+)$/i.exec(d.destination)?.[1]?.toLowerCase() }));
  const ours = parties.filter((p) => p.type && isUuid(p.id));
  return (ours.find((p) => p.type === 'possessing_party') ?? ours.find((p) => p.type === 'owning_party'))?.id;
}

/**
 * A carried link is stored as it was only if it is the next link of this batch's chain here. Its content
 * names the batch id of the system it was exported from; ids here are this system's own (issue 13), so
 * the chain is tied by seq and prevHash, not by that id.
 */
function fits(c: CarriedLink, batch: BatchRow | undefined): boolean {
  const seq = batch?.chain_seq ?? 0;
  const head = seq > 0 && batch ? batch.chain_head : GENESIS_HASH;
  if (c.hashVersion === 2 && !c.shown) return false;
  return c.seq === seq + 1 && c.prevHash === head && expectedHash({ seq: c.seq, prevHash: c.prevHash, content: c.content, version: c.hashVersion ?? 1, shown: c.shown }) === c.hash;
}

/**
 * Stores a chunk of captured events with a handful of statements instead of
 * several per event: every batch, product, custody and de-duplication fact the
 * chunk needs is read first (batches locked), the events are checked and
 * chained in memory in document order, and the rows (batches, links, custody,
 * edges, outbox) are written in bulk at the end. A refused event leaves no
 * trace in memory, so the chunk goes on without savepoints.
 */
class ChunkWriter {
  private readonly batches = new Map<string, BatchRow>();
  private readonly products = new Map<string, { id: string; category: string; owner_org_id: string }>();
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
  private readonly edges: { output: string; domain: string; input: string; value: number; unit: string }[] = [];
  private readonly announcements: OutboxItem[] = [];
  private readonly touched = new Set<string>();
  private readonly recordTime: Date;

  constructor(
    private readonly domain: DomainName,
    private readonly m: EntityManager,
    private readonly req: ApplyRequest,
    private readonly principal: Principal,
    /** Items whose identity another domain holds (`gtin|kind|value` → that domain): not created here. */
    private readonly claimedElsewhere: ReadonlyMap<string, string> = new Map(),
    /** The domain's rules and the facts they need (certificate, batch release…), as over REST. */
    private readonly rules?: DomainRules,
    private readonly hooks?: DomainHooks,
    /** The receiver a captured shipping names (by event index): an organisation of ours, or why it is refused. */
    private readonly receivers: ReadonlyMap<number, string | DomainError> = new Map(),
  ) {
    this.recordTime = new Date(req.recordTime);
  }

  /** Reads what the chunk needs and this writer does not hold yet (a later chunk sees the earlier ones in memory). */
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
    for (const p of (await this.m.query('SELECT id, gtin, category, owner_org_id FROM products WHERE gtin = ANY($1)', [gtins])) as {
      id: string;
      gtin: string;
      category: string;
      owner_org_id: string;
    }[]) {
      this.products.set(p.gtin, p);
    }
    const known = ids.filter((id) => this.batches.has(id));
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
        const move = this.movement(ev, t, batch, holdings);
        // A recalled (or held, or finished) batch does not move on, captured or not; an error
        // declaration only corrects what was recorded before.
        const blocked = ev.error || move ? undefined : movementRefusal(batch.status as BatchStatus, ev.bizStep);
        if (blocked) throw new DomainError(blocked.status, blocked.rule, `${batchKey(batch.gtin, batch.lot)}: ${blocked.message}`);
        const take = t.role === 'input' && !ev.error ? this.consumption(t, batch, holdings) : undefined;
        if (!ev.error) await this.domainRules(batch, ev, t, take, move);
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
      const batch = found ?? this.createBatch(t, ev, carried, product as { id: string; category: string });
      // An error declaration is stored as a new link even when the event it names was never captured here:
      // it is what the trading partner declared, and the original (if any) stays as it was.
      const eventId = (carried?.content.eventId as string | undefined) ?? randomUUID();
      const content: Record<string, unknown> = carried
        ? carried.content
        : {
            eventId,
            batchId: batch.id,
            bizStep: ev.bizStep,
            disposition: ev.disposition ?? undefined,
            eventTime: new Date(ev.eventTime).toISOString(),
            locationId: ev.locationId,
            orgId: this.principal.orgId,
            // What moved is part of the hashed record, in the batch's unit, as over REST.
            quantity: move && move.result.moved > 0 ? { value: move.result.moved, unit: batch.quantity_unit } : t.quantity,
            ...(move?.result.shortage ? { shortage: { value: move.result.shortage, unit: batch.quantity_unit } } : {}),
            ...(move && ev.bizStep === 'shipping' ? { toOrgId: this.receivers.get(ev.index) as string } : {}),
            inputs: t.inputs,
            role: t.role,
            documents: documentsOf(ev.event),
            sensors: sensorsOf(ev.event),
            epcisHash: ev.hash,
            epcis: ev.event,
          };
      // A v2 carried link is stored with the columns it was hashed with; anything else shows what the content says.
      const shown = carried?.hashVersion === 2 ? carried.shown : undefined;
      const bizStep = shown?.bizStep ?? (content.bizStep as string | undefined) ?? ev.bizStep;
      const disposition = shown ? shown.disposition : ((content.disposition as string | null | undefined) ?? ev.disposition);
      const eventTime = new Date(shown?.eventTime ?? (content.eventTime as string | undefined) ?? ev.eventTime);
      const orgId = shown?.orgId ?? this.principal.orgId;
      // The offset the capturer's event time was written in (eventTimeZoneOffset), given back by the API and on export.
      const eventTimeOffset = shown ? (shown.eventTimeOffset ?? null) : (normalizeOffset(String(ev.event.eventTimeZoneOffset ?? '')) ?? null);
      const state = { status: batch.status as BatchStatus, holderOrgId: batch.holder_org_id, pendingReceiverOrgId: batch.pending_receiver_org_id, quantity: Number(batch.quantity_value) };
      // A captured movement leaves the batch as the same movement over REST would. Other captured events
      // (a trading partner's shipping to no organisation of ours…) move no custody here; their
      // dispositions still set the status (recalled, destroyed…); an error declaration changes nothing.
      // A carried link that recorded the status it left is taken at its word: its hash covers it.
      const taken = take ? holdingsAfter(this.holdings.get(batch.id) ?? [], take.changed) : undefined;
      const moved = take ? { quantity: take.remaining, holdings: taken } : {};
      const after = move
        ? move.after
        : shown?.statusAfter
          ? { ...state, ...moved, status: shown.statusAfter as BatchStatus }
          : ev.error ? state : { ...state, ...moved, status: statusAfter(state.status, { bizStep: bizStep as never, disposition: (disposition ?? undefined) as never }) };
      const link: ChainLink = carried
        ? { seq: carried.seq, prevHash: carried.prevHash, hash: carried.hash, content, version: carried.hashVersion ?? 1 }
        : nextLink(batch.chain_seq > 0 ? { seq: batch.chain_seq, hash: batch.chain_head } : undefined, content, {
            bizStep,
            disposition: disposition ?? null,
            eventTime,
            eventTimeOffset,
            orgId,
            statusAfter: after.status,
          });
      const locationId = (content.locationId as string | undefined) ?? ev.locationId;
      // The row's id is this system's (issue 13): a carried content's eventId stays in the hashed content only.
      const id = carried ? randomUUID() : eventId;
      this.links.push({
        id, batch_id: batch.id, seq: link.seq, biz_step: bizStep, disposition: disposition ?? null, event_time: eventTime.toISOString(),
        event_time_offset: eventTimeOffset, org_id: orgId, content, prev_hash: link.prevHash, hash: link.hash, hash_version: link.version ?? HASH_VERSION,
        // What a v1 carried link never recorded stays unrecorded (its hash could not cover it).
        status_after: carried ? (shown?.statusAfter ?? null) : after.status, epcis_hash: ev.hash, epcis_error: ev.error,
        epcis_type: ev.type, epc_keys: ev.epcKeys, read_point: ev.readPoint, biz_location: ev.bizLocation,
      });
      batch.chain_seq = link.seq;
      batch.chain_head = link.hash;
      batch.status = after.status;
      if (take && taken) {
        // The input is taken from the capturer's holding, as a transformation over REST takes it.
        batch.quantity_value = String(take.remaining);
        this.holdings.set(batch.id, taken);
        this.gone.set(batch.id, (this.gone.get(batch.id) ?? 0) + take.taken);
        this.holdingWrites.push({ batchId: batch.id, eventId: id, bizStep: 'transforming', disposition: disposition ?? null, actorOrgId: this.principal.orgId, eventTime, result: take });
      }
      if (move) this.moved(batch, move, { id, bizStep, disposition: disposition ?? null, eventTime, toOrgId: content.toOrgId as string | undefined });
      this.touched.add(batch.id);
      this.seen.add(`${batch.id}|${ev.hash}|${ev.error}`);
      this.announcements.push(
        traceEventItem(this.domain, batch.id, { eventId: id, content, bizStep, disposition, eventTime, locationId, orgId: this.principal.orgId }, link, after, {
          // A captured event does not move the batch's place (its bizLocation need not be a location of ours).
          quantityUnit: batch.quantity_unit,
          locationId: batch.location_id,
        }),
      );
      // Edges only from the inputs the plan resolved here and add() checked, never from a carried
      // content's inputs (ids of the system it came from, or of anyone's batch).
      const inputs = t.inputs;
      if (inputs?.length && !ev.error) {
        for (const i of inputs) this.edges.push({ output: batch.id, domain: i.domain, input: i.batchId, value: i.quantity.value > 0 ? i.quantity.value : 1, unit: i.quantity.unit });
        this.announcements.push({
          eventCase: 'transformationRecorded',
          payload: {
            output: { domain: DOMAIN_ENUM[this.domain], batchId: batch.id },
            inputs: inputs.map((i) => ({
              batch: { domain: DOMAIN_ENUM[i.domain as DomainName], batchId: i.batchId },
              quantity: { value: String(i.quantity.value), unit: i.quantity.unit },
            })),
            eventId: id,
            eventTime: timestampFromDate(eventTime),
          },
          opts: { subject: batch.id, orgId: this.principal.orgId, occurredAt: eventTime },
        });
      }
    }
    return false;
  }

  /**
   * The movement a captured event makes of a batch that existed before it, as recordEvent makes it:
   * a shipping naming an organisation of ours as its receiver (destinationList) sends the quantity
   * into transit to it; a receiving by an organisation something is in transit to takes it (less
   * records a shortage). Refusals are the API's (insufficient-quantity…). Anything else captured —
   * a partner's shipping to no organisation of ours, a receiving with nothing on its way — moves
   * nothing, as before; so do carried links (history of another system) and error declarations.
   */
  private movement(ev: PlannedChainEvent, t: PlannedTarget, batch: BatchRow, holdings: Holding[]): PlannedMovement | undefined {
    if (ev.error || t.carried || t.role === 'input' || t.role === 'output') return undefined;
    const actorOrgId = this.principal.orgId;
    let toOrgId: string | undefined;
    if (ev.bizStep === 'shipping') {
      const receiver = this.receivers.get(ev.index);
      if (receiver instanceof DomainError) throw receiver;
      if (!receiver) return undefined;
      toOrgId = receiver;
    } else if (ev.bizStep === 'receiving') {
      if (!holdings.some((h) => h.orgId === actorOrgId && h.inTransit > 0)) return undefined;
    } else return undefined;
    const name = batchKey(batch.gtin, batch.lot, batch.item_kind === 'serial');
    const unit = (u: string) => uneceUnit(u) ?? u;
    if (t.quantity && unit(t.quantity.unit) !== unit(batch.quantity_unit)) {
      throw new DomainError(422, 'unit-mismatch', `${name} is counted in ${batch.quantity_unit}, not ${t.quantity.unit}`);
    }
    const planned = decideMovement(
      batch,
      { holdings, shipments: this.shipments.get(batch.id) ?? [], gone: this.gone.get(batch.id) ?? 0 },
      { bizStep: ev.bizStep, disposition: ev.disposition, actorOrgId, toOrgId, quantity: t.quantity?.value },
    );
    if ('rule' in planned) throw new DomainError(planned.status, planned.rule, `${name}: ${planned.message}`);
    return planned;
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
    this.shipments.set(batch.id, shipments);
    this.holdingWrites.push({ batchId: batch.id, eventId: e.id, bizStep: e.bizStep, disposition: e.disposition, actorOrgId, toOrgId: e.toOrgId, eventTime: e.eventTime, result });
  }

  /**
   * The domain's own rules on a captured movement, as recordEvent applies them: a vaccine batch does not
   * ship unreleased, a vegetable lot does not move without its certificate, an expired drug is not sold.
   */
  private async domainRules(batch: BatchRow, ev: PlannedChainEvent, t: PlannedTarget, take: MovementResult | undefined, move?: PlannedMovement): Promise<void> {
    if (!this.rules?.onEvent) return;
    const ctx: EventContext = {
      batch: {
        id: batch.id,
        status: batch.status as BatchStatus,
        holderOrgId: batch.holder_org_id,
        pendingReceiverOrgId: batch.pending_receiver_org_id,
        quantity: Number(batch.quantity_value),
        productCategory: batch.product_category ?? '',
        attributes: batch.attributes,
        expiresAt: batch.expires_at ? new Date(batch.expires_at).toISOString() : null,
        quantityUnit: batch.quantity_unit,
      },
      event: {
        bizStep: ev.bizStep as never,
        disposition: (ev.disposition ?? undefined) as never,
        actorOrgId: this.principal.orgId,
        toOrgId: move && ev.bizStep === 'shipping' ? (this.receivers.get(ev.index) as string) : undefined,
        consumes: take?.taken,
        locationId: ev.locationId,
        eventTime: new Date(ev.eventTime).toISOString(),
        quantity: t.quantity,
      },
    };
    const refusal = this.rules.onEvent(ctx, (await this.hooks?.eventFacts?.(this.m, ctx)) ?? {});
    if (refusal) throw new DomainError(refusal.status, refusal.rule, `${batchKey(batch.gtin, batch.lot, batch.item_kind === 'serial')}: ${refusal.message}`);
  }

  /**
   * A transformation input taken from the capturer's holding, as consumeInput takes it over REST: the
   * holdings rule (only a holder, at most what it holds: 409 insufficient-quantity) and the mass balance.
   */
  private consumption(t: PlannedTarget, batch: BatchRow, holdings: Holding[]): MovementResult {
    const name = batchKey(batch.gtin, batch.lot, batch.item_kind === 'serial');
    // A captured quantity names its unit by its UN/ECE code (KGM), one registered over REST as written (kg).
    const unit = (u: string) => uneceUnit(u) ?? u;
    if (t.quantity && unit(t.quantity.unit) !== unit(batch.quantity_unit)) {
      throw new DomainError(422, 'unit-mismatch', `Input ${name} is counted in ${batch.quantity_unit}, not ${t.quantity.unit}`);
    }
    const r = applyMovement(batch.status as BatchStatus, holdings, { bizStep: 'transforming', actorOrgId: this.principal.orgId, quantity: t.quantity?.value });
    if ('rule' in r) throw new DomainError(r.status, r.rule, `Input ${name}: ${r.message}`);
    const unbalanced = massBalanceRefusal(Number(batch.quantity_initial ?? batch.quantity_value), holdingsAfter(holdings, r.changed), (this.gone.get(batch.id) ?? 0) + r.taken);
    if (unbalanced) throw new DomainError(unbalanced.status, unbalanced.rule, `Input ${name}: ${unbalanced.message}`);
    return r;
  }

  private createBatch(t: PlannedTarget, ev: PlannedChainEvent, carried: CarriedLink | undefined, product: { id: string; category: string }): BatchRow {
    const quantity = (carried?.content.quantity as { value: number; unit: string } | undefined) ?? t.create?.quantity;
    if (!quantity) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)}: no quantity to create it with`);
    const locationId = (carried?.content.locationId as string | undefined) ?? ev.locationId;
    const producedAt = new Date((carried?.content.eventTime as string | undefined) ?? ev.eventTime);
    const b: BatchRow = {
      id: t.batchId, domain: this.domain, gtin: t.gtin, lot: t.lot, item_kind: t.instance ? 'serial' : 'lot', quantity_value: String(quantity.value), quantity_unit: quantity.unit,
      quantity_initial: String(quantity.value), status: 'active', owner_org_id: this.principal.orgId, holder_org_id: this.principal.orgId,
      pending_receiver_org_id: null, location_id: locationId, produced_at: producedAt, expires_at: null,
      attributes: { epcis: { instance: t.instance, capturedFrom: batchKey(t.gtin, t.lot, t.instance) } },
      product_id: product.id, product_category: product.category, chain_seq: 0, chain_head: GENESIS_HASH,
    };
    this.batches.set(b.id, b);
    this.newBatches.push(b);
    this.holdings.set(b.id, [{ orgId: this.principal.orgId, quantity: Number(quantity.value), inTransit: 0, received: Number(quantity.value) }]);
    // batchRegistered goes out before the batch's first link; its chain head is filled in at flush.
    this.announcements.push({ eventCase: 'batchRegistered', payload: { batch: { domain: DOMAIN_ENUM[this.domain], batchId: b.id } }, opts: { subject: b.id, orgId: b.owner_org_id, occurredAt: producedAt } });
    return b;
  }

  async flush(outbox: Outbox) {
    const m = this.m;
    if (this.newBatches.length) {
      await m.query(
        `INSERT INTO batches (id, domain, gtin, lot, item_kind, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                              location_id, produced_at, attributes, product_id, product_category, chain_seq, chain_head)
         SELECT id, domain, gtin, lot, item_kind, quantity_initial, quantity_initial, quantity_unit, owner_org_id, owner_org_id,
                location_id, produced_at, attributes, product_id, product_category, 0, $2
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, domain text, gtin text, lot text, item_kind text, quantity_initial numeric, quantity_unit text,
                owner_org_id text, location_id text, produced_at timestamptz, attributes jsonb, product_id uuid, product_category text)`,
        [JSON.stringify(this.newBatches), GENESIS_HASH],
      );
      await m.query(`INSERT INTO batch_custody (batch_id, org_id) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING`, [this.newBatches.map((b) => b.id), this.principal.orgId]);
      // As produced: an input taken later in the same chunk is recorded after (setChainHeads, holdingWrites).
      await HoldingsStore.open(m, this.newBatches.map((b) => ({ id: b.id, orgId: b.owner_org_id, quantity: b.quantity_initial ?? b.quantity_value })));
    }
    if (this.links.length) {
      await insertLinks(m, this.links, { recordTime: this.recordTime, captureId: this.req.captureId });
      // The head, the status, custody and quantity after a movement; never the place (see above).
      await setChainHeads(
        m,
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
    }
    if (this.custody.length) {
      await m.query(`INSERT INTO batch_custody (batch_id, org_id) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`, [
        this.custody.map((c) => c.batchId),
        this.custody.map((c) => c.orgId),
      ]);
    }
    for (const w of this.holdingWrites) await HoldingsStore.record(m, w);
    if (this.edges.length) {
      await m.query(
        `INSERT INTO batch_inputs (output_batch_id, input_domain, input_batch_id, quantity_value, quantity_unit)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::numeric[], $5::text[]) ON CONFLICT DO NOTHING`,
        [this.edges.map((e) => e.output), this.edges.map((e) => e.domain), this.edges.map((e) => e.input), this.edges.map((e) => e.value), this.edges.map((e) => e.unit)],
      );
    }
    for (const a of this.announcements) {
      if (a.eventCase !== 'batchRegistered') continue;
      // The first link of a batch created here is known now.
      const b = this.batches.get(a.opts.subject) as BatchRow;
      const first = this.links.find((l) => l.batch_id === b.id && l.seq === 1);
      a.payload = {
        batch: { domain: DOMAIN_ENUM[this.domain], batchId: b.id },
        gtin: b.gtin,
        lot: b.lot,
        quantity: { value: b.quantity_value, unit: b.quantity_unit },
        ownerOrgId: b.owner_org_id,
        locationId: b.location_id,
        producedAt: timestampFromDate(b.produced_at),
        inputs: [],
        chainHead: (first?.hash as string | undefined) ?? b.chain_head,
        productCategory: b.product_category ?? '',
        serial: b.item_kind === 'serial',
      };
    }
    await outbox.appendMany(m, this.announcements);
    this.newBatches.length = 0;
    this.links.length = 0;
    this.edges.length = 0;
    this.holdingWrites.length = 0;
    this.custody.length = 0;
    this.announcements.length = 0;
    this.touched.clear();
  }
}

/**
 * The EPCIS side of one domain's trace chains: stores captured events on the
 * batches they name (creating unknown batches the document describes well
 * enough), exports a chain as EPCIS and answers the query interface for its
 * chains, REST-recorded and captured alike.
 */
export class EpcisChainService implements EpcisLedger {
  constructor(
    private readonly domain: DomainName,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly directory?: Directory,
    /** Where batches created from captured events claim their lot or serial across all domains (see identity.ts). */
    private readonly claims?: IdentityClaims,
    private readonly rules?: DomainRules,
    private readonly hooks?: DomainHooks,
  ) {}

  async resolve(req: ResolveRequest): Promise<ResolveResult> {
    const products = (await this.dataSource.query('SELECT gtin FROM products WHERE gtin = ANY($1)', [req.gtins])) as { gtin: string }[];
    const batches = req.objects.length
      ? ((await this.dataSource.query(
          `SELECT b.gtin, b.lot, b.item_kind AS kind, b.id FROM batches b
             JOIN unnest($1::text[], $2::text[], $3::text[]) AS o(gtin, lot, kind) ON b.gtin = o.gtin AND b.item_kind = o.kind AND b.lot = o.lot`,
          [req.objects.map((o) => o.gtin), req.objects.map((o) => o.lot), req.objects.map((o) => o.kind ?? 'lot')],
        )) as { gtin: string; lot: string; kind: ItemKind; id: string }[])
      : [];
    const ids = (req.ids ?? []).filter(isUuid);
    const taken = ids.length
      ? ((await this.dataSource.query('SELECT id FROM batches WHERE id = ANY($1::uuid[])', [ids])) as { id: string }[]).map((r) => r.id)
      : [];
    return { products: products.map((p) => p.gtin), batches, takenIds: taken };
  }

  /**
   * Claims the lot or serial of every batch the events would create, before
   * any is written; answers those another domain holds. A trial only looks.
   */
  private async claimCreated(events: readonly PlannedChainEvent[], principal: Principal, dryRun: boolean): Promise<Map<string, string>> {
    const elsewhere = new Map<string, string>();
    if (!this.claims) return elsewhere;
    const items = new Map<string, { gtin: string; kind: ItemKind; value: string }>();
    for (const e of events) {
      for (const t of e.targets) if (t.create) items.set(itemKey(t), { gtin: t.gtin, kind: t.instance ? 'serial' : 'lot', value: t.lot });
    }
    const list = [...items.values()];
    if (dryRun) {
      for (const i of list) {
        const where = await this.claims.locate(i.gtin, i.kind, i.value);
        if (where && where.domain !== this.domain) elsewhere.set(itemKey({ gtin: i.gtin, instance: i.kind === 'serial', lot: i.value }), where.domain);
      }
      return elsewhere;
    }
    const answers = await this.claims.claimItems(list.map((i) => ({ ...i, domain: this.domain, orgId: principal.orgId })));
    answers.forEach((a, n) => {
      if (!a.granted) elsewhere.set(itemKey({ gtin: list[n].gtin, instance: list[n].kind === 'serial', lot: list[n].value }), a.domain);
    });
    return elsewhere;
  }

  /** The receivers captured shippings name (by event index), checked against the directory as the API checks toOrgId. */
  private async receivers(events: readonly PlannedChainEvent[]): Promise<Map<number, string | DomainError>> {
    const out = new Map<number, string | DomainError>();
    const known = new Map<string, boolean>();
    for (const e of events) {
      if (e.error || e.bizStep !== 'shipping') continue;
      const orgId = receiverOf(e.event);
      if (!orgId) continue;
      if (this.directory && !known.has(orgId)) known.set(orgId, !!(await this.directory.organisation(orgId)));
      out.set(e.index, known.get(orgId) === false ? new DomainError(422, 'unknown-organisation', `No organisation ${orgId} (the shipping's destinationList)`) : orgId);
    }
    return out;
  }

  async apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult> {
    const results: ApplyResult['results'] = [];
    const claimedElsewhere = await this.claimCreated(req.events, principal, req.dryRun);
    const receivers = await this.receivers(req.events);
    // One transaction over `events`, written chunk by chunk (progress after each). A refused event leaves
    // no trace (ChunkWriter.add checks first), so the others go on and every refusal is listed. A trial
    // writes nothing; in rollback mode nothing is kept once any event was refused.
    const runTx = async (events: PlannedChainEvent[], progress?: (done: number) => void) => {
      const out: ApplyResult['results'] = [];
      try {
        await this.dataSource.transaction(async (m) => {
          const writer = new ChunkWriter(this.domain, m, req, principal, claimedElsewhere, this.rules, this.hooks, receivers);
          // Every batch of the transaction locked up front, in id order: two captures touching the same
          // batches then queue rather than deadlock.
          await writer.load(events);
          for (let i = 0; i < events.length; i += CHUNK) {
            const chunk = events.slice(i, i + CHUNK);
            await writer.load(chunk);
            for (const ev of chunk) {
              try {
                const duplicate = await writer.add(ev);
                out.push({ index: ev.index, stored: !duplicate, ...(duplicate ? { duplicate } : {}) });
              } catch (err) {
                if (!(err instanceof DomainError)) throw err;
                out.push({ index: ev.index, stored: false, error: err.message });
              }
            }
            const doomed = req.atomic && out.some((r) => r.error);
            if (!req.dryRun && !doomed) await writer.flush(this.outbox);
            progress?.(out.length);
          }
          if (req.dryRun || (req.atomic && out.some((r) => r.error))) throw new Rollback();
        });
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
        if (!req.dryRun) for (const r of out) r.stored = false;
      }
      return out;
    };
    if (req.atomic) {
      results.push(...(await runTx(req.events, req.dryRun ? undefined : onProgress)));
    } else {
      for (let i = 0; i < req.events.length; i += CHUNK) {
        const chunk = req.events.slice(i, i + CHUNK);
        try {
          results.push(...(await runTx(chunk)));
        } catch {
          // A database error (e.g. a concurrent capture of the same event) aborted the chunk:
          // its events again, one per transaction, so that only the failing one is lost.
          for (const ev of chunk) {
            try {
              results.push(...(await runTx([ev])));
            } catch (err) {
              results.push({ index: ev.index, stored: false, error: `could not be stored (${(err as { code?: string }).code ?? 'database error'})` });
            }
          }
        }
        onProgress?.(results.length);
      }
    }
    onProgress?.(results.length);
    return { results };
  }

  // ------------------------------------------------------------------ export

  /** The batch's chain as EPCIS events, each carrying its link so a fresh system can store the same chain. */
  async export(batch: BatchRow): Promise<EpcisEvent[]> {
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [batch.id])) as (EventRow & EpcisRowColumns)[];
    const locations = new Map<string, string>();
    const out: EpcisEvent[] = [];
    // The original of a declared error stays on the chain, marked (the declaration is a later link).
    const declared = new Set(rows.filter((r) => r.epcis_error && r.epcis_hash).map((r) => r.epcis_hash));
    for (const r of rows) {
      const event = await this.toEpcis(r, batch, locations);
      if (r.epcis_hash && !r.epcis_error && declared.has(r.epcis_hash)) event['trace:erroneous'] = true;
      const stored = chainLinkOf(r);
      const link: CarriedLink = {
        domain: this.domain, gtin: batch.gtin, lot: batch.lot, kind: batch.item_kind ?? 'lot', seq: r.seq, prevHash: r.prev_hash, hash: r.hash, content: r.content,
        ...(stored.version === 2 && stored.shown
          ? { hashVersion: 2, shown: { ...stored.shown, eventTime: new Date(stored.shown.eventTime).toISOString(), eventTimeOffset: stored.shown.eventTimeOffset ?? null } }
          : {}),
      };
      out.push({ ...event, [CARRIED_LINK_KEY]: link });
    }
    return out;
  }

  private async toEpcis(r: EventRow & EpcisRowColumns, batch: Pick<BatchRow, 'gtin' | 'lot' | 'attributes'>, locations: Map<string, string>): Promise<EpcisEvent> {
    const recordTime = r.record_time.toISOString();
    const captured = r.content.epcis as EpcisEvent | undefined;
    // Events captured without an eventID (before every capture gave one) are named by their event hash.
    if (captured) return { ...stripTraceExtensions(captured), ...(captured.eventID || !r.epcis_hash ? {} : { eventID: r.epcis_hash }), recordTime };
    const locationId = r.content.locationId as string;
    let uri = locations.get(locationId);
    if (uri === undefined) {
      const loc = this.directory ? await this.directory.location(locationId).catch(() => undefined) : undefined;
      uri = loc?.gln ? parseLocationId(`https://id.gs1.org/414/${loc.gln}`).key : /^[0-9a-f-]{36}$/i.test(locationId) ? `urn:uuid:${locationId}` : locationId;
      locations.set(locationId, uri);
    }
    return nativeToEpcis({
      id: r.id,
      seq: r.seq,
      bizStep: r.biz_step,
      disposition: r.disposition,
      eventTime: formatOffsetTime(r.event_time, r.event_time_offset),
      eventTimeZoneOffset: r.event_time_offset ?? '+00:00',
      recordTime,
      content: r.content,
      batch: { gtin: batch.gtin, lot: batch.lot, instance: (batch.attributes?.epcis as { instance?: boolean } | undefined)?.instance === true },
      locationUri: uri,
    });
  }

  // ------------------------------------------------------------------- query

  async query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    // Byte order (COLLATE "C"): the service merging the domains' answers compares keys the same way.
    const key = `COALESCE(e.epcis_hash || CASE WHEN e.epcis_error THEN '!' ELSE '' END, e.id::text) COLLATE "C"`;
    const type = `COALESCE(e.epcis_type, CASE WHEN e.content ? 'inputs' THEN 'TransformationEvent' ELSE 'ObjectEvent' END)`;
    if (q.eventTypes) where.push(`${type} = ANY(${p(q.eventTypes)})`);
    if (q.geEventTime) where.push(`e.event_time >= ${p(q.geEventTime)}`);
    if (q.ltEventTime) where.push(`e.event_time < ${p(q.ltEventTime)}`);
    if (q.geRecordTime) where.push(`e.record_time >= ${p(q.geRecordTime)}`);
    if (q.ltRecordTime) where.push(`e.record_time < ${p(q.ltRecordTime)}`);
    if (q.bizSteps) where.push(`e.biz_step = ANY(${p(q.bizSteps)})`);
    if (q.dispositions) where.push(`e.disposition = ANY(${p(q.dispositions)})`);
    if (q.epcKeys || q.epcPairs) where.push(`(e.epc_keys && ${p(q.epcKeys ?? [])}::text[] OR (b.gtin || '|' || b.item_kind || '|' || b.lot) = ANY(${p(q.epcPairs ?? [])}))`);
    if (q.bizLocations) where.push(`COALESCE(e.biz_location, e.content->>'locationId') = ANY(${p(q.bizLocations)})`);
    if (q.readPoints) where.push(`COALESCE(e.read_point, e.content->>'locationId') = ANY(${p(q.readPoints)})`);
    if (q.existsErrorDeclaration) where.push('e.epcis_error');
    if (q.eventIds) {
      where.push(`(e.content->'epcis'->>'eventID' = ANY(${p(q.eventIds)}) OR e.epcis_hash = ANY(${p(q.eventIds)}) OR 'urn:uuid:' || e.id::text = ANY(${p(q.eventIds)}))`);
    }
    if (q.after) where.push(`(e.record_time, ${key}) > (${p(q.after.recordTime)}::timestamptz, ${p(q.after.key)})`);
    if (principal.role === 'operator') {
      where.push(`(e.org_id = ${p(principal.orgId)} OR EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = e.batch_id AND c.org_id = ${p(principal.orgId)}))`);
    }
    const rows = (await this.dataSource.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (e.record_time, ${key}) e.*, ${key} AS sort_key, b.gtin, b.lot, b.attributes AS batch_attributes,
                to_char(e.record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS record_time_us,
                EXISTS (SELECT 1 FROM trace_events d WHERE e.epcis_hash IS NOT NULL AND d.epcis_hash = e.epcis_hash AND d.epcis_error) AS declared
           FROM trace_events e JOIN batches b ON b.id = e.batch_id
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY e.record_time, ${key}, e.seq) s
        ORDER BY s.record_time, s.sort_key LIMIT ${p(q.limit)}`,
      params,
    )) as (EventRow & EpcisRowColumns & { sort_key: string; gtin: string; lot: string; batch_attributes: Record<string, unknown>; record_time_us: string; declared: boolean })[];
    const locations = new Map<string, string>();
    const out: QueriedEvent[] = [];
    for (const r of rows) {
      const event = await this.toEpcis(r, { gtin: r.gtin, lot: r.lot, attributes: r.batch_attributes }, locations);
      // The original of a declared error stays, marked (EPCIS returns the declaration itself on its own).
      if (r.declared && !r.epcis_error) event['trace:erroneous'] = true;
      out.push({ recordTime: r.record_time_us, key: r.sort_key, event });
    }
    return out;
  }

  /** The batch row, if the principal may see it (same rule as the batch endpoints). */
  async visibleBatch(id: string, principal: Principal): Promise<BatchRow> {
    const [row] = (await this.dataSource.query('SELECT * FROM batches WHERE id = $1', [id])) as BatchRow[];
    if (row && principal.role === 'operator') {
      const [held] = await this.dataSource.query('SELECT 1 FROM batch_custody WHERE batch_id = $1 AND org_id = $2', [id, principal.orgId]);
      // Whoever has a part of it, in transit included (several receivers may be waiting for theirs).
      if (held || (await HoldingsStore.involves(this.dataSource.manager, id, principal.orgId))) return row;
    } else if (row) return row;
    throw notFound('batch', `No batch ${id} in ${this.domain}`);
  }
}

interface EpcisRowColumns {
  epcis_hash: string | null;
  epcis_error: boolean;
  epcis_type: string | null;
}
