import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { MigrationInterface, QueryRunner, type EntityManager } from 'typeorm';
import type { TraceEventRecorded } from '@trace/contracts';
import { InboxDispatcher } from '@trace/messaging';
import { queryOrDefer } from '@trace/platform';
import { isUuid } from '@trace/trace-chain';


/**
 * Who took part in which batch (held it, holds a part, was shipped it): the
 * gateway's read model for "trading partners on a shared batch", who may see
 * each other's locations. Fed in the inbox transaction from the chain events
 * every domain announces, so a re-delivered event changes nothing.
 */
@Injectable()
export class BatchPartiesProjector implements OnModuleInit {
  constructor(@Inject(InboxDispatcher) private readonly inbox: InboxDispatcher) {}

  onModuleInit() {
    // A run of chain events in one statement: a recall's 10,000 events would otherwise be 10,000 inserts,
    // on the same cores as the domains marking the batches (scripts/bench/README.md, before and after holdings).
    this.inbox.onRun('traceEventRecorded', (events, { manager }) => this.onTraceEvents(events.map((e) => e.payload), manager));
  }

  async onTraceEvents(events: TraceEventRecorded[], manager: EntityManager): Promise<void> {
    const batchIds: string[] = [];
    const orgIds: string[] = [];
    for (const e of events) {
      const batchId = e.batch?.batchId ?? '';
      if (!isUuid(batchId)) continue;
      const orgs = new Set([e.holderOrgId, e.toOrgId, ...(e.holdings?.items ?? []).map((h) => h.orgId)].filter((o): o is string => !!o && o.length <= 200));
      for (const org of orgs) {
        batchIds.push(batchId.toLowerCase());
        orgIds.push(org);
      }
    }
    if (batchIds.length === 0) return;
    // Nothing reads it back in the inbox transaction: it goes out with the COMMIT.
    await queryOrDefer(manager, `INSERT INTO batch_parties (batch_id, org_id) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`, [
      batchIds,
      orgIds,
    ]);
  }
}

/** Two organisations are trading partners when they took part in one batch. */
export const SHARED_BATCH_SQL = `SELECT 1 FROM batch_parties a JOIN batch_parties b ON a.batch_id = b.batch_id WHERE a.org_id = $1 AND b.org_id = $2 LIMIT 1`;

export class GatewayBatchParties1765000260000 implements MigrationInterface {
  name = 'GatewayBatchParties1765000260000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE batch_parties (
        batch_id uuid NOT NULL,
        org_id   text NOT NULL,
        PRIMARY KEY (batch_id, org_id)
      )`);
    await q.query(`CREATE INDEX batch_parties_org_idx ON batch_parties (org_id, batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE batch_parties');
  }
}
