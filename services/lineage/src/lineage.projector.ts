import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  timestampDate,
  type BatchInput,
  type BatchRef,
  type BatchRegistered,
  type Quantity,
  type TraceEventRecorded,
  type TransformationRecorded,
  type EventEnvelope,
} from '@trace/contracts';
import { InboxDispatcher, PoisonMessageError, type HandlerContext } from '@trace/messaging';
import { queryOrDefer } from '@trace/platform';
import { statusChange } from '@trace/trace-chain';
import { domainName } from './domain-name';
import { FsmaProjector } from './exports/fsma.projector';
import { holdingsFacts, projectHoldings } from './holdings.projection';
import { projectShipments } from './lists/shipments.projection';
import { LineageIndex } from './lineage-index';
import { NODE_STATUSES, parseUuid, type NodeStatus } from './lineage-graph';
import { NODE_COLUMNS, nodeFromRow, type NodeRow } from './node-rows';

export { domainName };

const scratch = new Uint32Array(4);

/** [value, unit] of a Quantity, or [null, null] when absent or not a number (a poison value would fail the statement). */
function quantityOf(q: Quantity | undefined): [number | null, string | null] {
  if (!q || q.value === '') return [null, null];
  const value = Number(q.value);
  if (!Number.isFinite(value) || value < 0) throw new PoisonMessageError(`quantity ${JSON.stringify(q.value)} is not a non-negative number`);
  return [value, q.unit || null];
}

/** The rows a statement's RETURNING gave (EntityManager.query answers an UPDATE with [rows, count] instead). */
async function returning<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  if (!manager.queryRunner) throw new Error('lineage projection must run in the inbox transaction');
  const result = await manager.queryRunner.query(sql, params, true);
  return result.records as T[];
}

/** A batch reference that can be applied, or a PoisonMessageError: it will never become valid. */
function ref(r: BatchRef | undefined, what: string): { batchId: string; domain: string } {
  if (!r?.batchId || !parseUuid(r.batchId, scratch)) throw new PoisonMessageError(`${what} has no valid batch id`);
  return { batchId: r.batchId.toLowerCase(), domain: domainName(r.domain) };
}

/** What one chain event says about its node, checked (a PoisonMessageError otherwise). */
interface ChainFacts {
  batchId: string;
  domain: string;
  seq: bigint;
  /** The status it leaves, or null when it keeps the current one. */
  status: NodeStatus | null;
  /** Shipping, receiving or voiding a shipment: custody moves. */
  custody: boolean;
  receiving: boolean;
  holderOrgId: string;
  inTransitTo: string | null;
  /** The batch's quantity or place after the event is known. */
  state: boolean;
  quantity: number | null;
  unit: string | null;
  location: string | null;
}

export function chainFacts(e: TraceEventRecorded): ChainFacts {
  const batch = ref(e.batch, 'TraceEventRecorded');
  if (e.seq < 1n) throw new PoisonMessageError('TraceEventRecorded without a chain seq');
  // The owning service says what the status became (holds and their release
  // included); older events without it fall back to the disposition.
  const status = (NODE_STATUSES as readonly string[]).includes(e.statusAfter)
    ? (e.statusAfter as NodeStatus)
    : (statusChange(e) ?? null);
  const receiving = e.bizStep === 'receiving' && e.holderOrgId !== '';
  const shipping = e.bizStep === 'shipping' && e.toOrgId !== '';
  // Producers before batch_quantity said nothing about the batch's state after the event.
  const [quantity, unit] = quantityOf(e.batchQuantity);
  // Named one by one, not spread: a literal that starts with a spread and adds eleven properties after it
  // left V8 building a dictionary object per event (11 µs and most of lineage's garbage, now well under 1).
  return {
    batchId: batch.batchId,
    domain: batch.domain,
    seq: e.seq,
    status,
    custody: receiving || shipping || e.bizStep === 'void_shipping',
    receiving,
    holderOrgId: e.holderOrgId,
    inTransitTo: shipping ? e.toOrgId : null,
    state: quantity !== null || e.batchLocationId !== '',
    quantity,
    unit,
    location: e.batchLocationId || null,
  };
}

