import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnModuleInit,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { PoolClient, QueryArrayResult } from 'pg';
import { DataSource, type EntityManager, type EntitySubscriberInterface, type QueryRunner } from 'typeorm';
import { HealthRegistry, LOGGER, PgListener, PLATFORM_CONFIG, schemaFor, type Logger, type PlatformConfig } from '@trace/platform';
import { LineageGraph, type EdgeKind, type NodeRecord } from './lineage-graph';
import { NODE_COLUMNS, nodeFromArray } from './node-rows';

export interface LineageIndexOptions {
  /**
   * Catch-ups are at most this often: a commit's NOTIFY is followed at once
   * when the last catch-up is older, else when it is this old (a busy projector
   * costs one catch-up a period, not one a commit). Also the poll while the
   * LISTEN connection is down.
   */
  catchUpMs: number;
  /** While LISTEN is up: how often to look anyway, for a notification that was lost. */
  safetyNetMs: number;
  /** Rows per FETCH when scanning the tables. */
  fetchRows: number;
  /**
   * How long a replica that stopped catching up still holds back the pruning of lineage_node_changes.
   * A replica whose last snapshot is older than half of it reloads instead of catching up: what it has
   * not seen may have been pruned meanwhile.
   */
  replicaTimeoutMs: number;
  /** Pruning of lineage_node_changes at most this often (with a catch-up). */
  pruneEveryMs: number;
}

export const LINEAGE_INDEX_OPTIONS = Symbol('LINEAGE_INDEX_OPTIONS');
export const DEFAULT_LINEAGE_INDEX_OPTIONS: LineageIndexOptions = { catchUpMs: 1000, safetyNetMs: 60_000, fetchRows: 5_000, replicaTimeoutMs: 10 * 60_000, pruneEveryMs: 60_000 };

/** The channel the lineage tables' triggers NOTIFY on commit (migration LineageNotify1765900047100). */
export const lineageChannel = (schema: string) => `lineage_${schema}`;

/** A change a projector transaction made, applied to the graph once (and only if) it commits. */
export type IndexChange = { node: NodeRecord } | { edge: { from: string; to: string; kind: EdgeKind } };

const PENDING = 'lineageIndexChanges';

export interface LoadStats {
  nodes: number;
  edges: number;
  ms: number;
  /** Of which reading the nodes (the rest: the edges). */
  nodesMs: number;
  edgesMs: number;
  graphBytes: number;
}

/**
 * Keeps this replica's in-memory LineageGraph equal to the lineage tables.
 *
 * - Start-up: one REPEATABLE READ snapshot scans both tables (cursor, array
 *   rows) into a graph pre-sized from their counts; the snapshot is remembered.
 * - This replica's projector: its changes are applied right after its
 *   transaction commits (TypeORM's afterTransactionCommit; dropped on rollback),
 *   so a trace here sees what was just projected here.
 * - Other replicas: their commits NOTIFY (a statement trigger on both tables),
 *   which wakes a catch-up (at most one per `catchUpMs`; every `safetyNetMs`
 *   anyway, every `catchUpMs` while LISTEN is down), and whenever a trace
 *   misses a batch the table has, rows whose writing transaction was not visible in the previous
 *   snapshot are read in a new snapshot: `tx >= xmin(prev) AND NOT
 *   pg_visible_in_snapshot(tx, prev)` (for nodes, of their entries in
 *   lineage_node_changes, so that a node's update stays HOT). A transaction that commits late (after
 *   a later one) was in progress in the previous snapshot, so it is still
 *   caught: nothing is skipped, unlike "id > last seen".
 * - Each replica records its snapshot's xmin (lineage_index_replicas); the
 *   change log is pruned below the lowest of the replicas that recorded one
 *   within `replicaTimeoutMs`. A replica whose snapshot is older than half of
 *   that reloads instead of catching up.
 * Node rows carry a version, so the two paths may deliver in any order.
 * The tables stay the truth: `rebuild()` reloads from them at any time.
 */
