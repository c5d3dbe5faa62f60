import { DataSource, type EntityManager } from 'typeorm';
import type { IdentityClaims, ItemKind } from '@trace/contracts';
import { Outbox } from '@trace/messaging';
import type { Directory, Principal } from '@trace/platform';
import type { DomainRules, EventContext } from '@trace/trace-chain';
import type { BatchRegistry, ConsumeRequest, ConsumeResult, InputLedger, PublicBatchView } from './batch-registry';
import { consumeInput, restoreInput } from './use-cases/consume-input';
import type { TraceCore } from './use-cases/core';
import { getBatch, type BatchWithHoldings } from './use-cases/get-batch';
import { getProduct } from './use-cases/get-product';
import { listEvents } from './use-cases/list-events';
import { publicView } from './use-cases/public-view';
import { registerBatch } from './use-cases/register-batch';
import { registerProduct } from './use-cases/register-product';
import { recordEvent } from './use-cases/record-event';
import { verifyBatchChain } from './use-cases/verify-chain';
import type { DomainName } from './domains';
import type { RecordEventDto, RegisterBatchDto, RegisterProductDto } from './dto';
import type { BatchRow, BatchView } from './rows';
import { CachedDirectory } from './directory-cache';

export { DOMAINS, DOMAIN_ENUM, type DomainName } from './domains';
export type { BatchView } from './rows';

/**
 * What a domain service adds to the core's event transaction (not pure, unlike
 * `DomainRules`): the facts its rules need, read with the batch row locked,
 * and its own records written after the event is appended.
 */
export interface DomainHooks {
  eventFacts?(m: EntityManager, ctx: EventContext): Promise<Record<string, unknown>>;
  /**
   * eventFacts of many batches in one statement, whatever the step (the rules look at the step
   * themselves): a captured document checks thousands of events, one round trip each was most of
   * its time. Every id asked has an entry (a batch with nothing on record gets what eventFacts gives it).
   */
  eventFactsOfBatches?(m: EntityManager, batchIds: readonly string[]): Promise<Map<string, Record<string, unknown>>>;
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
    this.core = { domain, dataSource, outbox, rules, directory: directory && new CachedDirectory(directory), hooks };
  }

  private readonly core: TraceCore;

  /** The directory the core writes with (cached): other writers on these chains name locations through it too. */
  get chainDirectory(): Directory | undefined {
    return this.core.directory;
  }

  // ---------------------------------------------------------------- products

  registerProduct(dto: RegisterProductDto, principal: Principal) {
    return registerProduct(this.core, this.claims, dto, principal);
  }

  getProduct(id: string) {
    return getProduct(this.core, id);
  }

  // ----------------------------------------------------------------- batches

  /** See use-cases/register-batch.ts. */
  register(dto: RegisterBatchDto, principal: Principal, bearer?: string): Promise<BatchView> {
    return registerBatch(this.core, { registry: this.registry, claims: this.claims }, dto, principal, bearer);
  }

  /** The batch with its holdings (see use-cases/get-batch.ts). */
  async get(id: string, principal: Principal): Promise<BatchWithHoldings> {
    return getBatch(this.core, id, principal);
  }

  // ------------------------------------------------------------------ events

  /** See use-cases/list-events.ts. */
  events(id: string, principal: Principal) {
    return listEvents(this.core, id, principal);
  }

  /** See use-cases/record-event.ts. */
  recordEvent(id: string, dto: RecordEventDto, principal: Principal, within?: WithinEvent) {
    return recordEvent(this.core, id, dto, principal, within);
  }

  /** See use-cases/verify-chain.ts. */
  verify(id: string, principal: Principal) {
    return verifyBatchChain(this.core, id, principal);
  }

  /** What a consumer may see of a batch behind a QR code (use-cases/public-view.ts). */
  publicView(gtin: string, lot: string, kind: ItemKind = 'lot'): Promise<PublicBatchView> {
    return publicView(this.core, gtin, lot, kind);
  }

  // ------------------------------------------------- input ledger (transformations)

  /** See use-cases/consume-input.ts. */
  consume(req: ConsumeRequest, principal: Principal): Promise<ConsumeResult> {
    return consumeInput(this.core, req, principal);
  }

  async restore(req: ConsumeRequest & { correctionOf: string; reason: string }, principal: Principal): Promise<void> {
    await restoreInput(this.core, req, principal);
  }
}
