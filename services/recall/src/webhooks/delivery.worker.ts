import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { backoffDelay, sleep } from '@trace/messaging';
import {
  LOGGER,
  PLATFORM_CONFIG,
  postOnce,
  resolveTarget,
  schemaFor,
  signBody,
  TargetRefused,
  WEBHOOK_OPTIONS,
  type Logger,
  type PlatformConfig,
  type PostResult,
  type WebhookOptions,
} from '@trace/platform';
import { webhookChannel } from './webhook.notifier';

/** Deliveries claimed per pass, and sent at once. */
const BATCH = 64;

interface Claimed {
  id: string;
  type: string;
  occurred_at: Date;
  data: unknown;
  attempts: number;
  created_at: Date;
  url: string;
  secret: string;
}

/**
 * Sends pending webhook deliveries: claims the due ones (FOR UPDATE SKIP
 * LOCKED, so replicas share the work), POSTs them signed, and records each
 * attempt. A failure (no 2xx, no answer) is tried again after an exponential
 * back-off (WEBHOOK_RETRY_BASE_MS doubling, with jitter, up to
 * WEBHOOK_RETRY_MAX_MS) until WEBHOOK_RETRY_FOR_MS after the event, then the
 * delivery is `failed`.
 *
 * Claiming moves the row's next_attempt_at past the time a POST can take (the
 * lease): a worker that dies mid-POST leaves the row to whoever looks next,
 * after the lease. A receiver may therefore see a delivery twice, with the
 * same id (X-Trace-Delivery): at least once, never lost.
 */
/** The longest pause between passes while LISTEN is up: notifications wake the worker, this is for one that was missed. */
const LISTENING_SAFETY_NET_MS = 30_000;

