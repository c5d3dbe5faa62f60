import { randomUUID } from 'node:crypto';
import { timestampFromDate, type ConsumeRequest, type ConsumeResult, type IdentityClaims, type InputLedger } from '@trace/contracts';
import { badRequest, conflict, pipelinedTransaction, refusalError, unprocessable, type Principal } from '@trace/platform';
import { formatOffsetTime, nextLink, parseOffsetTime, type OffsetTime } from '@trace/trace-chain';
import type { BatchRegistry } from '../batch-registry';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import type { RegisterBatchDto } from '../dto';
import { claimItem } from '../identity';
import { toBatchView, type BatchView } from '../rows';
import { nativeHashOf, partnerHashNames } from '../epcis/native-hashes';
import { insertBatchesWithLinks, insertEdges } from '../store';
import { gtinOrThrow, requireLocation, type TraceCore } from './core';

/** Where a registration reaches beyond its own domain: the input batches' ledgers, and the cross-domain identity claims. */
export interface RegistrationPeers {
  registry: BatchRegistry;
  claims?: IdentityClaims;
}

/**
 * Registers a batch (a lot) of one of the caller's products: commissioned,
 * or made from input batches of any domain, which are taken from their own
 * chains first and given back by compensating events if the registration
 * then fails.
 */
export async function registerBatch(core: TraceCore, peers: RegistrationPeers, dto: RegisterBatchDto, principal: Principal, bearer?: string): Promise<BatchView> {
  const gtin = gtinOrThrow(dto.gtin);
  const producedAt = new Date(dto.producedAt);
  const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
  if (expiresAt && expiresAt <= producedAt) {
    throw badRequest('expiry', 'expiresAt must be after producedAt', [{ field: 'expiresAt', message: 'must be after producedAt' }]);
  }
  const product = await productOf(core, gtin);
  if (!product) throw unprocessable('unknown-product', `No product with GTIN ${gtin} is registered in ${core.domain}`);
  if (product.owner_org_id !== principal.orgId) {
    throw unprocessable('product-owner', `GTIN ${gtin} belongs to another organisation; register your own product`);
  }
  await requireLocation(core, dto.locationId, principal);
  // A lot already here is refused before anything is claimed or taken. Without inputs nothing would have to be given
  // back, and the unique index refuses the insert with the same answer (23505 below): no read ahead of it then.
  if (dto.inputs?.length) {
    const [existing] = await core.dataSource.query(`SELECT 1 FROM batches WHERE gtin = $1 AND item_kind = 'lot' AND lot = $2`, [gtin, dto.lot]);
    if (existing) throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
  }
  await claimItem(peers.claims, core.domain, { gtin, kind: 'lot', value: dto.lot }, principal.orgId);
  const inputs = dto.inputs ?? [];
  const seen = new Set<string>();
  for (const i of inputs) {
    if (seen.has(i.batchId)) throw badRequest('inputs', `input ${i.batchId} is listed twice`);
    seen.add(i.batchId);
    if (i.quantity.value <= 0) throw badRequest('inputs', 'input quantities must be positive');
  }
  const refusal = core.rules.onRegister?.({
    gtin,
    lot: dto.lot,
    productCategory: product.category,
    attributes: dto.attributes ?? {},
    inputs: inputs.map((i) => ({ domain: i.domain, batchId: i.batchId, quantity: i.quantity.value })),
  });
  if (refusal) throw refusalError(refusal);

  const id = randomUUID();
  // Inputs are taken first, each on its own chain in its own service; if a
  // later step fails they are given back by compensating events.
  const taken: { ledger: InputLedger; req: ConsumeRequest; result: ConsumeResult }[] = [];
  try {
    for (const i of inputs) {
      const ledger = peers.registry.ledger(i.domain, bearer);
      const req: ConsumeRequest = { batchId: i.batchId, quantity: i.quantity.value, unit: i.quantity.unit, outputRef: { domain: core.domain, batchId: id }, eventTime: dto.producedAt };
      taken.push({ ledger, req, result: await ledger.consume(req, principal) });
    }
    return await insertBatch(core, id, gtin, dto, product, producedAt, expiresAt, principal, taken);
  } catch (err) {
    for (const t of taken.reverse()) {
      await t.ledger
        .restore({ ...t.req, correctionOf: t.result.eventId, reason: `transformation into ${core.domain}/${id} failed` }, principal)
        .catch(() => undefined);
    }
    if ((err as { code?: string }).code === '23505') {
      throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
    }
    throw err;
  }
}

interface ProductRow {
  id: string;
  owner_org_id: string;
  category: string;
  name: string;
}

/**
 * Products found, per domain core: a product row is never changed or deleted
 * once registered (GTINs are claimed for good), so the registrations after
 * the first of a product do not ask for it. Not found is not kept. Bounded, oldest out first.
 */
const PRODUCTS = new WeakMap<object, Map<string, ProductRow>>();

