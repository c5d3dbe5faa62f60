import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, notFound, resolveTarget, TargetRefused, WEBHOOK_OPTIONS, type Principal, type WebhookOptions } from '@trace/platform';
import { nextScheduledRun, type QuerySchedule } from '@trace/epcis';
import { NamedQueryService } from './named-query.service';
import { readSubscriptionControls } from './subscription-controls';
import { SubscriptionDeliveryWorker } from './subscription.worker';

type Problem = { field: string; message: string };

const MEMBERS = ['dest', 'signatureToken', 'stream', 'schedule', 'reportIfEmpty', 'initialRecordTime', '@context'];
/** More than this many subscriptions per organisation is a loop creating them, not a need. */
export const MAX_SUBSCRIPTIONS_PER_ORG = 25;

export type QuerySubscription = {
  subscriptionID: string;
  dest: string;
  initialRecordTime: string;
  /** The binding's GS1-Query-Min-Record-Time: the smallest record time an event still to be sent can have (initialRecordTime, then where the last look read up to). */
  minRecordTime: string;
  createdAt: string;
  lastNotifiedAt?: string;
} & ({ stream: true } | { schedule: QuerySchedule; reportIfEmpty: boolean; nextRunAt: string });

interface Row {
  id: string;
  dest: string;
  initial_record_time: Date;
  created_at: Date;
  last_notified_at: Date | null;
  schedule: QuerySchedule | null;
  report_if_empty: boolean;
  next_run_at: Date | null;
  cursor_record_time: string;
}

const COLUMNS = 'id, dest, initial_record_time, created_at, last_notified_at, schedule, report_if_empty, next_run_at, cursor_record_time';

/** The response never carries the signatureToken (the binding: "the response should not return the secret"). */
const view = (r: Row): QuerySubscription => ({
  subscriptionID: r.id,
  dest: r.dest,
  ...(r.schedule ? { schedule: r.schedule, reportIfEmpty: r.report_if_empty, nextRunAt: (r.next_run_at as Date).toISOString() } : { stream: true as const }),
  initialRecordTime: r.initial_record_time.toISOString(),
  // The cursor: every matching event recorded before it was sent (or written as a delivery); what comes is at or after it.
  minRecordTime: new Date(r.cursor_record_time).toISOString(),
  createdAt: r.created_at.toISOString(),
  ...(r.last_notified_at ? { lastNotifiedAt: r.last_notified_at.toISOString() } : {}),
});

const invalid = (errors: Problem[]) =>
  new DomainError(400, 'epcis-subscription', 'The query subscription is not valid', { errors, epcisException: 'epcisException:SubscriptionControlsException' });

/**
 * Stream subscriptions of the REST binding (`/queries/{name}/subscriptions`): per organisation, on the
 * organisation's own named queries. SubscriptionDeliveryWorker finds the newly recorded events matching
 * the query (as the subscriber would see them) and POSTs them: at once (`stream: true`) or at each time a
 * `schedule` matches (the events recorded since the previous run; an empty document only with
 * `reportIfEmpty`).
 */
@Injectable()
export class SubscriptionService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(NamedQueryService) private readonly named: NamedQueryService,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    @Inject(SubscriptionDeliveryWorker) private readonly worker: SubscriptionDeliveryWorker,
  ) {}

  async create(queryName: string, body: unknown, principal: Principal): Promise<QuerySubscription> {
    await this.named.get(queryName, principal);
    const errors: Problem[] = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid([{ field: '/', message: 'must be an object { dest, signatureToken, stream }' }]);
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!MEMBERS.includes(k)) errors.push({ field: `/${k}`, message: 'not a member of a query subscription' });
    const { schedule, reportIfEmpty, initialRecordTime: initial } = readSubscriptionControls(b, errors, '/');
    if (b.signatureToken !== undefined && (typeof b.signatureToken !== 'string' || b.signatureToken.length < 1 || b.signatureToken.length > 500)) {
      errors.push({ field: '/signatureToken', message: 'must be a string of 1-500 characters' });
    }
    let url: URL | undefined;
    try {
      url = typeof b.dest === 'string' && b.dest.length <= 2000 ? new URL(b.dest) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) errors.push({ field: '/dest', message: 'must be an http or https URL' });
    else if (url.username || url.password) errors.push({ field: '/dest', message: 'may not carry a user name or password; deliveries are signed (GS1-Signature)' });
    if (errors.length) throw invalid(errors);
    try {
      await resolveTarget(url as URL, this.options.allowPrivate);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw new DomainError(400, 'webhook-url-refused', `The subscription's dest is refused: ${err.message}`, { errors: [{ field: '/dest', message: err.message }] });
    }
    const id = randomUUID();
    const nextRun = schedule ? nextScheduledRun(schedule, new Date()) : null;
    const rows = await this.ds.transaction(async (m) => {
      // One organisation's subscriptions are created one at a time, so the cap holds under concurrent requests.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`epcis-subscriptions:${principal.orgId}`]);
      const [{ n }] = (await m.query('SELECT count(*)::int AS n FROM query_subscriptions WHERE org_id = $1', [principal.orgId])) as { n: number }[];
      if (n >= MAX_SUBSCRIPTIONS_PER_ORG) {
        throw new DomainError(422, 'too-many-subscriptions', `An organisation may have ${MAX_SUBSCRIPTIONS_PER_ORG} query subscriptions; delete one first`, { limit: MAX_SUBSCRIPTIONS_PER_ORG });
      }
      return (await m.query(
        `INSERT INTO query_subscriptions (id, org_id, query_name, role, created_by, dest, signature_token, initial_record_time, cursor_record_time, schedule, report_if_empty, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING ${COLUMNS}`,
        [id, principal.orgId, queryName, principal.role, principal.clientId, (url as URL).href, b.signatureToken ?? null, initial, initial.toISOString(),
          schedule ? JSON.stringify(schedule) : null, reportIfEmpty, nextRun],
      )) as Row[];
    });
    this.worker.nudge();
    return view(rows[0]);
  }

  async list(queryName: string, principal: Principal): Promise<QuerySubscription[]> {
    await this.named.get(queryName, principal);
    const rows = (await this.ds.query(
      `SELECT ${COLUMNS} FROM query_subscriptions WHERE org_id = $1 AND query_name = $2 ORDER BY created_at, id`,
      [principal.orgId, queryName],
    )) as Row[];
    return rows.map(view);
  }

  async get(queryName: string, id: string, principal: Principal): Promise<QuerySubscription> {
    const rows = /^[0-9a-f-]{36}$/i.test(id)
      ? ((await this.ds.query(
          `SELECT ${COLUMNS} FROM query_subscriptions WHERE org_id = $1 AND query_name = $2 AND id = $3`,
          [principal.orgId, queryName, id],
        )) as Row[])
      : [];
    if (!rows.length) throw notFound('epcis-subscription-id', `No subscription ${id} to query ${queryName}`);
    return view(rows[0]);
  }

  async remove(queryName: string, id: string, principal: Principal): Promise<void> {
    // TypeORM answers a DELETE … RETURNING with [rows, affected count].
    const [rows] = /^[0-9a-f-]{36}$/i.test(id)
      ? ((await this.ds.query(`DELETE FROM query_subscriptions WHERE org_id = $1 AND query_name = $2 AND id = $3 RETURNING id`, [principal.orgId, queryName, id])) as [unknown[], number])
      : [[]];
    if (!rows.length) throw notFound('epcis-subscription-id', `No subscription ${id} to query ${queryName}`);
  }
}
