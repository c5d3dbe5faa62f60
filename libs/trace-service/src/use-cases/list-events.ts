import type { Principal } from '@trace/platform';
import { toEventView, type EventRow } from '../rows';
import { visibleBatchRow, type TraceCore } from './core';

/** `GET …/batches/{id}/events`: the chain of a batch the caller may see, in order. */
export async function listEvents(core: TraceCore, id: string, principal: Principal) {
  await visibleBatchRow(core, id, principal);
  const rows = (await core.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [id])) as EventRow[];
  return rows.map(toEventView);
}
