import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { domainNameOf, timestampDate, type RecallInitiated } from '@trace/contracts';
import { InboxDispatcher, Outbox, PoisonMessageError, type HandlerContext } from '@trace/messaging';
import { statusAfter, type BatchStatus, type Transition } from '@trace/trace-chain';
import { appendChainEvent } from './chain-writer';
import type { DomainName } from './domains';
import type { BatchRow } from './rows';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Batches a recall no longer changes: already recalled, or their chain is closed. */
const UNAFFECTED: string[] = ['recalled', 'destroyed', 'dispensed'];

/**
 * The domain side of a recall (DOMAIN.md §7): for every `recallInitiated` of
 * one of this domain's batches, a `holding` event with disposition `recalled`
 * is appended to the batch chain, in the inbox transaction under the batch row
 * lock, so the batch reads `recalled` and custody refuses moving it (409
 * `batch-recalled`). Events of other domains' batches are not this domain's
 * business. A batch already recalled (another recall, or a re-delivery), or
 * finished (destroyed, dispensed), is skipped: the handler is idempotent.
 *
 * One per domain: each domain service has its own InboxDispatcher.
 */
@Injectable()
export class RecallHandler implements OnModuleInit {
  constructor(
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject('DOMAIN_NAME') private readonly domain: DomainName,
  ) {}

  onModuleInit() {
    this.inbox.on('recallInitiated', (e, ctx) => this.onRecallInitiated(e, ctx));
  }

  async onRecallInitiated(e: RecallInitiated, { manager, envelope }: HandlerContext): Promise<void> {
    const ref = e.item?.batch;
    if (!ref) throw new PoisonMessageError('RecallInitiated without a batch');
    const domain = domainNameOf(ref.domain);
    if (domain !== this.domain) return; // another domain's batch
    if (!UUID.test(ref.batchId)) throw new PoisonMessageError('RecallInitiated with a malformed batch id');
    if (!UUID.test(e.recallId)) throw new PoisonMessageError('RecallInitiated with a malformed recall id');

    const [batch] = (await manager.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [ref.batchId.toLowerCase()])) as BatchRow[];
    // Lineage only knows batches their domain has committed: this one can never appear.
    if (!batch) throw new PoisonMessageError(`RecallInitiated for unknown ${domain} batch ${ref.batchId}`);
    if (UNAFFECTED.includes(batch.status)) return;

    const after: Transition = {
      status: statusAfter(batch.status as BatchStatus, { bizStep: 'holding', disposition: 'recalled' }),
      holderOrgId: batch.holder_org_id,
      pendingReceiverOrgId: batch.pending_receiver_org_id,
      quantity: Number(batch.quantity_value),
    };
    await appendChainEvent(
      manager,
      this.outbox,
      this.domain,
      batch,
      {
        bizStep: 'holding',
        disposition: 'recalled',
        eventTime: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(),
        locationId: batch.location_id,
        orgId: e.regulatorOrgId || envelope.orgId,
        details: {
          recallId: e.recallId,
          level: e.level,
          reason: e.reason,
          ...(e.hazard ? { hazard: e.hazard } : {}),
          ...(e.completeBy ? { completeBy: timestampDate(e.completeBy).toISOString() } : {}),
          batchStatus: after.status,
        },
      },
      after,
    );
  }
}