interface NodeState {
  batch_id: string;
  status: string;
  status_seq: string;
  holder_org_id: string | null;
  in_transit_to_org_id: string | null;
  custody_seq: string;
  quantity_value: string | number | null;
  quantity_unit: string | null;
  location_id: string | null;
  state_seq: string;
}

export type FoldedNode = Omit<NodeState, 'status_seq' | 'custody_seq' | 'state_seq'> & { status_seq: bigint; custody_seq: bigint; state_seq: bigint };

/**
 * Applies one event's facts to a node, as the chain's order says: each of
 * status, custody and state follows only an event with a higher seq than the
 * one that last set it. True when the node changed.
 */
export function foldChainFacts(n: FoldedNode, f: ChainFacts): boolean {
  let changed = false;
  if (f.status && f.seq > n.status_seq) {
    n.status = f.status;
    n.status_seq = f.seq;
    changed = true;
  }
  if (f.custody && f.seq > n.custody_seq) {
    if (f.receiving) n.holder_org_id = f.holderOrgId;
    n.in_transit_to_org_id = f.inTransitTo;
    n.custody_seq = f.seq;
    changed = true;
  }
  if (f.state && f.seq > n.state_seq) {
    if (f.quantity !== null) n.quantity_value = f.quantity;
    if (f.unit !== null) n.quantity_unit = f.unit;
    if (f.location !== null) n.location_id = f.location;
    n.state_seq = f.seq;
    changed = true;
  }
  return changed;
}

/**
 * Projects the batch and chain events of every domain into the lineage tables,
 * in the inbox transaction, and hands each change to the in-memory index for
 * when that transaction commits.
 *
 * Topics are not ordered with respect to each other: a chain event or a
 * transformation may arrive before the registration of a batch it names. Any
 * batch first seen in a reference becomes a placeholder node (domain from the
 * reference, registered = false) that its registration later completes; chain
 * events apply in chain order whatever the arrival order (status and custody
 * each remember the seq that set them); edges and custody are sets. So every
 * order of the same events ends in the same rows.
 *
 * Shipments are not edges: an edge joins two batches (an input and what was
 * made from it), while a shipment moves the same batch between organisations.
 * They show on the node instead: `holder_org_id` (moved by receiving),
 * `in_transit_to_org_id` (set by shipping, cleared by receiving or
 * void_shipping), and every holder in lineage_custody.
 */
@Injectable()
export class LineageProjector implements OnModuleInit {
  constructor(
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(LineageIndex) private readonly index: LineageIndex,
    @Inject(FsmaProjector) private readonly fsma: FsmaProjector,
  ) {}

  onModuleInit() {
    // The FSMA 204 read model follows the same runs, in the same transaction (one statement per run).
    this.inbox.onRun('batchRegistered', async (events, ctx) => {
      await this.onBatchesRegistered(events, ctx.manager);
      await this.fsma.onBatchesRegistered(events, ctx.manager);
    });
    this.inbox.on('transformationRecorded', (e, ctx) => this.onTransformationRecorded(e, ctx));
    this.inbox.onRun('traceEventRecorded', async (events, ctx) => {
      await this.onTraceEventsRecorded(events.map((e) => e.payload), ctx.manager);
      await projectShipments(ctx.manager, events);
      await this.fsma.onTraceEventsRecorded(events, ctx.manager);
    });
  }

