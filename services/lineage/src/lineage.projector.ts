import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Domain, timestampDate, type BatchRegistered } from '@trace/contracts';
import { InboxDispatcher, PoisonMessageError, type HandlerContext } from '@trace/messaging';

const DOMAIN_NAMES: Partial<Record<Domain, string>> = {
  [Domain.AGRI]: 'agri',
  [Domain.FOOD]: 'food',
  [Domain.DRUG]: 'drug',
  [Domain.MATERIAL]: 'material',
  [Domain.GOODS]: 'goods',
};

export function domainName(d: Domain): string {
  const name = DOMAIN_NAMES[d];
  if (!name) throw new PoisonMessageError(`unknown domain ${d}`);
  return name;
}

/** Projects batch events of every domain into the lineage graph. */
@Injectable()
export class LineageProjector implements OnModuleInit {
  constructor(@Inject(InboxDispatcher) private readonly inbox: InboxDispatcher) {}

  onModuleInit() {
    this.inbox.on('batchRegistered', (e, ctx) => this.onBatchRegistered(e, ctx));
  }

  async onBatchRegistered(e: BatchRegistered, { manager, envelope }: HandlerContext): Promise<void> {
    if (!e.batch?.batchId || e.gtin.length !== 14 || !e.lot) {
      throw new PoisonMessageError('BatchRegistered without batch id, GTIN-14 or lot');
    }
    const registeredAt = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
    await manager.query(
      `INSERT INTO lineage_nodes (batch_id, domain, gtin, lot, holder_org_id, registered_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (batch_id) DO NOTHING`,
      [e.batch.batchId, domainName(e.batch.domain), e.gtin, e.lot, e.ownerOrgId, registeredAt],
    );
    for (const input of e.inputs) {
      if (!input.batch?.batchId) throw new PoisonMessageError('transformation input without batch id');
      await manager.query(
        `INSERT INTO lineage_edges (from_batch, to_batch, kind) VALUES ($1, $2, 'input') ON CONFLICT DO NOTHING`,
        [input.batch.batchId, e.batch.batchId],
      );
    }
  }
}
