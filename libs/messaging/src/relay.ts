import { Client, escapeLiteral, type PoolClient, type QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '@trace/platform';
import { backoffDelay, sleep } from './backoff';
import type { EventTransport, OutboundMessage } from './types';

export interface RelayOptions {
  service: string;
  schema: string;
  databaseUrl: string;
  notifyChannel: string;
  /** How often to look for unsent rows while the LISTEN connection is down (and the base of the retry backoff). */
  pollMs: number;
  /**
   * How often to look anyway while LISTEN is up, as a safety net (a
   * notification lost with a connection); default IDLE_POLL_MS. Commits wake
   * the relay through NOTIFY, so an idle service costs one statement per
   * relay per this interval.
   */
  idlePollMs?: number;
  batchSize: number;
  logger: Logger;
  onPublished?: (count: number) => void;
  /**
   * Runs after the transport accepted a batch and before the rows are marked
   * sent: the window in which a crash makes the relay publish again. Tests use
   * it to crash there on purpose.
   */
  afterPublish?: (messages: OutboundMessage[]) => void | Promise<void>;
}

interface OutboxSelect {
  id: string;
  event_id: string;
  topic: string;
  message_key: string;
  event_type: string;
  payload: Buffer;
}

/**
 * Publishes committed outbox rows and marks them sent.
 *
 * It selects rows that are *unsent*, never "id greater than the last one
 * seen": sequence values are taken at insert but become visible at commit, so
 * a long transaction can commit id 7 after id 8 was published, and a
 * high-water mark would skip it forever. One relay per schema works at a time
 * (a transaction-scoped advisory lock), which keeps a subject's events in id
 * order across replicas. A crash between publish and mark re-sends; consumers'
 * inboxes absorb the duplicate.
 */
export class OutboxRelay {
  /** The safety-net interval while LISTEN is up (see RelayOptions.idlePollMs). */
  static readonly IDLE_POLL_MS = 30_000;
  private running = false;
  private wake?: () => void;
  /** A wake-up arrived since the last pass began: the next pause returns at once (one arriving mid-pass is not lost). */
  private woken = false;
  private loop?: Promise<void>;
  private listener?: Client;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly opts: RelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    void this.listen();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** Whether its LISTEN connection is up (commits wake it; polling is only the safety net). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** Ask for a pass now (e.g. right after a local commit). */
  nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Publishes everything unsent right now; returns how many rows were sent. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayOnce();
      total += n;
      if (n < this.opts.batchSize) return total;
    }
  }

  /**
   * One claim → publish → mark pass, in one transaction of two round trips:
   * `START TRANSACTION` with the lock and the claim, then the mark with
   * `COMMIT`. Multi-statement strings go over the simple protocol, which takes
   * no parameters, so the few values in them are literals made here (the lock
   * key quoted, the batch size and the claimed ids checked as integers).
   */
  async relayOnce(): Promise<number> {
    const runner = this.dataSource.createQueryRunner('master');
    const client = (await runner.connect()) as PoolClient;
    // Until COMMIT has gone through, a failure rolls the claim back (ROLLBACK outside a transaction is harmless).
    let open = true;
    try {
      const claimed = (await client.query(
        `START TRANSACTION;
         WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtext(${this.lockKey})) AS locked)
         SELECT o.id, o.event_id, o.topic, o.message_key, o.event_type, o.payload FROM lock, outbox o
          WHERE lock.locked AND o.sent_at IS NULL ORDER BY o.id LIMIT ${this.batchSize} FOR UPDATE OF o SKIP LOCKED`,
      )) as unknown as QueryResult<OutboxSelect>[];
      const rows = claimed[1].rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        open = false;
        return 0;
      }
      const messages: OutboundMessage[] = rows.map((r) => ({
        topic: r.topic,
        key: r.message_key,
        value: r.payload,
        headers: { 'event-id': r.event_id, 'event-type': r.event_type, source: this.opts.service },
      }));
      await this.transport.publish(messages);
      await this.opts.afterPublish?.(messages);
      const ids = rows.map((r) => String(r.id));
      if (!ids.every((id) => /^\d+$/.test(id))) throw new Error(`outbox ids are not integers: ${ids.join(',')}`);
      await client.query(
        `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY('{${ids.join(',')}}'::bigint[]);
         COMMIT`,
      );
      open = false;
      this.opts.onPublished?.(rows.length);
      return rows.length;
    } finally {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }

  /** The advisory lock's key as a literal: one relay per schema at a time. */
  private get lockKey(): string {
    return escapeLiteral(`outbox-relay:${this.opts.schema}`);
  }

  private get batchSize(): number {
    const n = Math.floor(this.opts.batchSize);
    if (!(n > 0)) throw new Error(`relay batchSize must be a positive integer, not ${this.opts.batchSize}`);
    return n;
  }

  private async run(): Promise<void> {
    let probe = false;
    while (this.running) {
      this.woken = false;
      let sent = 0;
      try {
        // A pass nothing asked for (the safety net) first looks whether there is anything at all: one
        // statement, instead of the transaction's four, when idle.
        sent = probe && !(await this.anyUnsent()) ? 0 : await this.drain();
        this.failures = 0;
      } catch (err) {
        if (!this.running) break;
        this.failures++;
        const delay = backoffDelay(this.failures, this.opts.pollMs, 10_000);
        this.opts.logger.warn({ err, service: this.opts.service, delay }, 'outbox relay pass failed; will retry');
        await this.recordError(err as Error);
        await this.pause(delay);
        continue;
      }
      if (sent === 0) {
        // Commits NOTIFY while the listener is up; polling only stands in for it when it is down.
        const listening = this.listener !== undefined;
        probe = !(await this.pause(listening ? (this.opts.idlePollMs ?? OutboxRelay.IDLE_POLL_MS) : this.opts.pollMs)) && listening;
      } else probe = false;
    }
  }

  private async anyUnsent(): Promise<boolean> {
    const [row] = await this.dataSource.query('SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL) AS any');
    return row.any === true;
  }

  /** Resolves after `ms`, or earlier on a wake-up (true then; also when one came before the pause began). */
  private pause(ms: number): Promise<boolean> {
    if (this.woken || !this.running) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(woken);
      };
      this.wake = () => done(true);
    });
  }

  private async recordError(err: Error): Promise<void> {
    await this.dataSource
      .query(
        `UPDATE outbox SET attempts = attempts + 1, last_error = $1
          WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $2)`,
        [String(err.message).slice(0, 2000), this.opts.batchSize],
      )
      .catch(() => undefined);
  }

  /** LISTEN for commits that wrote outbox rows (any replica), so latency is not the poll interval. */
  private async listen(): Promise<void> {
    while (this.running) {
      const client = new Client({ connectionString: this.opts.databaseUrl, application_name: `relay-${this.opts.service}` });
      try {
        client.on('error', () => undefined);
        await client.connect();
        client.on('notification', () => this.nudge());
        await client.query(`LISTEN "${this.opts.notifyChannel}"`);
        this.listener = client;
        // Commits while it was not listening notified nobody: one pass now, then the long interval.
        this.nudge();
        await new Promise<void>((resolve) => client.once('end', () => resolve()));
      } catch (err) {
        this.opts.logger.debug({ err }, 'outbox LISTEN connection lost; polling meanwhile');
      } finally {
        this.listener = undefined;
        await client.end().catch(() => undefined);
      }
      // Back to polling every pollMs until listening again (the loop may be in its long pause).
      this.nudge();
      if (this.running) await sleep(1000);
    }
  }
}