  /**
   * Registrations, many at once (a run of the backbone): their nodes and the
   * owner's custody in one statement, the producers' holdings in one more,
   * then each one's inputs (transformations only). A placeholder (made by an
   * earlier reference) is completed; a registered node is left alone, so the
   * same batch twice in a run keeps the first.
   */
  async onBatchesRegistered(events: { payload: BatchRegistered; envelope: EventEnvelope }[], manager: EntityManager): Promise<void> {
    const seen = new Set<string>();
    const inputs: { batchId: string; inputs: { batchId: string; domain: string }[] }[] = [];
    const regs = events.flatMap(({ payload: e, envelope }) => {
      const batch = ref(e.batch, 'BatchRegistered');
      if (!/^\d{14}$/.test(e.gtin) || !e.lot || !e.ownerOrgId) {
        throw new PoisonMessageError('BatchRegistered without GTIN-14, lot or owner');
      }
      inputs.push({ batchId: batch.batchId, inputs: this.inputRefs(e.inputs, batch.batchId) });
      if (seen.has(batch.batchId)) return [];
      seen.add(batch.batchId);
      const [quantity, unit] = quantityOf(e.quantity);
      const registeredAt = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date();
      return [{ batch, e, quantity, unit, registeredAt }];
    });
    if (regs.length === 0) return;
    const rows = await returning<NodeRow>(
      manager,
      `WITH x AS MATERIALIZED (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (batch_id uuid, domain text, gtin text, lot text, owner_org_id text,
                registered_at timestamptz, quantity_value numeric, quantity_unit text, location_id text, item_kind text)),
       custody AS (INSERT INTO lineage_custody (batch_id, org_id) SELECT batch_id, owner_org_id FROM x ON CONFLICT DO NOTHING)
       INSERT INTO lineage_nodes AS n (batch_id, domain, gtin, lot, registered, owner_org_id, holder_org_id, registered_at,
                                       quantity_value, quantity_unit, location_id, item_kind)
       SELECT batch_id, domain, gtin, lot, true, owner_org_id, owner_org_id, registered_at, quantity_value, quantity_unit, location_id, item_kind
         FROM x ORDER BY batch_id
       ON CONFLICT (batch_id) DO UPDATE SET
         domain = EXCLUDED.domain, gtin = EXCLUDED.gtin, lot = EXCLUDED.lot, item_kind = EXCLUDED.item_kind, registered = true,
         owner_org_id = EXCLUDED.owner_org_id,
         -- a receiving that arrived first already moved the batch on
         holder_org_id = COALESCE(n.holder_org_id, EXCLUDED.holder_org_id),
         registered_at = EXCLUDED.registered_at,
         -- so did any chain event that arrived first (it knows the later state)
         quantity_value = CASE WHEN n.state_seq > 0 THEN n.quantity_value ELSE EXCLUDED.quantity_value END,
         quantity_unit = CASE WHEN n.state_seq > 0 THEN n.quantity_unit ELSE EXCLUDED.quantity_unit END,
         location_id = CASE WHEN n.state_seq > 0 THEN n.location_id ELSE EXCLUDED.location_id END,
         version = n.version + 1, tx = pg_current_xact_id()
       WHERE NOT n.registered
       RETURNING ${NODE_COLUMNS}`,
      [
        JSON.stringify(
          regs.map(({ batch, e, quantity, unit, registeredAt }) => ({
            batch_id: batch.batchId,
            domain: batch.domain,
            gtin: e.gtin,
            lot: e.lot,
            owner_org_id: e.ownerOrgId,
            registered_at: registeredAt.toISOString(),
            quantity_value: quantity,
            quantity_unit: unit,
            location_id: e.locationId || null,
            item_kind: e.serial ? 'serial' : 'lot',
          })),
        ),
      ],
    );
    this.recordNodes(manager, rows);
    // The producer holds all of it until a chain event says otherwise.
    await projectHoldings(
      manager,
      regs
        .filter((r) => r.quantity !== null)
        .map((r) => ({ batchId: r.batch.batchId, seq: 0n, unit: r.unit, holdings: [{ orgId: r.e.ownerOrgId, quantity: r.quantity as number, inTransit: 0, received: r.quantity as number }] })),
    );
    for (const r of inputs) await this.addInputs(manager, r.batchId, r.inputs);
  }

