import type { DataSource } from 'typeorm';
import type { IdentityClaims } from '@trace/contracts';
import type { ContextualEvent } from '@trace/epcis';
import type { Outbox } from '@trace/messaging';
import type { Directory, Principal } from '@trace/platform';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainHooks } from './batch.service';
import type { DomainName } from './domains';
import { applyCapture, type CaptureCore } from './epcis/apply-capture';
import type { ApplyRequest, ApplyResult, DomainQuery, EpcisLedger, QueriedEvent, ResolveRequest, ResolveResult } from './epcis/contract';
import { exportChain } from './epcis/export-chain';
import { queryEvents } from './epcis/query-events';
import { resolveObjects } from './epcis/resolve';
import type { BatchRow } from './rows';
import { visibleBatchRow } from './use-cases/core';

export * from './epcis/contract';

/**
 * The EPCIS side of one domain's trace chains: stores captured events on the
 * batches they name (creating unknown batches the document describes well
 * enough), exports a chain as EPCIS and answers the query interface for its
 * chains, REST-recorded and captured alike. Each of these is a use case of
 * its own in ./epcis/.
 */
export class EpcisChainService implements EpcisLedger {
  private readonly core: CaptureCore;

  constructor(
    domain: DomainName,
    dataSource: DataSource,
    outbox: Outbox,
    directory?: Directory,
    /** Where batches created from captured events claim their lot or serial across all domains (see identity.ts). */
    claims?: IdentityClaims,
    rules?: DomainRules,
    hooks?: DomainHooks,
  ) {
    this.core = { domain, dataSource, outbox, directory, claims, rules, hooks };
  }

  resolve(req: ResolveRequest): Promise<ResolveResult> {
    return resolveObjects(this.core.dataSource, req);
  }

  apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult> {
    return applyCapture(this.core, req, principal, onProgress);
  }

  /** The batch's chain as EPCIS events (see exportChain: `chain` attaches each link, internal ids and all). */
  export(batch: BatchRow, opts: { chain: boolean } = { chain: false }): Promise<ContextualEvent[]> {
    return exportChain(this.core.dataSource, this.core.directory, this.core.domain, batch, opts);
  }

  query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]> {
    return queryEvents(this.core.dataSource, this.core.directory, q, principal);
  }

  /** The batch row, if the principal may see it (the rule of the batch endpoints). */
  visibleBatch(id: string, principal: Principal): Promise<BatchRow> {
    return visibleBatchRow(this.core, id, principal);
  }
}
