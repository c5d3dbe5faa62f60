import { randomUUID } from 'node:crypto';
import { timestampFromDate, type ConsumeRequest, type ConsumeResult, type IdentityClaims, type InputLedger } from '@trace/contracts';
import { badRequest, conflict, refusalError, unprocessable, type Principal } from '@trace/platform';
import { formatOffsetTime, nextLink, parseOffsetTime, type OffsetTime } from '@trace/trace-chain';
import type { BatchRegistry } from '../batch-registry';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import type { RegisterBatchDto } from '../dto';
import { HoldingsStore } from '../holdings/holdings-store';
import { claimItem } from '../identity';
import { toBatchView, type BatchRow, type BatchView } from '../rows';
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
  const [product] = await core.dataSource.query('SELECT * FROM products WHERE gtin = $1', [gtin]);
  if (!product) throw unprocessable('unknown-product', `No product with GTIN ${gtin} is registered in ${core.domain}`);
  if (product.owner_org_id !== principal.orgId) {
    throw unprocessable('product-owner', `GTIN ${gtin} belongs to another organisation; register your own product`);
  }
  await requireLocation(core, dto.locationId, principal);
  const [existing] = await core.dataSource.query(`SELECT 1 FROM batches WHERE gtin = $1 AND item_kind = 'lot' AND lot = $2`, [gtin, dto.lot]);
  if (existing) throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
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
  return core.dataSource.transaction(async (m) => {
    const [row] = (await m.query(
      `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                            location_id, produced_at, expires_at, attributes, product_id, product_category, chain_seq, chain_head,
                            produced_at_offset, expires_at_offset)
       VALUES ($1,$2,$3,$4,$5,$5,$6,$7,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING *`,
      [id, core.domain, gtin, dto.lot, dto.quantity.value, dto.quantity.unit, principal.orgId, dto.locationId, producedAt, expiresAt,
        dto.attributes ?? {}, product.id, product.category, link.seq, link.hash, producedOffset, expiresOffset],
    )) as BatchRow[];
    await m.query(`INSERT INTO batch_custody (batch_id, org_id) VALUES ($1, $2)`, [id, principal.orgId]);
    await HoldingsStore.open(m, [{ id, orgId: principal.orgId, quantity: dto.quantity.value }]);
    await m.query(
      `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash, hash_version, event_time_offset,
                                 status_after)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'active')`,
      [eventId, id, link.seq, bizStep, 'active', producedAt, principal.orgId, content, link.prevHash, link.hash, link.version, producedOffset],
    );
    for (const i of inputs) {
      await m.query(
        `INSERT INTO batch_inputs (output_batch_id, input_domain, input_batch_id, quantity_value, quantity_unit) VALUES ($1,$2,$3,$4,$5)`,
        [id, i.domain, i.batchId, i.quantity.value, i.quantity.unit],
      );
    }
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
