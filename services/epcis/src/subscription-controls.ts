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

/**
 * Where a look at newly recorded events must stop (the start of the oldest capture still running: a long
 * capture commits events with its start as recordTime, and a cursor must not pass them before they are
 * there), and the database's now.
 */
export async function captureHorizon(ds: DataSource): Promise<{ horizon: string; now: Date }> {
  const [row] = (await ds.query(CAPTURE_HORIZON)) as { horizon: string; now: Date }[];
  return row;
}

/**
 * captureHorizon's statement. The running jobs are found through capture_jobs_running_idx (a partial index
 * of the running ones), not by reading every job ever captured: a subscription's every look runs it.
 */
export const CAPTURE_HORIZON = `SELECT to_char(COALESCE(min(created_at), now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS horizon, now() AS now
       FROM capture_jobs WHERE running AND heartbeat_at > now() - ${STALE_CAPTURE}`;

/**
 * When a capture job last moved the chains (finished, or beat while running): a stream subscription looks
 * again after it. Read by the subscription worker's every pass while a stream subscription exists, so it is
 * answered from the end of capture_jobs_moved_idx, an index on that very expression.
 */
export const CAPTURES_MOVED_AT = 'SELECT max(COALESCE(finished_at, heartbeat_at)) FROM capture_jobs';