@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** A wake-up that came while a pass was running: the next pause returns at once. */
  private woken = false;
  private listener?: Client;
  private readonly channel: string;
  private readonly databaseUrl: string;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.channel = webhookChannel(schemaFor('recall', config.DB_SCHEMA_PREFIX));
    this.databaseUrl = config.DATABASE_URL as string;
  }

  onApplicationBootstrap() {
    if (this.options.allowPrivate) this.logger.warn('WEBHOOK_ALLOW_PRIVATE=true: webhooks may target loopback and private addresses (tests and development only)');
    if (this.options.worker) this.start();
  }

  // Before the databases close (their onApplicationShutdown): a POST in flight finishes and is recorded.
  async beforeApplicationShutdown() {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    void this.listen();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** Ask for a pass now (deliveries were committed). */
  nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Sends everything due now (one pass per BATCH); returns how many deliveries were attempted. */
  async deliverDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claim();
      // Every attempt of the pass finishes (and is recorded) before a failure of one is reported.
      const failed = (await Promise.allSettled(claimed.map((d) => this.attempt(d)))).find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      total += claimed.length;
      if (claimed.length < BATCH) return total;
    }
  }

  private async claim(): Promise<Claimed[]> {
    const leaseMs = this.options.timeoutMs * 2 + 5_000;
    // TypeORM answers an UPDATE … RETURNING with [rows, affected].
    const [rows] = (await this.ds.query(
      `WITH due AS (
         SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d SET next_attempt_at = now() + $2 * interval '1 millisecond', attempts = d.attempts + 1
         FROM due, webhook_subscriptions s
        WHERE d.id = due.id AND s.id = d.subscription_id
       RETURNING d.id, d.type, d.occurred_at, d.data, d.attempts, d.created_at, s.url, s.secret`,
      [BATCH, leaseMs],
    )) as [Claimed[], number];
    return rows;
  }

  private async attempt(d: Claimed): Promise<void> {
    // The same bytes on every try: the id, the event time and the stored data do not change.
    const body = JSON.stringify({ id: d.id, type: d.type, occurredAt: d.occurred_at.toISOString(), data: d.data });
    const url = new URL(d.url);
    const at = new Date();
    let result: PostResult;
    try {
      // Checked at every try: a name may resolve elsewhere since the subscription was made.
      const target = await resolveTarget(url, this.options.allowPrivate);
      result = await postOnce(url, target, body, { 'x-trace-delivery': d.id, 'x-trace-signature': signBody(body, d.secret), 'x-trace-event': d.type }, this.options.timeoutMs);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      result = { statusCode: null, error: `refused: ${err.message}`, durationMs: 0 };
    }
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const entry = JSON.stringify([{ at: at.toISOString(), statusCode: result.statusCode, error: result.error, durationMs: result.durationMs }]);
    if (ok) {
      await this.ds.query(
        `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status = $2, last_error = NULL, log = log || $3::jsonb
          WHERE id = $1 AND status = 'pending'`,
        [d.id, result.statusCode, entry],
      );
      return;
    }
    const error = result.error ?? `HTTP ${result.statusCode}`;
    const givingUp = Date.now() - d.created_at.getTime() >= this.options.retryForMs;
    const delay = backoffDelay(d.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
    await this.ds.query(
      `UPDATE webhook_deliveries
          SET status = CASE WHEN $5 THEN 'failed' ELSE status END, next_attempt_at = now() + $4 * interval '1 millisecond',
              last_status = $2, last_error = $3, log = log || $6::jsonb
        WHERE id = $1 AND status = 'pending'`,
      [d.id, result.statusCode, error.slice(0, 2000), delay, givingUp, entry],
    );
    this.logger.debug({ delivery: d.id, attempt: d.attempts, statusCode: result.statusCode, error, retryInMs: givingUp ? null : delay }, 'webhook delivery failed');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.deliverDue();
        failures = 0;
        await this.pause(await this.untilNextDue());
      } catch (err) {
        if (!this.running) break;
        failures++;
        const delay = backoffDelay(failures, this.options.pollMs, 30_000);
        this.logger.warn({ err, delay }, 'webhook delivery pass failed; will retry');
        await this.pause(delay);
      }
    }
  }

  /** How long the worker pauses after a pass: until the earliest pending delivery is due, at most the poll interval. */
  async untilNextDue(): Promise<number> {
    // Not GREATEST(0, …) in SQL: GREATEST skips a NULL, so with nothing pending it answered 0 and the worker
    // queried in a tight loop, taking a core from everything else in the process.
    const [row] = (await this.ds.query(
      `SELECT (EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms FROM webhook_deliveries WHERE status = 'pending'`,
    )) as { ms: number | null }[];
    // While LISTEN is up, a commit that writes deliveries wakes the worker: the timer is only a safety net then,
    // and an idle process costs two statements every 30 s instead of every second.
    const idle = this.listener ? Math.max(this.options.pollMs, LISTENING_SAFETY_NET_MS) : this.options.pollMs;
    return row?.ms === null || row?.ms === undefined ? idle : Math.max(0, Math.min(idle, Math.ceil(row.ms)));
  }

  /** Whether the LISTEN connection is up (deliveries written anywhere wake the worker at once). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  private pause(ms: number): Promise<void> {
    if (!this.running || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.woken = false;
        this.wake = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** LISTEN for commits that wrote deliveries (any replica), so a recall does not wait for the poll. */
  private async listen(): Promise<void> {
    while (this.running) {
      const client = new Client({ connectionString: this.databaseUrl, application_name: 'webhooks-recall' });
      try {
        client.on('error', () => undefined);
        await client.connect();
        client.on('notification', () => this.nudge());
        await client.query(`LISTEN "${this.channel}"`);
        this.listener = client;
        if (!this.running) break;
        await new Promise<void>((resolve) => client.once('end', () => resolve()));
      } catch (err) {
        this.logger.debug({ err }, 'webhook LISTEN connection lost; polling meanwhile');
      } finally {
        this.listener = undefined;
        await client.end().catch(() => undefined);
      }
      if (this.running) await sleep(1000);
    }
  }
}
