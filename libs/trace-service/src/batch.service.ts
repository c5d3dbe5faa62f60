import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { Outbox } from '@trace/messaging';
import {
  badRequest,
  conflict,
  DomainError,
  notFound,
  unprocessable,
  type Directory,
  type Principal,
} from '@trace/platform';
import {
  applyCustody,
  categoryRefusal,
  GENESIS_HASH,
  isBizStep,
  isDisposition,
  isRefusal,
  nextLink,
  verifyChain,
  type DomainRules,
  type EventContext,
  type Refusal,
  type RuleRefusal,
  type Transition,
} from '@trace/trace-chain';
import type { BatchRegistry, ConsumeRequest, ConsumeResult, InputLedger, PublicBatchView } from './batch-registry';
import { appendChainEvent } from './chain-writer';
import { DOMAIN_ENUM, type DomainName } from './domains';
import type { RecordEventDto, RegisterBatchDto, RegisterProductDto } from './dto';
import { chainLinkOf, toBatchView, toEventView, type BatchRow, type BatchView, type EventRow } from './rows';

export { DOMAINS, DOMAIN_ENUM, type DomainName } from './domains';
export type { BatchView } from './rows';

const refuse = (r: Refusal | RuleRefusal): never => {
  const field = 'field' in r && r.field ? { errors: [{ field: r.field, message: r.message }] } : {};
  throw new DomainError(r.status, r.rule, r.message, field);
};

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