  async onTransformationRecorded(e: TransformationRecorded, { manager }: HandlerContext): Promise<void> {
    const output = ref(e.output, 'TransformationRecorded output');
    const inputs = this.inputRefs(e.inputs, output.batchId);
    if (inputs.length === 0) throw new PoisonMessageError('TransformationRecorded without inputs');
    await this.ensureNodes(manager, [output]);
    await this.addInputs(manager, output.batchId, inputs);
  }

  /**
   * Chain events, many at once (a run of the backbone): every node they name
   * is read once under its row lock, the events are folded into it in the
   * order given by the same rules the one-event statement used to apply
   * (status, custody and state each follow only a higher seq than the one
   * that set them, so arrival order does not matter), and the nodes that
   * changed are written back in one statement. Ten thousand recalled batches
   * are a few dozen statements for lineage, not forty thousand.
   */
  async onTraceEventsRecorded(events: TraceEventRecorded[], manager: EntityManager): Promise<void> {
    const facts = events.map((e) => chainFacts(e));
    await projectHoldings(manager, holdingsFacts(events));
    const refs = new Map(facts.map((f) => [f.batchId, { batchId: f.batchId, domain: f.domain }]));
    const ids = new Set(facts.filter((f) => f.status || f.custody || f.state).map((f) => f.batchId));
    // Every node named, under its row lock; placeholders only for those not there yet (a statement only then).
    const nodes = await this.lockNodes(manager, [...refs.keys()]);
    const missing = [...refs.values()].filter((r) => !nodes.has(r.batchId));
    if (missing.length > 0) {
      await this.ensureNodes(manager, missing);
      for (const [id, n] of await this.lockNodes(manager, missing.map((r) => r.batchId))) nodes.set(id, n);
    }
    const changed = new Set<string>();
    for (const f of facts) {
      const n = nodes.get(f.batchId);
      if (n && ids.has(f.batchId) && foldChainFacts(n, f)) changed.add(f.batchId);
    }
    // Whoever holds the batch after any event held it: an order-free set, written with the nodes' update when there is one.
    // Each pair once: a run of a capture names the same batch and holder event after event.
    const pairs = new Map<string, [string, string]>();
    for (const f of facts) if (f.holderOrgId) pairs.set(`${f.batchId} ${f.holderOrgId}`, [f.batchId, f.holderOrgId]);
    const held = [...pairs.values()];
    const custody = [held.map(([batchId]) => batchId), held.map(([, orgId]) => orgId)];
    const custodyInsert = 'INSERT INTO lineage_custody (batch_id, org_id) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING';
    if (changed.size > 0) {
      const rows = await returning<NodeRow>(
        manager,
        `WITH custody AS (${held.length > 0 ? custodyInsert : 'SELECT $1::uuid[], $2::text[]'})
         UPDATE lineage_nodes AS n SET
           status = u.u_status, status_seq = u.u_status_seq, holder_org_id = u.u_holder, in_transit_to_org_id = u.u_in_transit,
           custody_seq = u.u_custody_seq, quantity_value = u.u_quantity, quantity_unit = u.u_unit, location_id = u.u_location,
           state_seq = u.u_state_seq, version = n.version + 1, tx = pg_current_xact_id()
           FROM jsonb_to_recordset($3::jsonb) AS u (u_id uuid, u_status text, u_status_seq bigint, u_holder text, u_in_transit text,
                u_custody_seq bigint, u_quantity numeric, u_unit text, u_location text, u_state_seq bigint)
          WHERE n.batch_id = ANY($4::uuid[]) AND n.batch_id = u.u_id
          RETURNING ${NODE_COLUMNS}`,
        [
          ...custody,
          JSON.stringify(
            [...changed].map((id) => {
              const n = nodes.get(id) as FoldedNode;
              return {
                u_id: id,
                u_status: n.status,
                u_status_seq: n.status_seq.toString(),
                u_holder: n.holder_org_id,
                u_in_transit: n.in_transit_to_org_id,
                u_custody_seq: n.custody_seq.toString(),
                u_quantity: n.quantity_value,
                u_unit: n.quantity_unit,
                u_location: n.location_id,
                u_state_seq: n.state_seq.toString(),
              };
            }),
          ),
          // The ids again as an array: the plan starts from the primary key (joined on the recordset alone,
          // guessed at 100 rows, it scanned the whole table below about ten thousand nodes; scripts/bench/README.md).
          [...changed],
        ],
      );
      this.recordNodes(manager, rows);
    } else if (held.length > 0) {
      // Nothing reads it back: it goes out with the inbox transaction's COMMIT.
      await queryOrDefer(manager, custodyInsert, custody);
    }
  }