@Injectable()
export class LineageIndex implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private graph: LineageGraph | undefined;
  private snapshot: string | undefined;
  /** When `snapshot` was taken (Date.now()). */
  private snapshotAt = 0;
  private lastPruneAt = 0;
  /** This replica's row in lineage_index_replicas. */
  readonly replica = randomUUID();
  /** Full loads so far, start-up's included (tests read it). */
  loads = 0;
  private readonly loaded: Promise<LineageGraph>;
  private resolveLoaded!: (g: LineageGraph) => void;
  private serial: Promise<unknown> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the next catch-up is due by itself (the timer's time). */
  private dueAt = Infinity;
  private lastCatchUpAt = 0;
  private stopped = false;
  private readonly opts: LineageIndexOptions;
  private readonly listener: PgListener | undefined;
  lastLoad: LoadStats | undefined;
  /** Catch-ups run so far (tests and the idle benchmark read it). */
  catchUps = 0;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Optional() @Inject(PLATFORM_CONFIG) config?: PlatformConfig,
    @Optional() @Inject(LINEAGE_INDEX_OPTIONS) opts?: Partial<LineageIndexOptions>,
  ) {
    this.opts = { ...DEFAULT_LINEAGE_INDEX_OPTIONS, ...opts };
    this.loaded = new Promise((resolve) => (this.resolveLoaded = resolve));
    if (config?.DATABASE_URL) {
      this.listener = new PgListener({
        url: config.DATABASE_URL,
        channel: lineageChannel(schemaFor('lineage', config.DB_SCHEMA_PREFIX)),
        applicationName: 'lineage-index',
        logger,
        onNotify: () => this.schedule(this.lastCatchUpAt + this.opts.catchUpMs),
        // Commits while it was not listening went unannounced: look now.
        onListening: () => this.schedule(0),
      });
    }
  }

  onModuleInit(): void {
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => this.applyCommitted(queryRunner),
      afterTransactionRollback: ({ queryRunner }) => void takePending(queryRunner),
    };
    // The DataSource is built by the service runtime; transaction hooks can only be added to it here.
    (this.ds.subscribers as EntitySubscriberInterface[]).push(subscriber);
    this.health.register('lineage-index', async () =>
      this.graph
        ? { ok: true, detail: `${this.graph.nodes} nodes, ${this.graph.edges} edges` }
        : { ok: false, detail: 'loading the lineage graph' },
    );
  }

  onApplicationBootstrap(): void {
    void this.loadUntilDone();
  }

  /** Before the service runtime closes the database: no new scans, and the one running finishes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.listener?.stop();
    await this.serial.catch(() => undefined);
    // Gone: it holds back the change log's pruning no longer (a replica that dies without this times out).
    await this.ds.query('DELETE FROM lineage_index_replicas WHERE replica = $1', [this.replica]).catch(() => undefined);
  }

  /** The graph, once loaded: a trace arriving during start-up waits for it, up to `waitMs`. */
  current(waitMs = 15_000): Promise<LineageGraph> {
    if (this.graph) return Promise.resolve(this.graph);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ServiceUnavailableException('The lineage graph is still loading')), waitMs);
    });
    return Promise.race([this.loaded, timeout]).finally(() => clearTimeout(timer));
  }

  get isLoaded(): boolean {
    return this.graph !== undefined;
  }

  /** Called by the projector inside its transaction: the change reaches the graph when that transaction commits. */
  record(manager: EntityManager, change: IndexChange): void {
    const qr = manager.queryRunner;
    if (!qr) return; // not in a transaction: the catch-up will bring it
    const data = qr.data as Record<string, IndexChange[] | undefined>;
    (data[PENDING] ??= []).push(change);
  }

  /**
   * Pulls in rows committed since the last snapshot. Concurrent callers share
   * one run that starts after the current one, so a caller always sees
   * everything committed before it called.
   */
  catchUp(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.enqueue(async () => {
      this.queued = undefined;
      await this.catchUpNow();
    });
    this.queued = run;
    return run;
  }

  /** Whether commits of other replicas wake the catch-up (LISTEN up), polling being only the safety net. */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  /**
   * The next catch-up by itself at `at` (epoch ms), unless one is due sooner;
   * after it runs, the next is the safety net's (or the poll's while not listening).
   */
  private schedule(at: number): void {
    if (this.stopped || !this.graph || at >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => {
      this.dueAt = Infinity;
      this.lastCatchUpAt = Date.now();
      this.catchUp()
        .catch((err: Error) => this.logger.warn({ err }, 'lineage graph catch-up failed; retrying'))
        .finally(() => this.schedule(Date.now() + (this.listening ? this.opts.safetyNetMs : this.opts.catchUpMs)));
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  /** Reloads the whole graph from the tables and swaps it in (start-up does the same). */
  rebuild(): Promise<LoadStats> {
    return this.enqueue(() => this.load());
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.catch(() => undefined).then(fn);
    this.serial = run;
    return run;
  }

  private async loadUntilDone(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const stats = await this.rebuild();
        this.logger.info({ ...stats }, 'lineage graph loaded');
        if (this.stopped) return;
        // Listening starts after the load: its first catch-up covers what committed meanwhile.
        this.schedule(Date.now() + this.opts.catchUpMs);
        this.listener?.start();
        return;
      } catch (err) {
        if (this.stopped) return;
        this.logger.error({ err, attempt }, 'loading the lineage graph failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6))).unref());
      }
    }
  }

  private applyCommitted(qr: QueryRunner): void {
    const changes = takePending(qr);
    if (!changes || !this.graph) return; // while loading, the load snapshot or the next catch-up covers it
    for (const change of changes) {
      try {
        applyChange(this.graph, change);
      } catch (err) {
        // The commit stands; the next catch-up re-reads the rows.
        this.logger.error({ err, change }, 'applying a committed lineage change to the graph failed');
      }
    }
  }

  private async load(): Promise<LoadStats> {
    const started = performance.now();
    let nodesMs = 0;
    // Registered before the load's snapshot is taken, with an xmin no higher than its: a prune that
    // does not see this row yet removes only changes that snapshot will hold.
    await this.recordSnapshot(undefined);
    const graph = await this.withSnapshot(async (client) => {
      // Sized from the planner's estimates (two count(*) would scan both tables once more); arrays grow if short.
      const counts = await client.query<{ nodes: number; edges: number }>(
        `SELECT greatest(0, (SELECT reltuples FROM pg_class WHERE oid = 'lineage_nodes'::regclass))::bigint::int AS nodes,
                greatest(0, (SELECT reltuples FROM pg_class WHERE oid = 'lineage_edges'::regclass))::bigint::int AS edges`,
      );
      const { nodes, edges } = counts.rows[0];
      const g = new LineageGraph({ nodes: Math.ceil(nodes * 1.2) + 1024, edges: Math.ceil(edges * 1.2) + 1024 });
      await this.scan(client, `SELECT ${NODE_COLUMNS} FROM lineage_nodes`, [], (row) => g.upsertNode(nodeFromArray(row)));
      nodesMs = performance.now() - started;
      await this.scan(client, 'SELECT from_batch, to_batch, kind FROM lineage_edges', [], (row) =>
        g.addEdgeUnchecked(row[0] as string, row[1] as string, row[2] as EdgeKind),
      );
      return g;
    });
    this.graph = graph.value;
    this.snapshot = graph.snapshot;
    this.snapshotAt = graph.at;
    this.loads++;
    await this.recordSnapshot(graph.snapshot);
    this.resolveLoaded(graph.value);
    const ms = performance.now() - started;
    this.lastLoad = { nodes: graph.value.nodes, edges: graph.value.edges, ms, nodesMs, edgesMs: ms - nodesMs, graphBytes: graph.value.memoryBytes() };
    return this.lastLoad;
  }

  private async catchUpNow(): Promise<void> {
    const graph = this.graph;
    const since = this.snapshot;
    if (!graph || !since || this.stopped) return;
    if (Date.now() - this.snapshotAt > this.opts.replicaTimeoutMs / 2) {
      // Out of touch long enough for the other replicas to have pruned changes it has not seen.
      await this.load();
      return;
    }
    this.catchUps++;
    const next = await this.withSnapshot(async (client) => {
      const changed = 'tx >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(tx, $1::pg_snapshot)';
      await this.scan(
        client,
        `SELECT ${NODE_COLUMNS} FROM lineage_nodes WHERE batch_id IN (SELECT batch_id FROM lineage_node_changes WHERE ${changed})`,
        [since],
        (row) => graph.upsertNode(nodeFromArray(row)),
      );
      await this.scan(client, `SELECT from_batch, to_batch, kind FROM lineage_edges WHERE ${changed}`, [since], (row) =>
        graph.addEdge(row[0] as string, row[1] as string, row[2] as EdgeKind),
      );
    });
    if (this.graph !== graph) return;
    this.snapshot = next.snapshot;
    this.snapshotAt = next.at;
    await this.recordSnapshot(next.snapshot, Date.now() - this.lastPruneAt >= this.opts.pruneEveryMs);
  }

  /**
   * Records this replica's snapshot (none: the database's current one); with `prune`, also drops the
   * change log's entries every live replica has seen (below the lowest xmin recorded within
   * `replicaTimeoutMs`) and the rows of replicas not seen for a day, in the same statement.
   */
  private async recordSnapshot(snapshot: string | undefined, prune = false): Promise<void> {
    await this.ds.query(
      `WITH me AS (
         INSERT INTO lineage_index_replicas (replica, snapshot_xmin, seen_at) VALUES ($1, pg_snapshot_xmin(coalesce($2::pg_snapshot, pg_current_snapshot())), now())
         ON CONFLICT (replica) DO UPDATE SET snapshot_xmin = EXCLUDED.snapshot_xmin, seen_at = EXCLUDED.seen_at
       ),
       -- Replicas killed without their shutdown's delete: long past holding anything back.
       gone AS (DELETE FROM lineage_index_replicas WHERE $3 AND seen_at < now() - interval '1 day')
       DELETE FROM lineage_node_changes
        WHERE $3 AND tx < (SELECT min(snapshot_xmin) FROM lineage_index_replicas WHERE seen_at > now() - make_interval(secs => $4 / 1000.0))`,
      [this.replica, snapshot, prune, this.opts.replicaTimeoutMs],
    );
    if (prune) this.lastPruneAt = Date.now();
  }

  /** Prunes the change log now (the catch-up does every `pruneEveryMs`); tests call it. */
  async prune(): Promise<void> {
    await this.enqueue(async () => {
      if (this.snapshot) await this.recordSnapshot(this.snapshot, true);
    });
  }

  /**
   * Runs `fn` in a read-only REPEATABLE READ transaction and hands it that transaction's snapshot;
   * answers what `fn` answered, the snapshot and when it was taken (Date.now(), a little before).
   */
  private async withSnapshot<T>(fn: (client: PoolClient, snapshot: string) => Promise<T>): Promise<{ value: T; snapshot: string; at: number }> {
    const qr = this.ds.createQueryRunner();
    const client = (await qr.connect()) as PoolClient;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const at = Date.now();
        // The first statement fixes the transaction's snapshot: this one.
        const s = await client.query<{ snapshot: string }>('SELECT pg_current_snapshot()::text AS snapshot');
        const value = await fn(client, s.rows[0].snapshot);
        await client.query('COMMIT');
        return { value, snapshot: s.rows[0].snapshot, at };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await qr.release();
    }
  }

  /**
   * Streams a query's rows through a cursor in array form, so a million rows
   * never sit in memory at once. The next FETCH is sent before this one's rows
   * are processed: the database produces while the graph consumes.
   */
  private async scan(client: PoolClient, sql: string, params: unknown[], onRow: (row: unknown[]) => void): Promise<void> {
    await client.query(`DECLARE lineage_scan NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = (): Promise<QueryArrayResult> =>
      client.query({ text: `FETCH FORWARD ${this.opts.fetchRows} FROM lineage_scan`, rowMode: 'array' });
    let next: Promise<QueryArrayResult> | undefined = fetch();
    try {
      while (next) {
        const r: QueryArrayResult = await next;
        next = r.rows.length < this.opts.fetchRows ? undefined : fetch();
        for (const row of r.rows) onRow(row);
      }
    } finally {
      // Failing half-way: the transaction is rolled back; the fetch in flight must not become an unhandled rejection.
      next?.catch(() => undefined);
    }
    await client.query('CLOSE lineage_scan');
  }
}

function takePending(qr: QueryRunner): IndexChange[] | undefined {
  const data = qr.data as Record<string, IndexChange[] | undefined>;
  const changes = data[PENDING];
  delete data[PENDING];
  return changes;
}

export function applyChange(graph: LineageGraph, c: IndexChange): void {
  if ('node' in c) graph.upsertNode(c.node);
  else graph.addEdge(c.edge.from, c.edge.to, c.edge.kind);
}
