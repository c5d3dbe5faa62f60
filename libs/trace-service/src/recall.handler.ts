import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { afterCommit, LOGGER, type Logger } from '@trace/platform';
import { domainNameOf, timestampDate, type RecallInitiated } from '@trace/contracts';
import { InboxDispatcher, Outbox, PoisonMessageError, type HandlerContext } from '@trace/messaging';
import { isUuid, statusAfter, type BatchStatus, type Transition } from '@trace/trace-chain';
import { appendChainEvents, type ChainAppend } from './store';
import type { DomainName } from './domains';
import { NativeHashBackfill } from './native-hash-backfill';
import type { BatchRow } from './rows';


/** Batches a recall no longer changes: already recalled, or their chain is closed. */
const UNAFFECTED: string[] = ['recalled', 'destroyed', 'dispensed'];

/**
 * The domain side of a recall (DOMAIN.md §7): for every batch of this domain
 * in a `recallInitiated` chunk, a `holding` event with disposition `recalled`
 * is appended to the batch chain, all in the inbox transaction under the
 * batch row locks, so the batches read `recalled` and custody refuses moving
 * them (409 `batch-recalled`). A chunk carries a few hundred batches of one
 * domain and is applied in a handful of statements (appendChainEvents): the
 * time to mark ten thousand batches is tens of transactions, not ten thousand.
 * Batches of other domains are not this domain's business. A batch already
 * recalled (another recall, or a re-delivery), or finished (destroyed,
 * dispensed), is skipped: the handler is idempotent.
 *
 * One per domain: each domain service has its own InboxDispatcher.
 */
@Injectable()
export class RecallHandler implements OnModuleInit {
  constructor(
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject('DOMAIN_NAME') private readonly domain: DomainName,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(NativeHashBackfill) private readonly nativeHashes: NativeHashBackfill,
  ) {}

  onModuleInit() {
    this.inbox.on('recallInitiated', (e, ctx) => this.onRecallInitiated(e, ctx));
  }

  async onRecallInitiated(e: RecallInitiated, { manager, envelope }: HandlerContext): Promise<void> {
    // `item` is what a producer sent before recalls were chunked.
    const items = e.items.length > 0 ? e.items : e.item ? [e.item] : [];
    if (items.length === 0) throw new PoisonMessageError('RecallInitiated without batches');
    if (!isUuid(e.recallId)) throw new PoisonMessageError('RecallInitiated with a malformed recall id');
    const ids: string[] = [];
    for (const item of items) {
      const ref = item.batch;
      if (!ref) throw new PoisonMessageError('RecallInitiated item without a batch');
      if (domainNameOf(ref.domain) !== this.domain) continue; // another domain's batch
      if (!isUuid(ref.batchId)) throw new PoisonMessageError('RecallInitiated with a malformed batch id');
      ids.push(ref.batchId.toLowerCase());
    }
    if (ids.length === 0) return;

    // In id order, as every multi-batch writer locks, so two chunks never deadlock.
    const batches = (await manager.query('SELECT * FROM batches WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [ids])) as BatchRow[];
    if (batches.length < new Set(ids).size) {
      // Lineage only knows batches their domain has committed, so this is a
      // bug or a foreign producer: mark what exists, name what does not.
      const known = new Set(batches.map((b) => b.id));
      const unknown = [...new Set(ids)].filter((id) => !known.has(id));
      this.log.error({ recallId: e.recallId, unknown: unknown.slice(0, 20) }, `recall ${e.recallId}: ${unknown.length} ${this.domain} batches in scope are unknown here`);
    }
    const eventTime = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
    const appends: ChainAppend[] = batches
      .filter((batch) => !UNAFFECTED.includes(batch.status))
      .map((batch) => {
        const after: Transition = {
          status: statusAfter(batch.status as BatchStatus, { bizStep: 'holding', disposition: 'recalled' }),
          holderOrgId: batch.holder_org_id,
          pendingReceiverOrgId: batch.pending_receiver_org_id,
          quantity: Number(batch.quantity_value),
        };
        return {
          batch,
          after,
          event: {
            bizStep: 'holding',
            disposition: 'recalled',
            eventTime,
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
        };
      });
    await appendChainEvents(manager, this.outbox, this.domain, appends);
    // Their CBV event hashes were queued (appendChainEvents): stored once the marking is done.
    if (appends.length) afterCommit(manager, () => this.nativeHashes.soon(), 'native-hashes');
  }
}