  /** The fold's state of the given nodes that exist, each under its row lock (in id order, as every locker takes them). */
  private async lockNodes(manager: EntityManager, ids: string[]): Promise<Map<string, FoldedNode>> {
    const rows = (await manager.query(
      `SELECT batch_id, status, status_seq, holder_org_id, in_transit_to_org_id, custody_seq, quantity_value, quantity_unit, location_id, state_seq
         FROM lineage_nodes WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id FOR UPDATE`,
      [ids],
    )) as NodeState[];
    // Each column named (not `...n` and three more): see chainFacts.
    return new Map(
      rows.map((n) => [
        n.batch_id,
        {
          batch_id: n.batch_id,
          status: n.status,
          status_seq: BigInt(n.status_seq),
          holder_org_id: n.holder_org_id,
          in_transit_to_org_id: n.in_transit_to_org_id,
          custody_seq: BigInt(n.custody_seq),
          quantity_value: n.quantity_value,
          quantity_unit: n.quantity_unit,
          location_id: n.location_id,
          state_seq: BigInt(n.state_seq),
        },
      ]),
    );
  }

  private inputRefs(inputs: BatchInput[], output: string): { batchId: string; domain: string }[] {
    const seen = new Map<string, { batchId: string; domain: string }>();
    for (const input of inputs) {
      const r = ref(input.batch, 'transformation input');
      if (r.batchId === output) throw new PoisonMessageError(`batch ${output} cannot be an input of itself`);
      seen.set(r.batchId, r);
    }
    return [...seen.values()];
  }

  /** Placeholder nodes for batches known so far only from a reference. */
  private async ensureNodes(manager: EntityManager, refs: { batchId: string; domain: string }[]): Promise<void> {
    if (refs.length === 0) return;
    const rows = await returning<NodeRow>(
      manager,
      `INSERT INTO lineage_nodes (batch_id, domain)
       SELECT * FROM unnest($1::uuid[], $2::text[])
       ON CONFLICT (batch_id) DO NOTHING
       RETURNING ${NODE_COLUMNS}`,
      [refs.map((r) => r.batchId), refs.map((r) => r.domain)],
    );
    this.recordNodes(manager, rows);
  }

  private async addInputs(manager: EntityManager, output: string, inputs: { batchId: string; domain: string }[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.ensureNodes(manager, inputs);
    const edges = await returning<{ from_batch: string; to_batch: string }>(
      manager,
      `INSERT INTO lineage_edges (from_batch, to_batch, kind)
       SELECT unnest($1::uuid[]), $2, 'input'
       ON CONFLICT DO NOTHING
       RETURNING from_batch, to_batch`,
      [inputs.map((i) => i.batchId), output],
    );
    for (const edge of edges) this.index.record(manager, { edge: { from: edge.from_batch, to: edge.to_batch, kind: 'input' } });
  }

  private recordNodes(manager: EntityManager, rows: NodeRow[]): void {
    for (const row of rows) this.index.record(manager, { node: nodeFromRow(row) });
  }
}