async function productOf(core: TraceCore, gtin: string): Promise<ProductRow | undefined> {
  let known = PRODUCTS.get(core);
  if (!known) PRODUCTS.set(core, (known = new Map()));
  const hit = known.get(gtin);
  if (hit) return hit;
  const [row] = (await core.dataSource.query('SELECT id, owner_org_id, category, name FROM products WHERE gtin = $1', [gtin])) as ProductRow[];
  if (row) {
    if (known.size >= 10_000) known.delete(known.keys().next().value as string);
    known.set(gtin, row);
  }
  return row;
}

async function insertBatch(
  core: TraceCore,
  id: string,
  gtin: string,
  dto: RegisterBatchDto,
  product: { id: string; category: string; name: string },
  producedAt: Date,
  expiresAt: Date | null,
  principal: Principal,
  taken: { req: ConsumeRequest; result: ConsumeResult }[],
): Promise<BatchView> {
  const eventId = randomUUID();
  const bizStep = taken.length > 0 ? 'transforming' : 'commissioning';
  const inputs = taken.map((t, n) => ({
    domain: (dto.inputs ?? [])[n].domain,
    batchId: t.req.batchId,
    gtin: t.result.gtin,
    lot: t.result.lot,
    quantity: { value: t.req.quantity, unit: t.req.unit },
  }));
  const content: Record<string, unknown> = {
    eventId,
    batchId: id,
    bizStep,
    disposition: 'active',
    eventTime: producedAt.toISOString(),
    locationId: dto.locationId,
    orgId: principal.orgId,
    quantity: dto.quantity,
    ...(inputs.length ? { inputs } : {}),
    ...(dto.documents?.length ? { documents: dto.documents.map((d) => ({ type: d.type, id: d.id })) } : {}),
  };
  // Validated as RFC 3339 with offset by the DTO: the offsets are kept to give the times back as written.
  const producedOffset = (parseOffsetTime(dto.producedAt) as OffsetTime).offset;
  const expiresOffset = dto.expiresAt ? (parseOffsetTime(dto.expiresAt) as OffsetTime).offset : null;
  // The expiry as written, hashed with the registration: the batch row's expiry must agree with it (batchRowMismatch).
  content.expiresAt = expiresAt ? formatOffsetTime(expiresAt, expiresOffset) : null;
  const link = nextLink(undefined, content, {
    bizStep,
    disposition: 'active',
    eventTime: producedAt,
    eventTimeOffset: producedOffset,
    orgId: principal.orgId,
    statusAfter: 'active',
  });
  const firstLink = {
    id: eventId, batch_id: id, seq: link.seq, biz_step: bizStep, disposition: 'active', event_time: producedAt.toISOString(),
    event_time_offset: producedOffset, org_id: principal.orgId, content, prev_hash: link.prevHash, hash: link.hash,
    hash_version: link.version, status_after: 'active',
  };
  // Its CBV event hash, stored with it: the event's id in exports and query answers (before the transaction: no lock held meanwhile).
  const nativeHash = await nativeHashOf(partnerHashNames(core.directory), firstLink, { gtin, lot: dto.lot, attributes: dto.attributes ?? {} });
  // START goes out with the first statement, COMMIT with the outbox row (pipelinedTransaction).
  return pipelinedTransaction(core.dataSource, async (m) => {
    // The batch, its custody and holdings, and its first link: one statement.
    const [row] = await insertBatchesWithLinks(m, [
      {
        id, domain: core.domain, gtin, lot: dto.lot, item_kind: 'lot', quantity: dto.quantity.value, quantity_unit: dto.quantity.unit,
        owner_org_id: principal.orgId, location_id: dto.locationId, produced_at: producedAt, produced_at_offset: producedOffset,
        expires_at: expiresAt, expires_at_offset: expiresOffset, attributes: dto.attributes ?? {}, product_id: product.id,
        product_category: product.category, chain_seq: link.seq, chain_head: link.hash,
      },
    ], [{ ...firstLink, native_hash: nativeHash }]);
    await insertEdges(m, inputs.map((i) => ({ output: id, domain: i.domain, input: i.batchId, value: i.quantity.value, unit: i.quantity.unit })));
    const ref = { domain: DOMAIN_ENUM[core.domain], batchId: id };
    const protoInputs = inputs.map((i) => ({
      batch: { domain: DOMAIN_ENUM[i.domain as DomainName], batchId: i.batchId },
      quantity: { value: String(i.quantity.value), unit: i.quantity.unit },
    }));
    await core.outbox.append(
      m,
      'batchRegistered',
      {
        batch: ref,
        gtin,
        lot: dto.lot,
        quantity: { value: String(dto.quantity.value), unit: dto.quantity.unit },
        ownerOrgId: principal.orgId,
        locationId: dto.locationId,
        producedAt: timestampFromDate(producedAt),
        expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
        inputs: protoInputs,
        chainHead: link.hash,
        productCategory: product.category,
        productName: product.name,
        documents: (dto.documents ?? []).map((d) => ({ type: d.type, id: d.id })),
      },
      { subject: id, orgId: principal.orgId, occurredAt: producedAt },
    );
    if (inputs.length) {
      await core.outbox.append(
        m,
        'transformationRecorded',
        { output: ref, inputs: protoInputs, eventId, eventTime: timestampFromDate(producedAt) },
        { subject: id, orgId: principal.orgId, occurredAt: producedAt },
      );
    }
    return toBatchView(row);
  });
}