function gtinOrThrow(input: string): string {
  try {
    return normalizeGtin(input);
  } catch (err) {
    if (err instanceof Gs1Error) throw badRequest('gtin', err.message, [{ field: 'gtin', message: err.message }]);
    throw err;
  }
}

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
  ) {}

  // ---------------------------------------------------------------- products

  async registerProduct(dto: RegisterProductDto, principal: Principal) {
    const gtin = gtinOrThrow(dto.gtin);
    const unknownCategory = this.rules.categories && categoryRefusal(this.rules.categories, dto.category);
    if (unknownCategory) refuse(unknownCategory);
    const rows = await this.dataSource.query(
      `INSERT INTO products (id, gtin, name, category, owner_org_id, attributes) VALUES ($1,$2,$3,$4,$5,$6)
       ON CONFLICT (gtin) DO NOTHING RETURNING *`,
      [randomUUID(), gtin, dto.name, dto.category, principal.orgId, dto.attributes ?? {}],
    );
    if (rows.length === 0) throw conflict('duplicate-gtin', `A product with GTIN ${gtin} already exists in ${this.domain}`);
    return productView(rows[0]);
  }

  async getProduct(id: string) {
    const rows = await this.dataSource.query('SELECT * FROM products WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('product', `No product ${id} in ${this.domain}`);
    return productView(rows[0]);
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
    const [existing] = await this.dataSource.query('SELECT 1 FROM batches WHERE gtin = $1 AND lot = $2', [gtin, dto.lot]);
    if (existing) throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
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
    if (refusal) refuse(refusal);

    const id = randomUUID();
    // Inputs are taken first, each on its own chain in its own service; if a
    // later step fails they are given back by compensating events.
    const taken: { ledger: InputLedger; req: ConsumeRequest; result: ConsumeResult }[] = [];
    try {
      for (const i of inputs) {
        const ledger = this.registry.ledger(i.domain, bearer);
        const req: ConsumeRequest = { batchId: i.batchId, quantity: i.quantity.value, unit: i.quantity.unit, outputRef: { domain: this.domain, batchId: id } };
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
    const link = nextLink(undefined, content, { bizStep, disposition: 'active', eventTime: producedAt, orgId: principal.orgId });
    return this.dataSource.transaction(async (m) => {
      const [row] = (await m.query(
        `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                              location_id, produced_at, expires_at, attributes, product_id, product_category, chain_seq, chain_head)
         VALUES ($1,$2,$3,$4,$5,$5,$6,$7,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING *`,
        [id, this.domain, gtin, dto.lot, dto.quantity.value, dto.quantity.unit, principal.orgId, dto.locationId, producedAt, expiresAt,
          dto.attributes ?? {}, product.id, product.category, link.seq, link.hash],
      )) as BatchRow[];
      await m.query(`INSERT INTO batch_custody (batch_id, org_id) VALUES ($1, $2)`, [id, principal.orgId]);
      await m.query(
        `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash, hash_version)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
        [eventId, id, link.seq, bizStep, 'active', producedAt, principal.orgId, content, link.prevHash, link.hash, link.version],
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

  /** Operators see what their organisation owns, holds or held; inspectors and regulators see all. */
  async get(id: string, principal: Principal): Promise<BatchView> {
    return toBatchView(await this.visibleRow(id, principal));
  }

  private async visibleRow(id: string, principal: Principal, m: EntityManager = this.dataSource.manager): Promise<BatchRow> {
    const [row] = (await m.query('SELECT * FROM batches WHERE id = $1', [id])) as BatchRow[];
    if (row && principal.role === 'operator') {
      const [held] = await m.query('SELECT 1 FROM batch_custody WHERE batch_id = $1 AND org_id = $2', [id, principal.orgId]);
      const incoming = row.pending_receiver_org_id === principal.orgId;
      if (held || incoming) return row;
    } else if (row) return row;
    throw notFound('batch', `No batch ${id} in ${this.domain}`);
  }

  // ------------------------------------------------------------------ events

  async events(id: string, principal: Principal) {
    await this.visibleRow(id, principal);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
    return rows.map(toEventView);
  }

  async recordEvent(id: string, dto: RecordEventDto, principal: Principal, within?: WithinEvent) {
    if (!isBizStep(dto.bizStep)) {
      throw badRequest('biz-step', `${dto.bizStep} is not a CBV 2.0 bizStep`, [{ field: 'bizStep', message: 'not a CBV 2.0 bizStep' }]);
    }
    if (dto.disposition !== undefined && !isDisposition(dto.disposition)) {
      throw badRequest('disposition', `${dto.disposition} is not a CBV 2.0 disposition`, [
        { field: 'disposition', message: 'not a CBV 2.0 disposition' },
      ]);
    }
    // Existence first: another organisation's batch must not be probed through validation answers.
    await this.visibleRow(id, principal);
    if (['commissioning', 'transforming'].includes(dto.bizStep)) {
      throw unprocessable('biz-step', `${dto.bizStep} is recorded by registering a batch (with inputs for a transformation)`);
    }
    const location = await this.requireLocation(dto.locationId, principal, dto.bizStep === 'receiving' ? 'any' : 'own');
    if (dto.toOrgId && this.directory && !(await this.directory.organisation(dto.toOrgId))) {
      throw unprocessable('unknown-organisation', `No organisation ${dto.toOrgId}`);
    }
    const toLocation = dto.toLocationId ? await this.requireLocation(dto.toLocationId, principal, 'any') : undefined;
    const eventTime = new Date(dto.eventTime);
    if (eventTime.getTime() > Date.now() + 5 * 60_000) throw badRequest('event-time', 'eventTime lies in the future');

    return this.dataSource.transaction(async (m) => {
      // Visibility was checked above and batches are never deleted: the row lock is all that is left to take.
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [id])) as BatchRow[];
      const consumes = dto.bizStep === 'destroying' && dto.quantity ? dto.quantity.value : undefined;
      if (dto.quantity && dto.quantity.unit !== batch.quantity_unit) {
        throw unprocessable('unit-mismatch', `The batch is counted in ${batch.quantity_unit}, not ${dto.quantity.unit}`);
      }
      const proposed = {
        bizStep: dto.bizStep as never,
        disposition: dto.disposition as never,
        actorOrgId: principal.orgId,
        toOrgId: dto.toOrgId,
        consumes: consumes !== undefined && consumes < Number(batch.quantity_value) ? consumes : undefined,
      };
      const after = applyCustody(stateOf(batch), proposed);
      if (isRefusal(after)) refuse(after);
      const ctx: EventContext = {
        batch: {
          ...stateOf(batch),
          id: batch.id,
          productCategory: batch.product_category ?? '',
          attributes: batch.attributes,
          expiresAt: batch.expires_at ? batch.expires_at.toISOString() : null,
          quantityUnit: batch.quantity_unit,
        },
        event: {
          ...proposed,
          locationId: dto.locationId,
          toLocationKind: toLocation?.kind ?? location?.kind,
          toLocationId: dto.toLocationId,
          eventTime: eventTime.toISOString(),
          quantity: dto.quantity,
        },
      };
      const domainRefusal = this.rules.onEvent?.(ctx, (await this.hooks.eventFacts?.(m, ctx)) ?? {});
      if (domainRefusal) refuse(domainRefusal);
      const details: Record<string, unknown> = {
        toOrgId: dto.toOrgId,
        toLocationId: dto.toLocationId,
        quantity: dto.quantity,
        documents: dto.documents,
        sensors: dto.sensors,
        ...((await within?.(m, batch)) ?? {}),
      };
      const ev = await appendChainEvent(
        m,
        this.outbox,
        this.domain,
        batch,
        {
          bizStep: dto.bizStep,
          disposition: dto.disposition ?? defaultDisposition(dto.bizStep),
          eventTime,
          locationId: dto.locationId,
          orgId: principal.orgId,
          details,
        },
        after as Transition,
      );
      await this.hooks.afterEvent?.(m, ctx, { id: ev.id, seq: ev.seq });
      return { id: ev.id, seq: ev.seq, hash: ev.hash.trim(), prevHash: ev.prev_hash.trim(), eventTime: ev.event_time.toISOString() };
    });
  }

  async verify(id: string, principal: Principal) {
    const batch = await this.visibleRow(id, principal);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
    const result = verifyChain(rows.map(chainLinkOf));
    // The head recorded on the batch must be the chain's last link, or links were removed.
    if (result.valid && result.head !== (batch.chain_seq > 0 ? batch.chain_head.trim() : GENESIS_HASH)) {
      return { valid: false, length: result.length, head: result.head, brokenAt: { seq: result.length + 1, reason: 'missing_links' } };
    }
    return result;
  }

  /**
   * What a consumer may see of a batch behind a QR code: product, status,
   * chain validity and the chain's steps (bizStep, disposition, time, place);
   * no quantities in stock, documents or sensor series.
   */
  async publicView(gtin: string, lot: string): Promise<PublicBatchView> {
    const [batch] = (await this.dataSource.query('SELECT * FROM batches WHERE gtin = $1 AND lot = $2', [gtin, lot])) as BatchRow[];
    if (!batch) throw notFound('batch', `No batch ${lot} of GTIN ${gtin} in ${this.domain}`);
    const [product] = await this.dataSource.query('SELECT * FROM products WHERE id = $1', [batch.product_id]);
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [batch.id])) as EventRow[];
    const chain = verifyChain(rows.map(chainLinkOf));
    const origin = rows[0];
    const inspections: { report_no: string; agency: string; sampled_at: Date; conclusion: string; retest_of: string | null }[] =
      await this.dataSource.query(
        'SELECT report_no, agency, sampled_at, conclusion, retest_of FROM inspections WHERE batch_id = $1 ORDER BY recorded_at',
        [batch.id],
      );
    const certificates = (await this.hooks?.publicCertificates?.(this.dataSource.manager, batch.id)) ?? [];
    return {
      domain: this.domain,
      batch: {
        id: batch.id,
        gtin: batch.gtin,
        lot: batch.lot,
        status: batch.status,
        producedAt: batch.produced_at.toISOString(),
        expiresAt: batch.expires_at ? batch.expires_at.toISOString() : null,
        ownerOrgId: batch.owner_org_id,
        attributes: batch.attributes,
      },
      product: product ? { gtin: product.gtin, name: product.name, category: product.category } : null,
      origin: origin ? { locationId: origin.content.locationId as string, orgId: origin.org_id, at: origin.event_time.toISOString() } : null,
      chain: { valid: chain.valid && chain.head === (batch.chain_seq > 0 ? batch.chain_head.trim() : GENESIS_HASH), length: chain.length },
      certificates,
      inspections: inspections.map((i) => ({
        reportNo: i.report_no,
        agency: i.agency,
        sampledAt: i.sampled_at.toISOString(),
        conclusion: i.conclusion,
        retest: i.retest_of !== null,
      })),
      history: rows.map((r) => ({
        seq: r.seq,
        bizStep: r.biz_step,
        disposition: r.disposition,
        eventTime: r.event_time.toISOString(),
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

  async consume(req: ConsumeRequest, principal: Principal): Promise<ConsumeResult> {
    return this.dataSource.transaction(async (m) => {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [req.batchId])) as BatchRow[];
      if (!batch) throw unprocessable('unknown-input', `No input batch ${req.batchId} in ${this.domain}`);
      if (req.unit !== batch.quantity_unit) {
        throw unprocessable('unit-mismatch', `Input ${req.batchId} is counted in ${batch.quantity_unit}, not ${req.unit}`);
      }
      const after = applyCustody(stateOf(batch), { bizStep: 'transforming', actorOrgId: principal.orgId, consumes: req.quantity });
      if (isRefusal(after)) refuse({ ...after, message: `Input ${this.domain}/${req.batchId}: ${after.message}` });
      const ev = await appendChainEvent(
        m,
        this.outbox,
        this.domain,
        batch,
        {
          bizStep: 'transforming',
          disposition: Number(batch.quantity_value) === req.quantity ? 'inactive' : 'active',
          eventTime: new Date(),
          locationId: batch.location_id,
          orgId: principal.orgId,
          details: { quantity: { value: req.quantity, unit: req.unit }, output: req.outputRef },
        },
        after as Transition,
      );
      return { eventId: ev.id, gtin: batch.gtin, lot: batch.lot };
    });
  }

  async restore(req: ConsumeRequest & { correctionOf: string; reason: string }, principal: Principal): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [req.batchId])) as BatchRow[];
      if (!batch) return;
      const [original] = await m.query('SELECT 1 FROM trace_events WHERE id = $1 AND batch_id = $2', [req.correctionOf, req.batchId]);
      if (!original) throw unprocessable('unknown-event', `No event ${req.correctionOf} on batch ${req.batchId}`);
      const state = stateOf(batch);
      await appendChainEvent(
        m,
        this.outbox,
        this.domain,
        batch,
        {
          bizStep: 'transforming',
          disposition: 'active',
          eventTime: new Date(),
          locationId: batch.location_id,
          orgId: principal.orgId,
          details: { correctionOf: req.correctionOf, reason: req.reason, restored: { value: req.quantity, unit: req.unit } },
        },
        { ...state, quantity: state.quantity + req.quantity },
      );
    });
  }

  // ------------------------------------------------------------------ helpers

  private async requireLocation(id: string, principal: Principal, whose: 'own' | 'any' = 'own') {
    if (!this.directory) return undefined;
    const location = await this.directory.location(id);
    if (!location) throw unprocessable('unknown-location', `No location ${id}`);
    if (whose === 'own' && location.orgId !== principal.orgId) {
      throw unprocessable('location-owner', `Location ${id} belongs to another organisation`);
    }
    return location;
  }
}

function stateOf(b: BatchRow) {
  return {
    status: b.status as never,
    holderOrgId: b.holder_org_id,
    pendingReceiverOrgId: b.pending_receiver_org_id,
    quantity: Number(b.quantity_value),
  };
}

function defaultDisposition(bizStep: string): string | null {
  switch (bizStep) {
    case 'shipping':
      return 'in_transit';
    case 'receiving':
      return 'in_progress';
    case 'destroying':
      return 'destroyed';
    default:
      return null;
  }
}

function productView(r: { id: string; gtin: string; name: string; category: string; owner_org_id: string; attributes: unknown; created_at: Date }) {
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
