import { formatOffsetTime, type BatchRowFacts, type ChainLink, type HashVersion } from '@trace/trace-chain';
import type { ItemKind } from '@trace/contracts';
import type { DomainName } from './domains';

export interface BatchRow {
  id: string;
  domain: DomainName;
  gtin: string;
  /** The lot, or the serial of a serialised item (`item_kind`). */
  lot: string;
  item_kind: ItemKind;
  quantity_value: string;
  quantity_unit: string;
  quantity_initial: string | null;
  status: string;
  owner_org_id: string;
  holder_org_id: string;
  pending_receiver_org_id: string | null;
  location_id: string;
  produced_at: Date;
  expires_at: Date | null;
  /** The offsets producedAt and expiresAt were written in (±HH:MM); null before offsets were kept. */
  produced_at_offset?: string | null;
  expires_at_offset?: string | null;
  attributes: Record<string, unknown>;
  product_id: string | null;
  product_category: string | null;
  chain_seq: number;
  chain_head: string;
}

export interface EventRow {
  id: string;
  batch_id: string;
  seq: number;
  biz_step: string;
  disposition: string | null;
  event_time: Date;
  /** The offset the event time was written in (±HH:MM); null for times the system took and rows from before offsets. */
  event_time_offset?: string | null;
  record_time: Date;
  org_id: string;
  content: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  /** 1: the hash covers the content only (links written before versions); 2: the full record (see canonicalRecord). */
  hash_version: HashVersion;
  /** The batch's status after this link; null in links written before it was recorded. */
  status_after?: string | null;
}

/**
 * A stored event as the chain rule verifies it: under v2 the columns readers
 * are shown (step, disposition, time, organisation) are part of the hash.
 */
export function chainLinkOf(r: EventRow): ChainLink {
  return {
    seq: r.seq,
    prevHash: r.prev_hash,
    content: r.content,
    hash: r.hash,
    version: r.hash_version ?? 1,
    shown: {
      bizStep: r.biz_step,
      disposition: r.disposition,
      eventTime: r.event_time,
      eventTimeOffset: r.event_time_offset ?? null,
      orgId: r.org_id,
      statusAfter: r.status_after ?? null,
    },
  };
}

/** What the batch row shows that its chain also records (see batchRowMismatch). */
export function batchRowFactsOf(b: BatchRow): BatchRowFacts {
  return {
    status: b.status,
    producedAt: b.produced_at,
    producedAtOffset: b.produced_at_offset ?? null,
    expiresAt: b.expires_at,
    expiresAtOffset: b.expires_at_offset ?? null,
  };
}

export interface BatchView {
  id: string;
  domain: DomainName;
  gtin: string;
  lot: string;
  quantity: { value: number; unit: string };
  initialQuantity: { value: number; unit: string };
  status: string;
  ownerOrgId: string;
  holderOrgId: string;
  inTransitTo: string | null;
  locationId: string;
  productId: string | null;
  category: string | null;
  producedAt: string;
  expiresAt: string | null;
  attributes: Record<string, unknown>;
  /** `lot`: a batch; `serial`: a serialised item, whose `lot` field holds its serial. */
  itemKind: ItemKind;
  digitalLink: string;
  chainLength: number;
  chainHead: string;
}

export function toBatchView(r: BatchRow): BatchView {
  return {
    id: r.id,
    domain: r.domain,
    gtin: r.gtin,
    lot: r.lot,
    quantity: { value: Number(r.quantity_value), unit: r.quantity_unit },
    initialQuantity: { value: Number(r.quantity_initial ?? r.quantity_value), unit: r.quantity_unit },
    status: r.status,
    ownerOrgId: r.owner_org_id,
    holderOrgId: r.holder_org_id,
    inTransitTo: r.pending_receiver_org_id,
    locationId: r.location_id,
    productId: r.product_id,
    category: r.product_category,
    producedAt: formatOffsetTime(r.produced_at, r.produced_at_offset),
    expiresAt: r.expires_at ? formatOffsetTime(r.expires_at, r.expires_at_offset) : null,
    attributes: r.attributes,
    itemKind: r.item_kind,
    // A serialised item's link names its serial (AI 21): the lot with the same text is another item.
    digitalLink: `/01/${r.gtin}/${r.item_kind === 'serial' ? '21' : '10'}/${encodeURIComponent(r.lot)}`,
    chainLength: r.chain_seq,
    chainHead: r.chain_head,
  };
}

export function toEventView(e: EventRow) {
  return {
    id: e.id,
    seq: e.seq,
    bizStep: e.biz_step,
    disposition: e.disposition,
    recordTime: e.record_time.toISOString(),
    orgId: e.org_id,
    ...e.content,
    // After the content (which holds the instant in UTC): the time as it was written.
    eventTime: formatOffsetTime(e.event_time, e.event_time_offset),
    prevHash: e.prev_hash,
    hash: e.hash,
  };
}

/** A `products` row. */
export interface ProductRow {
  id: string;
  gtin: string;
  name: string;
  category: string;
  owner_org_id: string;
  attributes: unknown;
  created_at: Date;
}

/** A product as the API answers it (registration, look-up, list). */
export function toProductView(r: ProductRow) {
  return {
    id: r.id,
    gtin: r.gtin,
    name: r.name,
    category: r.category,
    ownerOrgId: r.owner_org_id,
    attributes: r.attributes,
    createdAt: r.created_at.toISOString(),
  };
}
