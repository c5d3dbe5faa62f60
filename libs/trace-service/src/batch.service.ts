import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { timestampFromDate, type IdentityClaims, type ItemKind } from '@trace/contracts';
import { Outbox } from '@trace/messaging';
import {
  badRequest,
  conflict,
  notFound,
  refusalError,
  unprocessable,
  type Directory,
  type Principal,
} from '@trace/platform';
import {
  formatOffsetTime,
  nextLink,
  parseOffsetTime,
  type DomainRules,
  type EventContext,
  type OffsetTime,
} from '@trace/trace-chain';
import type { BatchRegistry, ConsumeRequest, ConsumeResult, InputLedger, PublicBatchView } from './batch-registry';
import { HoldingsStore } from './holdings/holdings-store';
import { consumeInput, restoreInput } from './use-cases/consume-input';
import { gtinOrThrow, requireLocation, visibleBatchRow, type TraceCore } from './use-cases/core';
import { getBatch, type BatchWithHoldings } from './use-cases/get-batch';
import { getProduct } from './use-cases/get-product';
import { registerProduct } from './use-cases/register-product';
import { recordEvent } from './use-cases/record-event';
import { verifyStoredChain } from './use-cases/verify-chain';
import { DOMAIN_ENUM, type DomainName } from './domains';
import { claimItem } from './identity';
import type { RecordEventDto, RegisterBatchDto, RegisterProductDto } from './dto';
import { toBatchView, toEventView, type BatchRow, type BatchView, type EventRow } from './rows';

export { DOMAINS, DOMAIN_ENUM, type DomainName } from './domains';
export type { BatchView } from './rows';

/**
 * What a domain service adds to the core's event transaction (not pure, unlike
 * `DomainRules`): the facts its rules need, read with the batch row locked,
 * and its own records written after the event is appended.
 */
export interface DomainHooks {
  eventFacts?(m: EntityManager, ctx: EventContext): Promise<Record<string, unknown>>;
  /** Certificates a consumer may see for a batch (agri compliance certificate, vaccine batch release…). */
  publicCertificates?(m: EntityManager, batchId: string): Promise<PublicBatchView['certificates']>;
  afterEvent?(m: EntityManager, ctx: EventContext, event: { id: string; seq: number }): Promise<void>;
}

/**
 * Lets a domain endpoint record an event through the core together with its
 * own writes: runs in the event's transaction after custody and the domain
 * rules passed (throw to refuse); what it returns is added to the event's
 * hashed content.
 */
export type WithinEvent = (m: EntityManager, batch: BatchRow) => Promise<Record<string, unknown> | void>;

/**
 * The trace-chain core of one domain: products, batches, their hash-chained
 * events, custody, transformations and verification. The five domain
 * services are this class with different `DomainRules`.
 */
export class BatchService implements InputLedger {
  constructor(
    private readonly domain: DomainName,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly registry: BatchRegistry,
    private readonly rules: DomainRules,
    private readonly directory?: Directory,
    private readonly hooks: DomainHooks = {},
    /** Where GTINs, lots and serials are claimed across all domains (see identity.ts). */
    private readonly claims?: IdentityClaims,
  ) {
    this.core = { domain, dataSource, outbox, rules, directory, hooks };
  }

  private readonly core: TraceCore;

  // ---------------------------------------------------------------- products

  registerProduct(dto: RegisterProductDto, principal: Principal) {
    return registerProduct(this.core, this.claims, dto, principal);
  }

  getProduct(id: string) {
    return getProduct(this.core, id);
  }

  // ----------------------------------------------------------------- batches

