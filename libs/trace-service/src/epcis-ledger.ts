import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { timestampFromDate } from '@trace/contracts';
import {
  batchKey,
  CARRIED_LINK_KEY,
  nativeToEpcis,
  parseLocationId,
  stripTraceExtensions,
  type CarriedLink,
  type EpcisEvent,
} from '@trace/epcis';
import type { Outbox } from '@trace/messaging';
import { DomainError, notFound, type Directory, type Principal } from '@trace/platform';
import { GENESIS_HASH, linkHash, nextLink, statusAfter, type BatchStatus, type ChainLink } from '@trace/trace-chain';
import { writeLink } from './chain-writer';
import { DOMAIN_ENUM, type DomainName } from './domains';
import type { BatchRow, EventRow } from './rows';

/** One batch an EPCIS event touches in this domain. */
export interface PlannedTarget {
  batchId: string;
  gtin: string;
  /** Lot, or the serial of a serialised item (a batch of one). */
  lot: string;
  instance: boolean;
  role: string;
  /** The quantity the event names for this batch. */
  quantity?: { value: number; unit: string };
  /** Set when the batch is not known here yet and the document says enough to create it. */
  create?: { quantity: { value: number; unit: string } };
  /** Transformation outputs: the inputs, in whichever domain they live. */
  inputs?: { domain: string; batchId: string; gtin: string; lot: string; quantity: { value: number; unit: string } }[];
  /** An exported link of this batch: stored as it was when it still fits the chain here. */
  carried?: CarriedLink;
}

/** An EPCIS event as one domain stores it (only the targets in that domain). */
export interface PlannedChainEvent {
  index: number;
  hash: string;
  error: boolean;
  type: string;
  event: EpcisEvent;
  bizStep: string;
  disposition: string | null;
  eventTime: string;
  locationId: string;
  readPoint: string | null;
  bizLocation: string | null;
  epcKeys: string[];
  targets: PlannedTarget[];
}

export interface ApplyRequest {
  captureId: string;
  recordTime: string;
  /** rollback: everything in one transaction, any failure undoes all; proceed: good events kept. */
  atomic: boolean;
  /** Runs everything and rolls it back: the answer says what would fail. */
  dryRun: boolean;
  events: PlannedChainEvent[];
}

export interface ApplyResult {
  results: { index: number; stored: boolean; duplicate?: boolean; error?: string }[];
}

export interface ResolveResult {
  products: string[];
  batches: { gtin: string; lot: string; id: string }[];
}

/** Filters of the EPCIS query, already normalised by the capture/query service. */
export interface DomainQuery {
  eventTypes?: string[];
  geEventTime?: string;
  ltEventTime?: string;
  geRecordTime?: string;
  ltRecordTime?: string;
  bizSteps?: string[];
  dispositions?: string[];
  /** Canonical object keys and their `gtin|lot` pairs (MATCH_epc, MATCH_anyEPC, MATCH_epcClass…). */
  epcKeys?: string[];
  epcPairs?: string[];
  bizLocations?: string[];
  readPoints?: string[];
  existsErrorDeclaration?: boolean;
  after?: { recordTime: string; key: string };
  limit: number;
}

export interface QueriedEvent {
  recordTime: string;
  key: string;
  event: EpcisEvent;
}

/** What a domain offers the EPCIS service: look-ups, storing captured events, answering queries. */
export interface EpcisLedger {
  resolve(req: { gtins: string[]; objects: { gtin: string; lot: string }[] }): Promise<ResolveResult>;
  apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult>;
  query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]>;
}

/** Proceed mode commits in chunks: progress becomes visible and one bad event costs only its own savepoint. */
const CHUNK = 500;

class Rollback extends Error {}

/**
 * The EPCIS side of one domain's trace chains: stores captured events on the
 * batches they name (creating unknown batches the document describes well
 * enough), exports a chain as EPCIS and answers the query interface for its
 * chains, REST-recorded and captured alike.
 */
export class EpcisChainService implements EpcisLedger {
  constructor(
    private readonly domain: DomainName,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly directory?: Directory,
  ) {}

