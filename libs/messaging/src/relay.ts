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
  /**
   * Whether commits of this process wake it directly (default true; their outbox INSERTs then send no
   * NOTIFY). False stands for a relay in another process, which only NOTIFY reaches: tests of replicas.
   */
  local?: boolean;
  logger: Logger;
  onPublished?: (count: number) => void;
  /**
   * How long each step of a pass that sent rows took, in seconds: the claim (START, lock, pick and lock the
   * rows), the publish (until every consumer has them, or the broker acknowledged), the mark (UPDATE with
   * COMMIT). A growing backlog says the relay is behind; these say where it spends its time (a claim once
   * took half a second on stale statistics: scripts/bench/README.md, recall propagation, fourth pass).
   */
  onPassTimed?: (steps: { claim: number; publish: number; mark: number }) => void;
  /**
   * Runs after the transport accepted a batch and before the rows are marked
   * sent: the window in which a crash makes the relay publish again. Tests use
   * it to crash there on purpose.
   */
  afterPublish?: (messages: OutboundMessage[]) => void | Promise<void>;
}

interface OutboxSelect {
  /** Whether this pass holds the relay lock of the schema (false: another relay is at work). */
  locked: boolean;
  id: string | null;
  event_id: string;
  topic: string;
  message_key: string;
  event_type: string;
  payload: Buffer;
}

/** The relays of this process, by notify channel: a commit here wakes them without a NOTIFY. */
const localRelays = new Map<string, Set<OutboxRelay>>();

/** Whether a relay of this process publishes the outbox of `channel`. */
export function hasLocalRelay(channel: string): boolean {
  return (localRelays.get(channel)?.size ?? 0) > 0;
}

/** Wakes this process's relays of `channel` (after a commit that wrote outbox rows there). */
export function wakeLocalRelays(channel: string): void {
  for (const relay of localRelays.get(channel) ?? []) relay.nudge(true);
}

/**
 * Whether a relay of this process is working through a backlog: its last claim was full, so more rows were
 * waiting behind it (a recall's ten thousand links on their way to lineage). Background work that only
 * follows the events (the CBV hashes of bulk-written links) waits for it: both take the same cores, and
 * what the relay delivers is what a regulator's trace reads.
 */
