import type { DataSource } from 'typeorm';
import { deleteInChunks, PeriodicTask, RETENTION_FIRST_AFTER_MS, type Logger } from '@trace/platform';

export interface RetentionOptions {
  /** Sent outbox rows older than this (by sent_at) are deleted; 0 keeps them. Unsent rows are never touched. */
  outboxMs: number;
  /**
   * Inbox rows older than this (by processed_at) are deleted; 0 keeps them. A row is what makes a
   * re-delivery a duplicate, so this must outlast every way a message can come again: the topics'
   * retention in Kafka (a consumer group whose offsets expired reads from the earliest message kept),
   * and the outbox's own retention (an operator re-sending a row by clearing its sent_at).
   */
  inboxMs: number;
  /** Rows a statement deletes at most (default 5,000): short transactions, no long lock on the head of the table. */
  chunk?: number;
}

/**
 * Deletes what the outbox and inbox no longer need, a chunk at a time; answers how many rows of each.
 *
 * The outbox is walked from its oldest id with a cursor: ids follow creation, so the rows old enough are a
 * prefix, and a chunk that deletes none ends the walk (the table's rest is newer, or unsent behind a stuck
 * relay). Each chunk starts after the last id looked at, not at the lowest id left: the deleted rows stay in
 * the primary key as dead entries until vacuum, and a walk from the lowest id would step over all of them
 * again at every chunk. The inbox has no such order (its key is the consumer and a random event id), so its
 * old rows are found through a BRIN index on processed_at, which costs its inserts next to nothing.
 */
export async function pruneMessagingTables(ds: DataSource, opts: RetentionOptions): Promise<{ outbox: number; inbox: number }> {
  const chunk = Math.max(1, Math.floor(opts.chunk ?? 5000));
  let outbox = 0;
  if (opts.outboxMs > 0) {
    let after = '0';
    for (;;) {
      const [rows] = (await ds.query(
        // The rows to delete as an array of ids, looked up by primary key: joined to the head instead, the
        // planner may hash it against a read of the whole table.
        `WITH head AS MATERIALIZED (SELECT id, sent_at FROM outbox WHERE id > $1::bigint ORDER BY id LIMIT $2),
              gone AS (DELETE FROM outbox
                        WHERE id = ANY(ARRAY(SELECT id FROM head WHERE sent_at IS NOT NULL AND sent_at < now() - $3 * interval '1 millisecond'))
                        RETURNING id)
         SELECT (SELECT max(id) FROM head)::text AS last, (SELECT count(*) FROM head)::int AS looked, (SELECT count(*) FROM gone)::int AS deleted`,
        [after, chunk, opts.outboxMs],
      )) as { last: string | null; looked: number; deleted: number }[];
      outbox += rows.deleted;
      if (rows.deleted === 0 || rows.looked < chunk) break;
      // A full chunk was looked at, so it has a last id.
      after = rows.last as string;
    }
  }
  const inbox =
    opts.inboxMs > 0
      ? await deleteInChunks(
          async () =>
            (
              (await ds.query(
                `DELETE FROM inbox WHERE ctid = ANY(ARRAY(SELECT ctid FROM inbox WHERE processed_at < now() - $1 * interval '1 millisecond' LIMIT $2))`,
                [opts.inboxMs, chunk],
              )) as [unknown, number]
            )[1],
          chunk,
        )
      : 0;
  return { outbox, inbox };
}

/**
 * Runs pruneMessagingTables now and then: first ten minutes after start (out of the way of the start-up and of
 * an idle process's first minutes, which `idle.ts` measures), then every `everyMs`. Runs of one process never
 * overlap (PeriodicTask); two replicas pruning at once delete each row once. A failed run is logged and the
 * next one tries again.
 */
export class MessagingRetention extends PeriodicTask {
  constructor(
    private readonly ds: DataSource,
    private readonly opts: RetentionOptions & { service: string; everyMs: number; firstAfterMs?: number; logger: Logger },
  ) {
    const nothingToPrune = opts.outboxMs <= 0 && opts.inboxMs <= 0;
    const everyMs = nothingToPrune ? 0 : Math.max(0, opts.everyMs);
    super(opts.logger.child({ service: opts.service }), everyMs, 'old outbox and inbox rows deleted', everyMs, opts.firstAfterMs ?? RETENTION_FIRST_AFTER_MS);
  }

  protected async run(): Promise<Record<string, number>> {
    // Stopped with its database already closed (a test's, or a host shutting down in another order): nothing to do.
    if (!this.ds.isInitialized) return {};
    return pruneMessagingTables(this.ds, this.opts);
  }
}