  async resolve(req: { gtins: string[]; objects: { gtin: string; lot: string }[] }): Promise<ResolveResult> {
    const products = (await this.dataSource.query('SELECT gtin FROM products WHERE gtin = ANY($1)', [req.gtins])) as { gtin: string }[];
    const batches = req.objects.length
      ? ((await this.dataSource.query(
          `SELECT b.gtin, b.lot, b.id FROM batches b JOIN unnest($1::text[], $2::text[]) AS o(gtin, lot) ON b.gtin = o.gtin AND b.lot = o.lot`,
          [req.objects.map((o) => o.gtin), req.objects.map((o) => o.lot)],
        )) as { gtin: string; lot: string; id: string }[])
      : [];
    return { products: products.map((p) => p.gtin), batches };
  }

  async apply(req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult> {
    const results: ApplyResult['results'] = [];
    // One transaction over `events`. A refusal (DomainError) is raised before the event writes anything
    // (applyOne checks every batch first), so the transaction stays usable and the next event goes on:
    // no savepoints, whose thousands of subtransactions would slow PostgreSQL down in a large capture.
    const runTx = async (events: PlannedChainEvent[]) => {
      const out: ApplyResult['results'] = [];
      try {
        await this.dataSource.transaction(async (m) => {
          for (const ev of events) {
            try {
              const duplicate = await this.applyOne(m, ev, req, principal);
              out.push({ index: ev.index, stored: !duplicate, ...(duplicate ? { duplicate } : {}) });
            } catch (err) {
              if (!(err instanceof DomainError)) throw err;
              out.push({ index: ev.index, stored: false, error: err.message });
            }
            if (req.atomic && out.length % CHUNK === 0) onProgress?.(out.length);
          }
          if (req.dryRun || (req.atomic && out.some((r) => r.error))) throw new Rollback();
        });
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
        // Nothing of this transaction was kept.
        if (!req.dryRun) for (const r of out) r.stored = false;
      }
      return out;
    };
    if (req.atomic) {
      results.push(...(await runTx(req.events)));
    } else {
      for (let i = 0; i < req.events.length; i += CHUNK) {
        const chunk = req.events.slice(i, i + CHUNK);
        try {
          results.push(...(await runTx(chunk)));
        } catch {
          // A database error (e.g. a concurrent capture of the same event) aborted the chunk:
          // each of its events again, alone, so only the failing one is lost.
          for (const ev of chunk) {
            try {
              results.push(...(await runTx([ev])));
            } catch (err) {
              results.push({ index: ev.index, stored: false, error: `could not be stored (${(err as { code?: string }).code ?? 'database error'})` });
            }
          }
        }
        onProgress?.(results.length);
      }
    }
    onProgress?.(results.length);
    return { results };
  }

  /** Stores one EPCIS event on each of its batches here; true when it was already stored (same hash). */
  private async applyOne(m: EntityManager, ev: PlannedChainEvent, req: ApplyRequest, principal: Principal): Promise<boolean> {
    // First every check that may refuse the event, before anything is written.
    const plans: { t: PlannedTarget; batch?: BatchRow; carried?: CarriedLink; product?: { id: string; category: string } }[] = [];
    for (const t of ev.targets) {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [t.batchId])) as BatchRow[];
      if (batch) {
        const [seen] = await m.query('SELECT 1 FROM trace_events WHERE batch_id = $1 AND epcis_hash = $2 AND epcis_error = $3', [t.batchId, ev.hash, ev.error]);
        if (seen) continue;
        await this.requireScope(m, batch, principal);
        plans.push({ t, batch, carried: t.carried && this.fits(t.carried, batch, t.batchId) ? t.carried : undefined });
      } else {
        if (!t.create) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)} is not a batch in ${this.domain} and the event does not say enough to create it`);
        const [product] = await m.query('SELECT id, category FROM products WHERE gtin = $1', [t.gtin]);
        if (!product) throw new DomainError(422, 'unknown-product', `No product with GTIN ${t.gtin} in ${this.domain}`);
        plans.push({ t, product, carried: t.carried && this.fits(t.carried, undefined, t.batchId) ? t.carried : undefined });
      }
    }
    if (plans.length === 0) return true;
    for (const { t, carried, product, batch: found } of plans) {
      let batch = found;
      const created = !batch;
      if (!batch) batch = await this.createBatch(m, t, ev, carried, principal, product as { id: string; category: string });
      // An error declaration is stored as a new link even when the event it names was never captured here:
      // it is what the trading partner declared, and the original (if any) stays as it was.
      const eventId = (carried?.content.eventId as string | undefined) ?? randomUUID();
      const content: Record<string, unknown> = carried
        ? carried.content
        : {
            eventId,
            batchId: batch.id,
            bizStep: ev.bizStep,
            disposition: ev.disposition ?? undefined,
            eventTime: new Date(ev.eventTime).toISOString(),
            locationId: ev.locationId,
            orgId: principal.orgId,
            quantity: t.quantity,
            inputs: t.inputs,
            role: t.role,
            epcisHash: ev.hash,
            epcis: ev.event,
          };
      const link: ChainLink = carried
        ? { seq: carried.seq, prevHash: carried.prevHash, hash: carried.hash, content }
        : nextLink(batch.chain_seq > 0 ? { seq: batch.chain_seq, hash: batch.chain_head.trim() } : undefined, content);
      const state = { status: batch.status as BatchStatus, holderOrgId: batch.holder_org_id, pendingReceiverOrgId: batch.pending_receiver_org_id, quantity: Number(batch.quantity_value) };
      // Captured events record what happened at trading partners: they move no custody here. Their
      // dispositions still set the status (recalled, destroyed…); an error declaration changes nothing.
      const after = ev.error ? state : { ...state, status: statusAfter(state.status, { bizStep: ev.bizStep as never, disposition: (ev.disposition ?? undefined) as never }) };
      const eventTime = new Date((content.eventTime as string | undefined) ?? ev.eventTime);
      const locationId = (content.locationId as string | undefined) ?? ev.locationId;
      if (created) await this.announceBatch(m, batch, link.hash, locationId);
      await writeLink(
        m,
        this.outbox,
        this.domain,
        batch,
        {
          eventId: (content.eventId as string | undefined) ?? eventId,
          content,
          bizStep: (content.bizStep as string | undefined) ?? ev.bizStep,
          disposition: (content.disposition as string | undefined) ?? ev.disposition,
          eventTime,
          locationId,
          orgId: principal.orgId,
          epcis: {
            hash: ev.hash,
            error: ev.error,
            type: ev.type,
            epcKeys: ev.epcKeys,
            readPoint: ev.readPoint,
            bizLocation: ev.bizLocation,
            captureId: req.captureId,
            recordTime: new Date(req.recordTime),
          },
        },
        link,
        after,
      );
      const inputs = (content.inputs as PlannedTarget['inputs']) ?? undefined;
      if (inputs?.length && !ev.error) await this.recordInputs(m, batch, inputs, eventId, eventTime, principal);
    }
    return false;
  }

  /** A carried link is stored as it was only if it is the next link of this batch's chain here. */
  private fits(c: CarriedLink, batch: BatchRow | undefined, batchId: string): boolean {
    if (c.content.batchId !== batchId) return false;
    const seq = batch?.chain_seq ?? 0;
    const head = seq > 0 && batch ? batch.chain_head.trim() : GENESIS_HASH;
    return c.seq === seq + 1 && c.prevHash === head && linkHash(c.seq, c.prevHash, c.content) === c.hash;
  }

  private async createBatch(
    m: EntityManager,
    t: PlannedTarget,
    ev: PlannedChainEvent,
    carried: CarriedLink | undefined,
    principal: Principal,
    product: { id: string; category: string },
  ): Promise<BatchRow> {
    const quantity = (carried?.content.quantity as { value: number; unit: string } | undefined) ?? t.create?.quantity;
    if (!quantity) throw new DomainError(422, 'unknown-object', `${batchKey(t.gtin, t.lot, t.instance)}: no quantity to create it with`);
    const locationId = (carried?.content.locationId as string | undefined) ?? ev.locationId;
    const producedAt = new Date((carried?.content.eventTime as string | undefined) ?? ev.eventTime);
    const [row] = (await m.query(
      `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                            location_id, produced_at, attributes, product_id, product_category, chain_seq, chain_head)
       VALUES ($1,$2,$3,$4,$5,$5,$6,$7,$7,$8,$9,$10,$11,$12,0,$13) RETURNING *`,
      [t.batchId, this.domain, t.gtin, t.lot, quantity.value, quantity.unit, principal.orgId, locationId, producedAt,
        { epcis: { instance: t.instance, capturedFrom: batchKey(t.gtin, t.lot, t.instance) } }, product.id, product.category, GENESIS_HASH],
    )) as BatchRow[];
    await m.query('INSERT INTO batch_custody (batch_id, org_id) VALUES ($1, $2)', [row.id, principal.orgId]);
    return row;
  }

  private async announceBatch(m: EntityManager, b: BatchRow, chainHead: string, locationId: string) {
    await this.outbox.append(
      m,
      'batchRegistered',
      {
        batch: { domain: DOMAIN_ENUM[this.domain], batchId: b.id },
        gtin: b.gtin,
        lot: b.lot,
        quantity: { value: String(b.quantity_value), unit: b.quantity_unit },
        ownerOrgId: b.owner_org_id,
        locationId,
        producedAt: timestampFromDate(b.produced_at),
        inputs: [],
        chainHead,
        productCategory: b.product_category ?? '',
      },
      { subject: b.id, orgId: b.owner_org_id, occurredAt: b.produced_at },
    );
  }

  /** Lineage across domains: the same edges (batch_inputs, transformationRecorded) a REST transformation writes. */
  private async recordInputs(m: EntityManager, b: BatchRow, inputs: NonNullable<PlannedTarget['inputs']>, eventId: string, at: Date, principal: Principal) {
    for (const i of inputs) {
      await m.query(
        `INSERT INTO batch_inputs (output_batch_id, input_domain, input_batch_id, quantity_value, quantity_unit) VALUES ($1,$2,$3,$4,$5)
         ON CONFLICT DO NOTHING`,
        [b.id, i.domain, i.batchId, i.quantity.value > 0 ? i.quantity.value : 1, i.quantity.unit],
      );
    }
    const ref = { domain: DOMAIN_ENUM[this.domain], batchId: b.id };
    await this.outbox.append(
      m,
      'transformationRecorded',
      {
        output: ref,
        inputs: inputs.map((i) => ({
          batch: { domain: DOMAIN_ENUM[i.domain as DomainName], batchId: i.batchId },
          quantity: { value: String(i.quantity.value), unit: i.quantity.unit },
        })),
        eventId,
        eventTime: timestampFromDate(at),
      },
      { subject: b.id, orgId: principal.orgId, occurredAt: at },
    );
  }

  /** Operators write only on batches their organisation holds, owns or held. */
  private async requireScope(m: EntityManager, b: BatchRow, principal: Principal) {
    if (b.holder_org_id === principal.orgId || b.owner_org_id === principal.orgId) return;
    const [held] = await m.query('SELECT 1 FROM batch_custody WHERE batch_id = $1 AND org_id = $2', [b.id, principal.orgId]);
    if (!held) throw new DomainError(403, 'not-in-scope', `${batchKey(b.gtin, b.lot)} belongs to another organisation`);
  }

  // ------------------------------------------------------------------ export

  /** The batch's chain as EPCIS events, each carrying its link so a fresh system can store the same chain. */
  async export(batch: BatchRow): Promise<EpcisEvent[]> {
    const rows = (await this.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [batch.id])) as (EventRow & EpcisRowColumns)[];
    const locations = new Map<string, string>();
    const out: EpcisEvent[] = [];
    for (const r of rows) {
      const event = await this.toEpcis(r, batch, locations);
      const link: CarriedLink = { domain: this.domain, gtin: batch.gtin, lot: batch.lot, seq: r.seq, prevHash: r.prev_hash.trim(), hash: r.hash.trim(), content: r.content };
      out.push({ ...event, [CARRIED_LINK_KEY]: link });
    }
    return out;
  }

  private async toEpcis(r: EventRow & EpcisRowColumns, batch: Pick<BatchRow, 'gtin' | 'lot' | 'attributes'>, locations: Map<string, string>): Promise<EpcisEvent> {
    const recordTime = r.record_time.toISOString();
    const captured = r.content.epcis as EpcisEvent | undefined;
    if (captured) return { ...stripTraceExtensions(captured), recordTime };
    const locationId = r.content.locationId as string;
    let uri = locations.get(locationId);
    if (uri === undefined) {
      const loc = this.directory ? await this.directory.location(locationId).catch(() => undefined) : undefined;
      uri = loc?.gln ? parseLocationId(`https://id.gs1.org/414/${loc.gln}`).key : /^[0-9a-f-]{36}$/i.test(locationId) ? `urn:uuid:${locationId}` : locationId;
      locations.set(locationId, uri);
    }
    return nativeToEpcis({
      id: r.id,
      seq: r.seq,
      bizStep: r.biz_step,
      disposition: r.disposition,
      eventTime: r.event_time.toISOString(),
      recordTime,
      content: r.content,
      batch: { gtin: batch.gtin, lot: batch.lot, instance: (batch.attributes?.epcis as { instance?: boolean } | undefined)?.instance === true },
      locationUri: uri,
    });
  }

  // ------------------------------------------------------------------- query

  async query(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    // Byte order (COLLATE "C"): the service merging the domains' answers compares keys the same way.
    const key = `COALESCE(e.epcis_hash || CASE WHEN e.epcis_error THEN '!' ELSE '' END, e.id::text) COLLATE "C"`;
    const type = `COALESCE(e.epcis_type, CASE WHEN e.content ? 'inputs' THEN 'TransformationEvent' ELSE 'ObjectEvent' END)`;
    if (q.eventTypes) where.push(`${type} = ANY(${p(q.eventTypes)})`);
    if (q.geEventTime) where.push(`e.event_time >= ${p(q.geEventTime)}`);
    if (q.ltEventTime) where.push(`e.event_time < ${p(q.ltEventTime)}`);
    if (q.geRecordTime) where.push(`e.record_time >= ${p(q.geRecordTime)}`);
    if (q.ltRecordTime) where.push(`e.record_time < ${p(q.ltRecordTime)}`);
    if (q.bizSteps) where.push(`e.biz_step = ANY(${p(q.bizSteps)})`);
    if (q.dispositions) where.push(`e.disposition = ANY(${p(q.dispositions)})`);
    if (q.epcKeys || q.epcPairs) where.push(`(e.epc_keys && ${p(q.epcKeys ?? [])}::text[] OR (b.gtin || '|' || b.lot) = ANY(${p(q.epcPairs ?? [])}))`);
    if (q.bizLocations) where.push(`COALESCE(e.biz_location, e.content->>'locationId') = ANY(${p(q.bizLocations)})`);
    if (q.readPoints) where.push(`COALESCE(e.read_point, e.content->>'locationId') = ANY(${p(q.readPoints)})`);
    if (q.existsErrorDeclaration) where.push('e.epcis_error');
    if (q.after) where.push(`(e.record_time, ${key}) > (${p(q.after.recordTime)}::timestamptz, ${p(q.after.key)})`);
    if (principal.role === 'operator') {
      where.push(`(e.org_id = ${p(principal.orgId)} OR EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = e.batch_id AND c.org_id = ${p(principal.orgId)}))`);
    }
    const rows = (await this.dataSource.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (e.record_time, ${key}) e.*, ${key} AS sort_key, b.gtin, b.lot, b.attributes AS batch_attributes,
                to_char(e.record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS record_time_us,
                EXISTS (SELECT 1 FROM trace_events d WHERE e.epcis_hash IS NOT NULL AND d.epcis_hash = e.epcis_hash AND d.epcis_error) AS declared
           FROM trace_events e JOIN batches b ON b.id = e.batch_id
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY e.record_time, ${key}, e.seq) s
        ORDER BY s.record_time, s.sort_key LIMIT ${p(q.limit)}`,
      params,
    )) as (EventRow & EpcisRowColumns & { sort_key: string; gtin: string; lot: string; batch_attributes: Record<string, unknown>; record_time_us: string; declared: boolean })[];
    const locations = new Map<string, string>();
    const out: QueriedEvent[] = [];
    for (const r of rows) {
      const event = await this.toEpcis(r, { gtin: r.gtin, lot: r.lot, attributes: r.batch_attributes }, locations);
      // The original of a declared error stays, marked (EPCIS returns the declaration itself on its own).
      if (r.declared && !r.epcis_error) event['trace:erroneous'] = true;
      out.push({ recordTime: r.record_time_us, key: r.sort_key, event });
    }
    return out;
  }

  /** The batch row, if the principal may see it (same rule as the batch endpoints). */
  async visibleBatch(id: string, principal: Principal): Promise<BatchRow> {
    const [row] = (await this.dataSource.query('SELECT * FROM batches WHERE id = $1', [id])) as BatchRow[];
    if (row && principal.role === 'operator') {
      const [held] = await this.dataSource.query('SELECT 1 FROM batch_custody WHERE batch_id = $1 AND org_id = $2', [id, principal.orgId]);
      if (held || row.pending_receiver_org_id === principal.orgId) return row;
    } else if (row) return row;
    throw notFound('batch', `No batch ${id} in ${this.domain}`);
  }
}

interface EpcisRowColumns {
  epcis_hash: string | null;
  epcis_error: boolean;
  epcis_type: string | null;
}
