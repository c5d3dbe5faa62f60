import { DataSource } from 'typeorm';
import { epcisQueryDocument, parseQuerySchedule, type ContextualEvent, type EpcisEvent, type QuerySchedule } from '@trace/epcis';
import { parseOffsetTime } from '@trace/trace-chain';

type Problem = { field: string; message: string };

/** A subscription's controls, the same whether posted (webhook) or given as WebSocket query parameters. */
export interface SubscriptionControls {
  schedule?: QuerySchedule;
  reportIfEmpty: boolean;
  initialRecordTime: Date;
}

/**
 * Reads stream / schedule / reportIfEmpty / initialRecordTime, pushing a problem per bad member (`at`
 * prefixes the field: "/" for a body's members, "" for query parameters).
 */
export function readSubscriptionControls(b: { stream?: unknown; schedule?: unknown; reportIfEmpty?: unknown; initialRecordTime?: unknown }, errors: Problem[], at: string): SubscriptionControls {
  let schedule: QuerySchedule | undefined;
  if (b.schedule !== undefined) {
    const parsed = parseQuerySchedule(b.schedule);
    if ('problems' in parsed) errors.push(...parsed.problems.map((p) => ({ field: at === '' ? p.field.replace(/^\//, '') || 'schedule' : `${at}schedule${p.field}`, message: p.message })));
    else schedule = parsed.schedule;
    // The binding: "scheduling parameters and the stream parameter are mutually exclusive".
    if (b.stream !== undefined && b.stream !== false) errors.push({ field: `${at}stream`, message: 'not with a schedule: a subscription is either scheduled or a stream' });
  } else if (b.stream !== true) {
    errors.push({ field: `${at}stream`, message: 'must be true, or give a schedule (second, minute, hour, dayOfMonth, month, dayOfWeek)' });
  }
  if (b.reportIfEmpty !== undefined && (typeof b.reportIfEmpty !== 'boolean' || b.schedule === undefined)) {
    errors.push({ field: `${at}reportIfEmpty`, message: 'a boolean, and only with a schedule' });
  }
  let initialRecordTime = new Date();
  if (b.initialRecordTime !== undefined) {
    const t = parseOffsetTime(b.initialRecordTime);
    if ('problem' in t) errors.push({ field: `${at}initialRecordTime`, message: t.problem });
    else initialRecordTime = t.instant;
  }
  return { schedule, reportIfEmpty: b.reportIfEmpty === true, initialRecordTime };
}

/** The document a subscription delivers: an EPCISQueryDocument naming the query and the subscription. */
export function subscriptionDocument(events: readonly (EpcisEvent | ContextualEvent)[], queryName: string, subscriptionID: string): string {
  const document = epcisQueryDocument(events, queryName);
  return JSON.stringify({ ...document, epcisBody: { queryResults: { ...document.epcisBody.queryResults, subscriptionID } } });
}

/** A capture job whose heartbeat is older than this died: it no longer holds subscriptions back. */
const STALE_CAPTURE = "interval '5 minutes'";

/** Where a look stops (RFC 3339 with microseconds, exclusive) and the database's now when it was read. */
export interface LookHorizon {
  horizon: string;
  now: Date;
}

/**
 * Where a look at newly recorded events must stop, and the database's now. An event is recorded before it can
 * be seen (it is seen at its transaction's commit), so a cursor moved past the time of something still
 * uncommitted would pass over it for good. A look stops before the earliest of:
 * - the start of the oldest capture still running (its events carry that start);
 * - the start of the oldest transaction that is writing (holds a RowExclusiveLock on any table, in any
 *   database of the server: distributed, each service has its own). A chain link is recorded when its
 *   statement writes it (clock_timestamp() after the statement took that lock), so a link not yet written
 *   gets a later time than any look made before it, and one written but not committed is held back here.
 * Only writers count: a transaction that only reads, or one waiting on a row lock before it writes (a relay
 * publishing, a chain write queued behind another on one batch), delays no look. A long writer delays the
 * looks, never loses an event. pg_locks and pg_stat_activity show other sessions to the same role (or one
 * with pg_read_all_stats).
 */
export async function lookHorizon(ds: DataSource): Promise<LookHorizon> {
  const [row] = (await ds.query(LOOK_HORIZON)) as LookHorizon[];
  return row;
}

/**
 * lookHorizon's statement. The running jobs are found through capture_jobs_running_idx (a partial index
 * of the running ones), not by reading every job ever captured: a subscription's every look runs it.
 */
export const LOOK_HORIZON = `SELECT to_char(LEAST(
         COALESCE((SELECT min(created_at) FROM capture_jobs WHERE running AND heartbeat_at > now() - ${STALE_CAPTURE}), now()),
         COALESCE((SELECT min(a.xact_start) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.granted AND a.pid <> pg_backend_pid()), now())
       ) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS horizon, now() AS now`;

/**
 * When a capture job last moved the chains (finished, or beat while running): a stream subscription looks
 * again after it. Read by the subscription worker's every pass while a stream subscription exists, so it is
 * answered from the end of capture_jobs_moved_idx, an index on that very expression.
 */
export const CAPTURES_MOVED_AT = 'SELECT max(COALESCE(finished_at, heartbeat_at)) FROM capture_jobs';