export function localDeliveryBacklog(): boolean {
  for (const relays of localRelays.values()) for (const relay of relays) if (relay.backlogged) return true;
  return false;
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
  /** One of them came from a commit in this process (not a NOTIFY): see run(). */
  private wokenLocally = false;
  private loop?: Promise<void>;
  private listener?: Client;
  private failures = 0;
  /** Its last claim in a drain was full: more rows wait behind it (localDeliveryBacklog). */
  backlogged = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly opts: RelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.local !== false) {
      let mine = localRelays.get(this.opts.notifyChannel);
      if (!mine) localRelays.set(this.opts.notifyChannel, (mine = new Set()));
      mine.add(this);
    }
    this.loop = this.run();
    void this.listen();
  }

  async stop(): Promise<void> {
    this.running = false;
    localRelays.get(this.opts.notifyChannel)?.delete(this);
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** Whether its LISTEN connection is up (commits wake it; polling is only the safety net). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** Ask for a pass now (`local`: a commit of this process wrote outbox rows). */
  nudge(local = false): void {
    this.woken = true;
    if (local) this.wokenLocally = true;
    this.wake?.();
  }

  /** Publishes everything unsent right now; returns how many rows were sent. */
  async drain(): Promise<number> {
    return (await this.drainPasses()).sent;
  }

  /**
   * drain(), also telling whether a pass found the relay lock held by another relay.
   *
   * After a full pass each claim goes on from the highest id sent: the rows marked sent stay in the unsent
   * index as dead entries until vacuum, and while a long transaction (a large capture) holds PostgreSQL's
   * horizon back nothing can clean them, so a claim from the lowest id walks through every row sent so far
   * (10,000 of them: 3.5-10 ms a claim, against 1-2 ms from the last id). A row with a lower id whose
   * transaction committed late is then not seen by those claims: the drain therefore ends only on a pass that
   * looked from the start and found less than a batch. (A commit after that pass wakes the relay again.)
   */
  private async drainPasses(): Promise<{ sent: number; lockedOut: boolean }> {
    let sent = 0;
    let after: string | undefined;
    try {
      for (;;) {
        const pass = await this.pass(after);
        sent += pass.sent;
        if (!pass.locked) return { sent, lockedOut: true };
        this.backlogged = pass.sent >= this.batchSize;
        if (pass.sent < this.batchSize) {
          if (after === undefined) return { sent, lockedOut: false };
          after = undefined;
        } else after = pass.lastId;
      }
    } finally {
      this.backlogged = false;
    }
  }

  /** One claim → publish → mark pass; returns how many rows were sent. */
  async relayOnce(): Promise<number> {
    return (await this.pass()).sent;
  }

  /**
   * One claim → publish → mark pass, in one transaction of two round trips:
   * `START TRANSACTION` with the lock and the claim, then the mark with
   * `COMMIT`. Multi-statement strings go over the simple protocol, which takes
   * no parameters, so the few values in them are literals made here (the lock
   * key quoted, the batch size and the claimed ids checked as integers). `after`: only rows with a higher
   * id (see drainPasses); the lowest unsent ones otherwise.
   *
   * The claim walks the unsent index in id order and stops at the batch: the planner, its estimate of unsent
   * rows far behind a capture's thousands, chose a bitmap scan of every unsent row instead (no order, so all
   * of them read, payloads and all, and sorted on disk to keep 200: 15-40 ms a claim, 4 ms with the ids
   * sorted first); bitmap scans are off for this transaction. The ids are picked first, as an array the
   * statement computes once, and the rows locked and read after by those ids: `id IN (SELECT … LIMIT)`, the
   * earlier form, was planned, on statistics that counted one unsent row, as a semi-join that ran the picking
   * once for every unsent row (10,000 of them after a recall: 0.3-0.6 s a claim, lineage 20 s late). `sent_at
   * IS NULL` again on the locked rows, so that a row another relay marked sent after this statement's snapshot
   * is skipped, not sent twice.
   */
  private async pass(after?: string): Promise<{ sent: number; locked: boolean; lastId?: string }> {
    const runner = this.dataSource.createQueryRunner('master');
    const client = (await runner.connect()) as PoolClient;
    // Until COMMIT has gone through, a failure rolls the claim back (ROLLBACK outside a transaction is harmless).
    let open = true;
    try {
      const startedAt = performance.now();
      const claimed = (await client.query(`START TRANSACTION; ${outboxClaim(this.lockKey, this.batchSize, after).join('; ')}`)) as unknown as QueryResult<OutboxSelect>[];
      const claimedAt = performance.now();
      const claim = claimed[claimed.length - 1];
      const locked = claim.rows[0]?.locked === true;
      // No row claimed comes back as one row of NULLs (the outer join keeps the lock's answer).
      const rows = claim.rows.filter((r) => r.id !== null);
      if (rows.length === 0) {
        await client.query('COMMIT');
        open = false;
        return { sent: 0, locked };
      }
      const messages: OutboundMessage[] = rows.map((r) => ({
        topic: r.topic,
        key: r.message_key,
        value: r.payload,
        headers: { 'event-id': r.event_id, 'event-type': r.event_type, source: this.opts.service },
      }));
      await this.transport.publish(messages);
      const publishedAt = performance.now();
      await this.opts.afterPublish?.(messages);
      const ids = rows.map((r) => String(r.id));
      if (!ids.every((id) => /^\d+$/.test(id))) throw new Error(`outbox ids are not integers: ${ids.join(',')}`);
      await client.query(
        `UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY('{${ids.join(',')}}'::bigint[]);
         COMMIT`,
      );
      open = false;
      this.opts.onPublished?.(rows.length);
      this.opts.onPassTimed?.({ claim: (claimedAt - startedAt) / 1000, publish: (publishedAt - claimedAt) / 1000, mark: (performance.now() - publishedAt) / 1000 });
      return { sent: rows.length, locked, lastId: ids[ids.length - 1] };
    } finally {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }

  /** The advisory lock's key as a literal: one relay per schema at a time. */
  private get lockKey(): string {
    return escapeLiteral(`outbox-relay:${this.opts.schema}`);
  }

  /** The claim's size (outboxClaim refuses one that is not a positive integer). */
  private get batchSize(): number {
    return Math.floor(this.opts.batchSize);
  }

  private async run(): Promise<void> {
    let probe = false;
    while (this.running) {
      const local = this.wokenLocally;
      this.woken = false;
      this.wokenLocally = false;
      try {
        // A pass nothing asked for (the safety net) first looks whether there is anything at all: one
        // statement, instead of the transaction's four, when idle.
        const drained = probe && !(await this.anyUnsent()) ? { sent: 0, lockedOut: false } : await this.drainPasses();
        // Commits in this process wake this relay directly, without a NOTIFY (which would serialise every
        // commit on PostgreSQL's notification lock). If another replica's relay holds the lock, it may
        // have claimed before our rows committed: one NOTIFY asks it for another pass.
        if (drained.lockedOut && local) await this.notifyOthers();
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
      // A drain ends on a claim that looked from the start and found less than a batch: what committed before
      // that claim is published. A commit after it woke the relay (its wake-up, or its NOTIFY, came after the
      // flags were reset above), so the pause returns at once for it; nothing else calls for another pass (it
      // used to run one after every drain that sent something: two round trips that found nothing, for each
      // event at one writer). Commits NOTIFY while the listener is up; polling only stands in for it when it is down.
      const listening = this.listener !== undefined;
      probe = !(await this.pause(listening ? (this.opts.idlePollMs ?? OutboxRelay.IDLE_POLL_MS) : this.opts.pollMs)) && listening;
    }
  }

  private async notifyOthers(): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [this.opts.notifyChannel, '']);
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
          WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $2))`,
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

/**
 * The relay's claim, after START TRANSACTION: its planner setting, then the statement (see OutboxRelay.pass).
 * Literals, not parameters (a multi-statement string goes over the simple protocol): `lockKey` quoted by the
 * caller, the batch size and `after` checked as integers here.
 */
export function outboxClaim(lockKey: string, batchSize: number, after?: string): [string, string] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`relay batchSize must be a positive integer, not ${batchSize}`);
  if (after !== undefined && !/^\d+$/.test(after)) throw new Error(`outbox id is not an integer: ${after}`);
  return [
    'SET LOCAL enable_bitmapscan = off',
    `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtext(${lockKey})) AS locked)
     SELECT lock.locked, o.id, o.event_id, o.topic, o.message_key, o.event_type, o.payload
       FROM lock LEFT JOIN LATERAL (
            SELECT * FROM outbox
             WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE lock.locked AND sent_at IS NULL${after === undefined ? '' : ` AND id > ${after}`} ORDER BY id LIMIT ${batchSize}))
               AND sent_at IS NULL
             ORDER BY id FOR UPDATE SKIP LOCKED
       ) o ON true`,
  ];
}