  async register(dto: RegisterBatchDto, principal: Principal, bearer?: string): Promise<BatchView> {
    const gtin = gtinOrThrow(dto.gtin);
    const producedAt = new Date(dto.producedAt);
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt <= producedAt) {
      throw badRequest('expiry', 'expiresAt must be after producedAt', [{ field: 'expiresAt', message: 'must be after producedAt' }]);
    }
    const [product] = await this.dataSource.query('SELECT * FROM products WHERE gtin = $1', [gtin]);
    if (!product) throw unprocessable('unknown-product', `No product with GTIN ${gtin} is registered in ${this.domain}`);
    if (product.owner_org_id !== principal.orgId) {
      throw unprocessable('product-owner', `GTIN ${gtin} belongs to another organisation; register your own product`);
    }
    await this.requireLocation(dto.locationId, principal);
    const [existing] = await this.dataSource.query(`SELECT 1 FROM batches WHERE gtin = $1 AND item_kind = 'lot' AND lot = $2`, [gtin, dto.lot]);
    if (existing) throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
    await claimItem(this.claims, this.domain, { gtin, kind: 'lot', value: dto.lot }, principal.orgId);
    const inputs = dto.inputs ?? [];
    const seen = new Set<string>();
    for (const i of inputs) {
      if (seen.has(i.batchId)) throw badRequest('inputs', `input ${i.batchId} is listed twice`);
      seen.add(i.batchId);
      if (i.quantity.value <= 0) throw badRequest('inputs', 'input quantities must be positive');
    }
    const refusal = this.rules.onRegister?.({
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
        const ledger = this.registry.ledger(i.domain, bearer);
        const req: ConsumeRequest = { batchId: i.batchId, quantity: i.quantity.value, unit: i.quantity.unit, outputRef: { domain: this.domain, batchId: id }, eventTime: dto.producedAt };
        taken.push({ ledger, req, result: await ledger.consume(req, principal) });
      }
      return await this.insertBatch(id, gtin, dto, product, producedAt, expiresAt, principal, taken);
    } catch (err) {
      for (const t of taken.reverse()) {
        await t.ledger
          .restore({ ...t.req, correctionOf: t.result.eventId, reason: `transformation into ${this.domain}/${id} failed` }, principal)
          .catch(() => undefined);
      }
      if ((err as { code?: string }).code === '23505') {
        throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
      }
      throw err;
    }
  }

  private async insertBatch(
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
    return this.dataSource.transaction(async (m) => {
      const [row] = (await m.query(
        `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                              location_id, produced_at, expires_at, attributes, product_id, product_category, chain_seq, chain_head,
                              produced_at_offset, expires_at_offset)
         VALUES ($1,$2,$3,$4,$5,$5,$6,$7,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING *`,
        [id, this.domain, gtin, dto.lot, dto.quantity.value, dto.quantity.unit, principal.orgId, dto.locationId, producedAt, expiresAt,
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
      const ref = { domain: DOMAIN_ENUM[this.domain], batchId: id };
      const protoInputs = inputs.map((i) => ({
        batch: { domain: DOMAIN_ENUM[i.domain as DomainName], batchId: i.batchId },
        quantity: { value: String(i.quantity.value), unit: i.quantity.unit },
      }));
      await this.outbox.append(
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
        await this.outbox.append(
          m,
          'transformationRecorded',
          { output: ref, inputs: protoInputs, eventId, eventTime: timestampFromDate(producedAt) },
          { subject: id, orgId: principal.orgId, occurredAt: producedAt },
        );
      }
      return toBatchView(row);
    });
  }

  /** The batch with its holdings (see use-cases/get-batch.ts). */
  async get(id: string, principal: Principal): Promise<BatchWithHoldings> {
    return getBatch(this.core, id, principal);
  }

  private visibleRow(id: string, principal: Principal, m?: EntityManager): Promise<BatchRow> {
    return visibleBatchRow(this.core, id, principal, m);
  }

  // ------------------------------------------------------------------ events

  async events(id: string, principal: Principal) {
    await this.visibleRow(id, principal);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
    return rows.map(toEventView);
  }

  /** See use-cases/record-event.ts. */
  recordEvent(id: string, dto: RecordEventDto, principal: Principal, within?: WithinEvent) {
    return recordEvent(this.core, id, dto, principal, within);
  }

  async verify(id: string, principal: Principal) {
    const batch = await this.visibleRow(id, principal);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
    return verifyStoredChain(batch, rows);
  }

  /**
   * What a consumer may see of a batch behind a QR code: product, status,
   * chain validity and the chain's steps (bizStep, disposition, time, place);
   * no quantities in stock, documents or sensor series.
   */
  async publicView(gtin: string, lot: string, kind: ItemKind = 'lot'): Promise<PublicBatchView> {
    const [batch] = (await this.dataSource.query('SELECT * FROM batches WHERE gtin = $1 AND item_kind = $2 AND lot = $3', [gtin, kind, lot])) as BatchRow[];
    if (!batch) throw notFound('batch', `No ${kind === 'lot' ? 'batch' : 'serialised item'} ${lot} of GTIN ${gtin} in ${this.domain}`);
    const [product] = await this.dataSource.query('SELECT * FROM products WHERE id = $1', [batch.product_id]);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [batch.id])) as EventRow[];
    const chain = verifyStoredChain(batch, rows);
    const origin = rows[0];
    const inspections: { report_no: string; agency: string; sampled_at: Date; sampled_at_offset: string | null; conclusion: string; retest_of: string | null }[] =
      await this.dataSource.query(
        'SELECT report_no, agency, sampled_at, sampled_at_offset, conclusion, retest_of FROM inspections WHERE batch_id = $1 ORDER BY recorded_at',
        [batch.id],
      );
    const certificates = (await this.hooks?.publicCertificates?.(this.dataSource.manager, batch.id)) ?? [];
    return {
      domain: this.domain,
      batch: {
        id: batch.id,
        gtin: batch.gtin,
        lot: batch.lot,
        kind: batch.item_kind,
        status: batch.status,
        producedAt: formatOffsetTime(batch.produced_at, batch.produced_at_offset),
        expiresAt: batch.expires_at ? formatOffsetTime(batch.expires_at, batch.expires_at_offset) : null,
        ownerOrgId: batch.owner_org_id,
        attributes: batch.attributes,
      },
      product: product ? { gtin: product.gtin, name: product.name, category: product.category } : null,
      origin: origin ? { locationId: origin.content.locationId as string, orgId: origin.org_id, at: formatOffsetTime(origin.event_time, origin.event_time_offset) } : null,
      chain: { valid: chain.valid, length: chain.length },
      certificates,
      inspections: inspections.map((i) => ({
        reportNo: i.report_no,
        agency: i.agency,
        sampledAt: formatOffsetTime(i.sampled_at, i.sampled_at_offset),
        conclusion: i.conclusion,
        retest: i.retest_of !== null,
      })),
      history: rows.map((r) => ({
        seq: r.seq,
        bizStep: r.biz_step,
        disposition: r.disposition,
        eventTime: formatOffsetTime(r.event_time, r.event_time_offset),
        locationId: r.content.locationId as string,
        ...(r.content.inputs ? { inputs: r.content.inputs } : {}),
        // A recall's public facts (see recall.handler.ts): the consumer scan shows them.
        ...(r.disposition === 'recalled' && r.content.recallId
          ? { recall: { recallId: r.content.recallId as string, level: r.content.level as number, reason: r.content.reason as string } }
          : {}),
      })),
    };
  }

  // ------------------------------------------------- input ledger (transformations)

  /** See use-cases/consume-input.ts. */
  consume(req: ConsumeRequest, principal: Principal): Promise<ConsumeResult> {
    return consumeInput(this.core, req, principal);
  }

  async restore(req: ConsumeRequest & { correctionOf: string; reason: string }, principal: Principal): Promise<void> {
    await restoreInput(this.core, req, principal);
  }

  // ------------------------------------------------------------------ helpers

  private requireLocation(id: string, principal: Principal, whose: 'own' | 'any' = 'own') {
    return requireLocation(this.core, id, principal, whose);
  }
}
