import type { ItemKind } from '@trace/contracts';
import type { CarriedLink, EpcisEvent, EventContext } from '@trace/epcis';
import type { Principal } from '@trace/platform';

/*
 * What the EPCIS service and a domain's trace core say to each other
 * (in-process when embedded, /internal/v1/{domain}/epcis/… when distributed).
 */

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
  /** The @context entries the event uses, as its document declared them (kept with it, given back in answers). */
  context?: EventContext;
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
  /**
   * Master data narrowing (HASATTR_/EQATTR_ on bizLocation, readPoint): the location keys an event captured
   * with that field may name. An event recorded over REST (located by our location id, answered by its
   * GLN when it has one) is let through, for the epcis service's own test; an event without the field is not.
   */
  capturedBizLocations?: string[];
  capturedReadPoints?: string[];
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
  /** The @context entries it was captured with (none: recorded over REST, or captured before they were kept). */
  context?: EventContext | null;
}

/** Products and objects the EPCIS service asks a domain about. */
export interface ResolveRequest {
  gtins: string[];
  objects: { gtin: string; lot: string; kind?: ItemKind }[];
}

/** What a domain offers the EPCIS service: look-ups, storing captured events, answering queries. */
export interface EpcisLedger {
  resolve(req: ResolveRequest): Promise<ResolveResult>;
  apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult>;
  query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]>;
}

/**
 * The rule (problem type) of a domain's refusal to apply because another capture wrote some of the same
 * events, or created their lots, at the same time: the capture service plans the document again.
 */
export const CONCURRENT_CAPTURE = 'concurrent-capture';
