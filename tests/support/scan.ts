import { eventually } from '@trace/testing';

type Query = <T = any>(sql: string, params: unknown[]) => Promise<T[]>;

/**
 * Waits until the gateway's inbox (schemas under `prefix`) has taken the chain
 * event that marked `batchId` of the agri service recalled: from then on the
 * gateway's next scan of it must show the recall.
 */
export async function gatewayHeardRecall(query: Query, prefix: string, batchId: string, timeoutMs = 30_000): Promise<void> {
  const [announced] = await eventually(async () => {
    const rows = await query<{ event_id: string }>(
      `SELECT o.event_id FROM ${prefix}agri.outbox o
        WHERE o.message_key = $1 AND o.topic = 'trace.event.v1'
          AND EXISTS (SELECT 1 FROM ${prefix}agri.trace_events e WHERE e.batch_id::text = $1 AND e.disposition = 'recalled')
        ORDER BY o.id DESC LIMIT 1`,
      [batchId],
    );
    return rows.length ? rows : undefined;
  }, timeoutMs);
  await eventually(async () => (await query(`SELECT 1 FROM ${prefix}gateway.inbox WHERE event_id = $1`, [announced.event_id])).length > 0, timeoutMs);
}
