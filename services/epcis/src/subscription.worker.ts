import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { nextScheduledRun, type QuerySchedule } from '@trace/epcis';
import { backoffDelay } from '@trace/messaging';
import { LOGGER, postOnce, resolveTarget, signBody, TargetRefused, WEBHOOK_OPTIONS, type Logger, type PostResult, type Principal, type Role, type WebhookOptions } from '@trace/platform';
import { NamedQueryService } from './named-query.service';
import { QueryService } from './query.service';
import { ChainWrites } from './chain-writes';
import { CAPTURES_MOVED_AT, lookHorizon, subscriptionDocument, type LookHorizon } from './subscription-controls';

/** Events read per look at one subscription; more wait for the next pass (which comes at once). */
const EVENTS_PER_LOOK = 500;
/** Deliveries claimed per pass. */
const BATCH = 32;

interface Subscription {
  id: string;
  org_id: string;
  query_name: string;
  role: string;
  created_by: string;
  cursor_record_time: string;
  cursor_key: string;
  schedule: QuerySchedule | null;
  report_if_empty: boolean;
}

interface Claimed {
  id: string;
  subscription_id: string;
  body: string;
  attempts: number;
  created_at: Date;
  dest: string;
  signature_token: string | null;
}

/** The pause between passes while no subscription exists (another replica's new subscription is seen within it). */
const IDLE_PAUSE_MS = 30_000;

/**
 * Leases the subscriptions due for a look ($1: when another write path of this process last moved the chains).
 * SKIP LOCKED: a subscription being deleted (or leased by another replica) is passed over rather
 * than waited for; waiting on several rows at once is how two statements deadlock.
 *
 * The candidates come from two indexes, one per kind (streams by looked_at, schedules by next_run_at),
 * not from reading every subscription each pass; the full condition is checked again on each row once it
 * is locked, so one another replica has just looked at is passed over as before.
 */
export const LEASE_DUE_SUBSCRIPTIONS = `WITH moved AS MATERIALIZED (SELECT GREATEST((${CAPTURES_MOVED_AT}), $1::timestamptz) AS at),
 due AS (
   SELECT id FROM query_subscriptions, moved
    WHERE id = ANY(ARRAY(
            SELECT q.id FROM query_subscriptions q, moved m WHERE q.schedule IS NULL AND (q.looked_at IS NULL OR q.looked_at < m.at)
            UNION ALL
            SELECT q.id FROM query_subscriptions q WHERE q.schedule IS NOT NULL AND q.next_run_at <= now()))
      AND (lease_until IS NULL OR lease_until < now())
      AND CASE WHEN schedule IS NULL THEN looked_at IS NULL OR looked_at < moved.at
               ELSE next_run_at <= now() END
    FOR UPDATE OF query_subscriptions SKIP LOCKED)
 UPDATE query_subscriptions s SET lease_until = now() + interval '5 minutes'
   FROM due WHERE s.id = due.id
 RETURNING s.id, s.org_id, s.query_name, s.role, s.created_by, s.cursor_record_time, s.cursor_key, s.schedule, s.report_if_empty`;

/** A look found the subscription's cursor moved (or the subscription gone) when it came to move it. */
class LookOvertaken extends Error {
  constructor(id: string) {
    super(`subscription ${id}: its cursor moved during the look`);
  }
}

/**
 * Stream subscriptions to named queries: each pass (1) looks, for every subscription, at the events
 * recorded since its cursor, and writes the matching ones (as the subscriber's organisation sees them) as
 * one delivery in the same transaction that moves the cursor (the outbox: a crash sends nothing twice
 * and loses nothing); (2) POSTs the due deliveries, signed, retried with back-off as recall's webhooks are
 * (the same WEBHOOK_* settings, the same address checks at every try).
 *
 * A look only reads events recorded before the oldest capture still running started: a long capture
 * commits events with its start as recordTime, and the cursor must not pass them before they are there.
 */
