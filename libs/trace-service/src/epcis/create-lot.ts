import { timestampFromDate } from '@trace/contracts';
import { batchKey, type CarriedLink } from '@trace/epcis';
import type { OutboxItem } from '@trace/messaging';
import { DomainError } from '@trace/platform';
import { GENESIS_HASH } from '@trace/trace-chain';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import type { BatchRow } from '../rows';
import type { PlannedChainEvent, PlannedTarget } from './contract';

/**
 * A lot (or serial) a captured event brings into being, owned and held by
 * the capturer, as the event (or the link it carries) describes it: the row
 * to write, and its batchRegistered announcement, whose chain head
 * (`registeredPayload`) is known once its first link is.
 */
export function capturedLot(
  domain: DomainName,
  t: PlannedTarget,
  ev: PlannedChainEvent,
  carried: CarriedLink | undefined,
  product: { id: string; category: string },
  orgId: string,
): { batch: BatchRow; announcement: OutboxItem } {
  const quantity = (carried?.content.quantity as { value: number; unit: string } | undefined) ?? t.create?.quantity;
  if (!quantity) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)}: no quantity to create it with`);
  const locationId = (carried?.content.locationId as string | undefined) ?? ev.locationId;
  const producedAt = new Date((carried?.content.eventTime as string | undefined) ?? ev.eventTime);
  const batch: BatchRow = {
    id: t.batchId, domain, gtin: t.gtin, lot: t.lot, item_kind: t.instance ? 'serial' : 'lot', quantity_value: String(quantity.value), quantity_unit: quantity.unit,
    quantity_initial: String(quantity.value), status: 'active', owner_org_id: orgId, holder_org_id: orgId,
    pending_receiver_org_id: null, location_id: locationId, produced_at: producedAt, expires_at: null,
    attributes: { epcis: { instance: t.instance, capturedFrom: batchKey(t.gtin, t.lot, t.instance) } },
    product_id: product.id, product_category: product.category, chain_seq: 0, chain_head: GENESIS_HASH,
  };
  // batchRegistered goes out before the batch's first link; its payload is filled in when that link is chained.
  const announcement: OutboxItem = {
    eventCase: 'batchRegistered',
    payload: { batch: { domain: DOMAIN_ENUM[domain], batchId: batch.id } },
    opts: { subject: batch.id, orgId, occurredAt: producedAt },
  };
  return { batch, announcement };
}

/**
 * The batchRegistered payload of a captured lot, with the hash of its first
 * link, its product's name and the documents (bizTransactions) of the event
 * that created it, as a registration over REST announces them (read models
 * such as the FSMA 204 sheet describe the lot from here).
 */
export function registeredPayload(domain: DomainName, b: BatchRow, chainHead: string, facts: { productName: string; documents: { type: string; id: string }[] }) {
  return {
    batch: { domain: DOMAIN_ENUM[domain], batchId: b.id },
    gtin: b.gtin,
    lot: b.lot,
    quantity: { value: b.quantity_initial ?? b.quantity_value, unit: b.quantity_unit },
    ownerOrgId: b.owner_org_id,
    locationId: b.location_id,
    producedAt: timestampFromDate(b.produced_at),
    inputs: [],
    chainHead,
    productCategory: b.product_category ?? '',
    productName: facts.productName,
    documents: facts.documents.map((d) => ({ type: String(d.type), id: String(d.id) })),
    serial: b.item_kind === 'serial',
  };
}