@Injectable()
export class SubscriptionDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(QueryService) private readonly queries: QueryService,
    @Inject(NamedQueryService) private readonly named: NamedQueryService,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ChainWrites) private readonly chainWrites: ChainWrites,
  ) {}

  onApplicationBootstrap() {
    if (!this.options.worker) return;
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown() {
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  /** A new subscription: look at once rather than after the idle pause. */
  nudge(): void {
    this.wake?.();
  }

  /**
   * One pass: new matches of every subscription become deliveries, then the due deliveries are sent.
   * Answers whether there is anything to watch (a subscription, or a delivery still pending).
   */
  async pass(): Promise<boolean> {
    // A stream subscription is due when the chains moved since its last look: a capture job (any
    // replica's, in the table) or another write path (heard of by ChainWrites).
    const subscriptions = (await this.ds.query(
      LEASE_DUE_SUBSCRIPTIONS,
      [this.chainWrites.movedAt ?? null],
    )) as [Subscription[], number];
    // One horizon for the pass: still safe when used later (whatever was writing then had started after it),
    // and the server's lock table is read once, not once a subscription.
    if (subscriptions[0].length) {
      const at = await lookHorizon(this.ds);
      for (const s of subscriptions[0]) await this.look(s, at);
    }
    // None leased this pass: are there any at all? With none and nothing pending the worker idles.
    const busy =
      subscriptions[0].length > 0 ||
      ((await this.ds.query(
        `SELECT EXISTS (SELECT 1 FROM query_subscriptions) OR EXISTS (SELECT 1 FROM query_subscription_deliveries WHERE status = 'pending') AS busy`,
      )) as { busy: boolean }[])[0].busy;
    for (;;) {
      const [claimed] = (await this.ds.query(
        `WITH due AS (
           SELECT id FROM query_subscription_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         UPDATE query_subscription_deliveries d SET next_attempt_at = now() + $2 * interval '1 millisecond', attempts = d.attempts + 1
           FROM due, query_subscriptions s
          WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.subscription_id, d.body, d.attempts, d.created_at, s.dest, s.signature_token`,
        [BATCH, this.options.timeoutMs * 2 + 5_000],
      )) as [Claimed[], number];
      await Promise.all(claimed.map((d) => this.attempt(d)));
      if (claimed.length < BATCH) return busy || claimed.length > 0;
    }
  }

  /**
   * A stream subscription's look reads the next EVENTS_PER_LOOK events (more: the next pass looks again at
   * once). A scheduled subscription's run reads every event recorded since the previous run, page by page
   * under its lease, then stores its next run (computed from now: runs missed while no worker ran collapse
   * into this one). An empty run sends a document only with reportIfEmpty.
   */
  private async look(s: Subscription, at: LookHorizon): Promise<void> {
    try {
      const parsed = await this.named.parsed(s.org_id, s.query_name);
      if (!parsed) return;
      const principal: Principal = { orgId: s.org_id, role: s.role as Role, clientId: s.created_by };
      let cursor = { recordTime: s.cursor_record_time, key: s.cursor_key };
      for (let page = 0; ; page++) {
        // Read at the start of the pass: what a capture or a writer running then records comes at a later look.
        const { horizon, now } = at;
        const { events, last } = await this.queries.recordedSince(parsed, cursor, horizon, EVENTS_PER_LOOK, principal);
        const more = events.length === EVENTS_PER_LOOK;
        const report = events.length > 0 || (s.schedule !== null && s.report_if_empty && page === 0);
        const nextRun = s.schedule && !more ? nextScheduledRun(s.schedule, now) : null;
        await this.ds.transaction(async (m) => {
          if (report) {
            const body = subscriptionDocument(events, s.query_name, s.id);
            await m.query(`INSERT INTO query_subscription_deliveries (id, subscription_id, body) VALUES ($1, $2, $3)`, [randomUUID(), s.id, body]);
          }
          // With more to read, a stream's looked_at stays behind so the next pass looks again at once; a
          // scheduled run keeps its lease and reads on. Otherwise it has looked up to the horizon, not up to
          // now: held back by a writer still open, it is due again until a look gets past that writer.
          //
          // The cursor moves only from the position this look read from: a look that outlived its lease (five
          // minutes) may find that another worker leased the subscription since and sent these events already.
          // Its delivery is then rolled back with it, so no event is sent twice.
          const [, moved] = (await m.query(
            `UPDATE query_subscriptions SET cursor_record_time = $2, cursor_key = $3, looked_at = CASE WHEN $4 THEN looked_at ELSE $5::timestamptz END,
                    next_run_at = COALESCE($6::timestamptz, next_run_at), lease_until = CASE WHEN $4 AND schedule IS NOT NULL THEN lease_until ELSE NULL END
              WHERE id = $1 AND cursor_record_time = $7 AND cursor_key = $8`,
            [s.id, last.recordTime, last.key, more, horizon, nextRun, cursor.recordTime, cursor.key],
          )) as [unknown, number];
          if (moved !== 1) throw new LookOvertaken(s.id);
        });
        if (!more || !s.schedule) return;
        cursor = last;
      }
    } catch (err) {
      // Overtaken (or deleted): the lease is another worker's now, or there is none to give back.
      if (err instanceof LookOvertaken) {
        this.logger.warn({ subscription: s.id }, 'EPCIS subscription look overtaken by another worker after its lease ran out; its delivery was not written');
        return;
      }
      await this.ds.query(`UPDATE query_subscriptions SET lease_until = NULL WHERE id = $1`, [s.id]).catch(() => undefined);
      throw err;
    }
  }

  private async attempt(d: Claimed): Promise<void> {
    const url = new URL(d.dest);
    let result: PostResult;
    try {
      // Checked at every try: a name may resolve elsewhere since the subscription was made.
      const target = await resolveTarget(url, this.options.allowPrivate);
      const headers: Record<string, string> = { 'content-type': 'application/ld+json', 'gs1-epcis-version': '2.0.0', 'x-trace-delivery': d.id };
      // GS1-Signature: HMAC-SHA256 of the body keyed with the subscriber's signatureToken (the binding leaves the scheme to us).
      if (d.signature_token) headers['gs1-signature'] = signBody(d.body, d.signature_token);
      result = await postOnce(url, target, d.body, headers, this.options.timeoutMs);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      result = { statusCode: null, error: `refused: ${err.message}`, durationMs: 0 };
    }
    if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
      await this.ds.transaction(async (m) => {
        // The subscription first, then its delivery: the order a DELETE of the subscription locks them in
        // (the row, then its deliveries by cascade). The other order deadlocks with a concurrent DELETE.
        await m.query(`UPDATE query_subscriptions SET last_notified_at = now() WHERE id = $1`, [d.subscription_id]);
        await m.query(`UPDATE query_subscription_deliveries SET status = 'delivered', delivered_at = now(), last_status = $2, last_error = NULL WHERE id = $1`, [d.id, result.statusCode]);
      });
      return;
    }
    const error = result.error ?? `HTTP ${result.statusCode}`;
    const givingUp = Date.now() - d.created_at.getTime() >= this.options.retryForMs;
    const delay = backoffDelay(d.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
    await this.ds.query(
      `UPDATE query_subscription_deliveries SET status = CASE WHEN $5 THEN 'failed' ELSE status END, next_attempt_at = now() + $4 * interval '1 millisecond',
              last_status = $2, last_error = $3
        WHERE id = $1 AND status = 'pending'`,
      [d.id, result.statusCode, error.slice(0, 2000), delay, givingUp],
    );
    this.logger.debug({ delivery: d.id, attempt: d.attempts, statusCode: result.statusCode, error }, 'EPCIS subscription delivery failed');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let pause = this.options.pollMs;
      try {
        // Nothing subscribed anywhere: look every 30 s instead of every poll (a subscription made here nudges).
        if (!(await this.pass())) pause = Math.max(this.options.pollMs, IDLE_PAUSE_MS);
        failures = 0;
      } catch (err) {
        failures++;
        pause = backoffDelay(failures, this.options.pollMs, 30_000);
        this.logger.warn({ err, pause }, 'EPCIS subscription pass failed; will retry');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, pause);
      });
    }
  }
}
