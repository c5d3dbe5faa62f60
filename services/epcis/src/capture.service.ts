import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ItemKind } from '@trace/contracts';
import {
  CARRIED_LINK_KEY,
  cbvName,
  contextPrefixes,
  EPCIS_CONTEXT,
  COUNT_UNIT,
  DOMAIN_HINT_KEY,
  epcisEventHash,
  contextsOf,
  eventContext,
  eventKeys,
  eventObjects,
  parseLocationId,
  stripTraceExtensions,
  validateEpcis,
  validationInParts,
  vocabularyElementsOf,
  type CarriedLink,
  type EpcisDocument,
  type EpcisEvent,
  type EventContext,
} from '@trace/epcis';
import { badRequest, DomainError, EventLoopSlices, notFound, type Principal } from '@trace/platform';
import { BatchRegistry, CONCURRENT_CAPTURE, DOMAINS, type PlannedChainEvent, type PlannedTarget } from '@trace/trace-service';
import { epcisDomains } from './domains';
import { MasterDataStore } from './master-data.store';

export type ErrorBehaviour = 'rollback' | 'proceed';

export interface CaptureError {
  eventIndex: number;
  eventID?: string;
  reason: string;
}

interface JobRow {
  id: string;
  org_id: string;
  error_behaviour: ErrorBehaviour;
  running: boolean;
  success: boolean;
  errors: CaptureError[];
  total: number;
  done: number;
  created_at: Date;
  finished_at: Date | null;
}

/** The capture job as the EPCIS 2.0 REST binding shows it. */
export function jobView(r: JobRow) {
  return {
    captureID: r.id,
    createdAt: r.created_at.toISOString(),
    ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
    running: r.running,
    success: r.success,
    captureErrorBehaviour: r.error_behaviour,
    errors: r.errors,
    progress: { total: r.total, done: r.done },
  };
}

/** An event no trace chain holds (it names no batch of ours): kept by this service. */
interface UnboundEvent {
  index: number;
  hash: string;
  error: boolean;
  type: string;
  event: EpcisEvent;
  eventTime: string;
  bizStep: string | null;
  disposition: string | null;
  readPoint: string | null;
  bizLocation: string | null;
  epcKeys: string[];
  context?: EventContext;
}

/**
 * An EPCISDocument as it is; an EPCISQueryDocument (another repository's
 * answer) as a document of its result events, so query answers can be
 * captured as they were received.
 */
function asCapturable(doc: unknown): EpcisDocument | undefined {
  const d = doc as EpcisDocument & { epcisBody: { queryResults?: { resultsBody?: { eventList?: EpcisEvent[] } } } };
  if (d.type === 'EPCISDocument') return { ...d, epcisBody: { eventList: d.epcisBody?.eventList ?? [] } };
  if ((d.type as string) === 'EPCISQueryDocument') {
    return { ...d, type: 'EPCISDocument', epcisBody: { eventList: d.epcisBody?.queryResults?.resultsBody?.eventList ?? [] } };
  }
  return undefined;
}

export const MAX_EVENTS = 20_000;

/**
 * The schema's errors of a captured document (none: valid). A valid EPCISDocument is checked event by
 * event in slices of the event loop, which every service of the embedded app shares: a scan or a health
 * check does not wait behind a long document's validation. An invalid one is validated again whole,
 * for its errors as the schema orders them.
 */
async function schemaProblems(doc: unknown) {
  const parts = validationInParts(doc);
  if (parts?.envelopeValid) {
    const slices = new EventLoopSlices();
    // A long list starts in a turn of its own: this one already held the request's guards and pipes.
    if (parts.events.length > 500) await slices.yieldNow();
    let valid = true;
    for (let i = 0; valid && i < parts.events.length; i++) {
      if (slices.due()) await slices.yieldNow();
      valid = parts.eventValid(i);
    }
    if (valid) return [];
  }
  return validateEpcis(doc);
}
/** A running job that has not reported progress for this long lost its process. */
const STALE_AFTER_S = 600;
/** Events per call to a domain in proceed mode. */
const SLICE = 2_000;
/** How often a capture is planned and applied when another capture keeps writing the same events meanwhile. */
const CONCURRENT_ATTEMPTS = 3;

/**
 * EPCIS capture: validates a document against GS1's schema, answers with a job
 * at once and stores the events in the background onto the trace chains of the
 * domains that own their GTINs.
 *
 * Error behaviour: `proceed` stores each good event (each domain commits in
 * chunks, a bad event rolls back only its own savepoint) and lists the bad
 * ones. `rollback` (the default) first plans every event (an unknown GTIN, an
 * object the document does not describe well enough, is found here without
 * writing), then runs every domain's share in one transaction that is rolled
 * back (a trial), and only when every domain's trial passed runs them for
 * real, again one transaction per domain. Domains are separate databases in
 * distributed mode, so no transaction spans them: a domain failing between
 * its trial and its real run (a concurrent writer) would leave the domains
 * already committed in place — the job then names the failure.
 */
@Injectable()
export class CaptureService {
  private readonly log = new Logger('epcis-capture');

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Inject(MasterDataStore) private readonly masterData: MasterDataStore,
  ) {}

  async submit(doc: unknown, behaviour: ErrorBehaviour, principal: Principal, bearer: string | undefined) {
    const problems = await schemaProblems(doc);
    if (problems.length) {
      throw badRequest('epcis-schema', `The document does not validate against the EPCIS 2.0 JSON Schema (${problems.length} error(s) shown)`, problems);
    }
    const d = asCapturable(doc);
    if (!d) throw badRequest('epcis-document', 'Capture takes an EPCISDocument (or an EPCISQueryDocument\'s results)', [{ field: '/type', message: 'must be EPCISDocument' }]);
    const events = d.epcisBody.eventList;
    if (events.length > MAX_EVENTS) {
      // GS1-EPCIS-Capture-Limit: the REST binding's 413 (CapturePayloadTooLarge).
      throw new DomainError(413, 'epcis-too-large', `At most ${MAX_EVENTS} events per capture (GS1-EPCIS-Capture-Limit)`, {
        errors: [{ field: '/epcisBody/eventList', message: `more than ${MAX_EVENTS} events` }],
      });
    }
    const id = randomUUID();
    const [row] = (await this.ds.query(
      `INSERT INTO capture_jobs (id, org_id, error_behaviour, total) VALUES ($1,$2,$3,$4) RETURNING *`,
      [id, principal.orgId, behaviour, events.length],
    )) as JobRow[];
    // The job runs after the 202; its outcome is on the job row.
    setImmediate(() => {
      this.run(id, d, behaviour, principal, bearer).catch(async (err: unknown) => {
        this.log.error(`capture ${id} failed: ${(err as Error).message}`);
        const reason = err instanceof DomainError ? err.message : 'internal error while storing the events';
        await this.finish(id, false, [{ eventIndex: -1, reason }]).catch(() => undefined);
      });
    });
    return jobView(row);
  }

  /**
   * POST /events: one event captured at once (rollback), answered when stored. Its eventID is its own,
   * else its event hash (as every captured event's).
   */
  async captureEvent(body: unknown, principal: Principal, bearer: string | undefined): Promise<EpcisEvent> {
    const { '@context': context, ...event } = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const doc = {
      '@context': context ?? EPCIS_CONTEXT,
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: { eventList: [event] },
    };
    const problems = validateEpcis(doc);
    if (problems.length) {
      throw badRequest('epcis-schema', `The event does not validate against the EPCIS 2.0 JSON Schema (${problems.length} error(s) shown)`,
        problems.map((p) => ({ ...p, field: p.field.replace(/^\/epcisBody\/eventList\/0/, '') || '/' })));
    }
    const d = doc as unknown as EpcisDocument;
    const stripped = stripTraceExtensions(d.epcisBody.eventList[0]);
    const eventID = stripped.eventID ?? epcisEventHash(stripped, contextPrefixes(d['@context']));
    const id = randomUUID();
    await this.ds.query(`INSERT INTO capture_jobs (id, org_id, error_behaviour, total) VALUES ($1,$2,'rollback',1)`, [id, principal.orgId]);
    await this.run(id, d, 'rollback', principal, bearer);
    const [row] = (await this.ds.query('SELECT * FROM capture_jobs WHERE id = $1', [id])) as JobRow[];
    if (!row.success) {
      throw badRequest('epcis-capture', `The event was not stored: ${row.errors.map((e) => e.reason).join('; ')}`, row.errors.map((e) => ({ field: '/', message: e.reason })));
    }
    return { ...(event as unknown as EpcisEvent), eventID };
  }

  /** The organisation's latest capture jobs (all organisations' for inspectors and regulators). */
  async jobs(principal: Principal) {
    const rows = (await this.ds.query(
      `SELECT * FROM capture_jobs WHERE ($1::text IS NULL OR org_id = $1) ORDER BY created_at DESC LIMIT 100`,
      [principal.role === 'operator' ? principal.orgId : null],
    )) as JobRow[];
    return rows.map(jobView);
  }

  async job(id: string, principal: Principal) {
    // A job whose process died (restart, crash) stops beating: it is finished as failed when next looked at.
    await this.ds.query(
      `UPDATE capture_jobs SET running = false, success = false, finished_at = now(),
              errors = errors || '[{"eventIndex": -1, "reason": "interrupted: the service stopped while storing the events; capture the document again (stored events are de-duplicated)"}]'::jsonb
        WHERE id = $1 AND running AND heartbeat_at < now() - make_interval(secs => $2)`,
      [id, STALE_AFTER_S],
    );
    const [row] = (await this.ds.query('SELECT * FROM capture_jobs WHERE id = $1', [id])) as JobRow[];
    if (!row || (principal.role === 'operator' && row.org_id !== principal.orgId)) throw notFound('capture-job', `No capture job ${id}`);
    return jobView(row);
  }

  private async finish(id: string, success: boolean, errors: CaptureError[], done?: number) {
    await this.ds.query(
      `UPDATE capture_jobs SET running = false, success = $2, errors = $3, finished_at = now(), done = COALESCE($4, done) WHERE id = $1`,
      [id, success, JSON.stringify(errors), done ?? null],
    );
  }

  /**
   * Stores the document's events. A domain that finds another capture storing some of the same events, or
   * creating their lots, at the same time (a partner sending the document again before the first one ended)
   * refuses with CONCURRENT_CAPTURE: what was planned is out of date, so the whole document is planned and
   * applied again, and what the other capture (or this one, in proceed mode) stored meanwhile is then a duplicate.
   */
  private async run(id: string, doc: EpcisDocument, behaviour: ErrorBehaviour, principal: Principal, bearer: string | undefined) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(id, doc, behaviour, principal, bearer);
      } catch (err) {
        if (!(err instanceof DomainError && err.rule === CONCURRENT_CAPTURE) || attempt >= CONCURRENT_ATTEMPTS) throw err;
        this.log.warn(`capture ${id}: ${err.message}; planning it again (attempt ${attempt + 1})`);
      }
    }
  }

  private async runOnce(id: string, doc: EpcisDocument, behaviour: ErrorBehaviour, principal: Principal, bearer: string | undefined) {
    const raw = doc.epcisBody.eventList;
    // The job's own creation time, the database's clock: subscriptions read no event recorded at or after the
    // start of a capture still running (lookHorizon), so its events must not be recorded before that start.
    // This process's clock may be behind the database's (another host); its time could then fall before a
    // cursor that a look moved while the job ran, and the events be passed over for good. Rounded up to the
    // millisecond, which is what the chains keep of it (a JavaScript Date), so that it is not before the start.
    const [{ recordTime }] = (await this.ds.query(
      `SELECT to_char(date_trunc('milliseconds', created_at + interval '999 microseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "recordTime"
         FROM capture_jobs WHERE id = $1`,
      [id],
    )) as { recordTime: string }[];
    const planned = await this.plan(raw, doc['@context'], bearer);
    const { unbound } = planned;
    let { perDomain } = planned;
    const eventIdOf = (i: number) => raw[i]?.eventID;
    const named = (e: { index: number; reason: string }): CaptureError => ({ eventIndex: e.index, ...(eventIdOf(e.index) ? { eventID: eventIdOf(e.index) } : {}), reason: e.reason });
    const atomic = behaviour === 'rollback';

    // Progress counts (event, domain) shares plus unbound events, scaled to the document's events.
    const units = [...perDomain.values()].reduce((n, evs) => n + evs.length, 0) + unbound.length;
    let unitsDone = 0;
    const progress = async (n: number) => {
      const done = units === 0 ? raw.length : Math.min(raw.length, Math.floor(((unitsDone + n) / units) * raw.length));
      await this.ds.query('UPDATE capture_jobs SET done = GREATEST(done, $2), heartbeat_at = now() WHERE id = $1', [id, done]).catch(() => undefined);
    };
    const failed = new Map<number, string>();

    // Rollback: the domain with the largest share runs for real first, with no trial of its own: alone it is
    // all or nothing (its transaction, its claims made only once every event passed), so when it refuses,
    // nothing was kept anywhere. Only the domains that commit after it are tried before it runs.
    let lead: string | undefined;
    if (atomic) {
      const order = [...perDomain].sort(([, a], [, b]) => b.length - a.length);
      lead = order[0]?.[0];
      const trial = async (domain: string, events: PlannedChainEvent[]) => {
        await progress(0);
        const r = await this.registry.epcis(domain, bearer).apply({ captureId: id, recordTime, atomic: true, dryRun: true, events }, principal);
        for (const x of r.results) if (x.error) failed.set(x.index, `${domain}: ${x.error}`);
      };
      for (const [domain, events] of order.slice(1)) await trial(domain, events);
      // Refused already: the lead's trial too, so that the job lists every refusal of the document.
      if (failed.size && lead) await trial(lead, perDomain.get(lead) as PlannedChainEvent[]);
      if (failed.size) return this.finish(id, false, [...failed].sort(([a], [b]) => a - b).map(([index, reason]) => named({ index, reason })), 0);
      perDomain = new Map(order);
    } else {
      // Proceed: an event spanning domains (a transformation whose inputs live elsewhere) is tried in every
      // domain first; refused in one, it is stored in none (before, the output kept its edge to an input
      // another domain had just refused).
      const spread = new Map<number, number>();
      for (const events of perDomain.values()) for (const e of events) spread.set(e.index, (spread.get(e.index) ?? 0) + 1);
      const across = new Set([...spread].filter(([, n]) => n > 1).map(([index]) => index));
      if (across.size) {
        for (const [domain, events] of perDomain) {
          // The domain's share, in document order, in one rolled-back transaction (atomic): an input may have
          // been made by an earlier event, also one more than a chunk (500 events) before. Only up to its last
          // spanning event: what follows cannot change how those fare (the trial checks in order, writes nothing).
          let last = events.length - 1;
          while (last >= 0 && !across.has(events[last].index)) last--;
          if (last < 0) continue;
          const trial = await this.registry.epcis(domain, bearer).apply(
            { captureId: id, recordTime, atomic: true, dryRun: true, events: events.slice(0, last + 1) },
            principal,
          );
          for (const r of trial.results) if (r.error && across.has(r.index) && !failed.has(r.index)) failed.set(r.index, `${domain}: ${r.error}`);
        }
        for (const [domain, events] of perDomain) perDomain.set(domain, events.filter((e) => !failed.has(e.index)));
      }
    }
    for (const [domain, events] of perDomain) {
      const ledger = this.registry.epcis(domain, bearer);
      // Proceed commits chunk by chunk anyway: sent in slices, a distributed domain gets bounded requests
      // and the job's progress moves with each. Rollback needs the domain's whole share in one call.
      const slices = atomic ? [events] : Array.from({ length: Math.ceil(events.length / SLICE) }, (_, i) => events.slice(i * SLICE, (i + 1) * SLICE));
      for (const slice of slices) {
        const result = await ledger.apply({ captureId: id, recordTime, atomic, dryRun: false, events: slice }, principal, (n) => void progress(n));
        for (const r of result.results) if (r.error && !failed.has(r.index)) failed.set(r.index, `${domain}: ${r.error}`);
        unitsDone += slice.length;
        await progress(0);
      }
      // The lead refused (and rolled back): the others, not run yet, are not run at all.
      if (domain === lead && failed.size) {
        return this.finish(id, false, [...failed].sort(([a], [b]) => a - b).map(([index, reason]) => named({ index, reason })), 0);
      }
    }
    await this.storeUnbound(unbound, id, recordTime, principal);
    const all = [...failed].sort(([a], [b]) => a - b).map(([index, reason]) => named({ index, reason }));
    // The header's master data goes with the events: not when a rollback capture stored none of them.
    if (!atomic || all.length === 0) await this.masterData.record(vocabularyElementsOf(doc), principal.orgId, id);
    await this.finish(id, all.length === 0, all, raw.length);
  }

  private async storeUnbound(events: UnboundEvent[], captureId: string, recordTime: string, principal: Principal) {
    if (!events.length) return;
    await this.ds.transaction(async (m) => {
      for (const e of events) {
        await m.query(
          `INSERT INTO unbound_events (epcis_hash, epcis_error, record_time, event_time, event_type, biz_step, disposition, read_point, biz_location,
                                       epc_keys, org_id, capture_id, event, epcis_context)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING`,
          [e.hash, e.error, recordTime, e.eventTime, e.type, e.bizStep, e.disposition, e.readPoint, e.bizLocation, e.epcKeys, principal.orgId, captureId, e.event,
            e.context ? JSON.stringify(e.context) : null],
        );
      }
    });
  }

  /**
   * Maps every event onto batches: which domain owns each GTIN (the event's
   * `trace:domain`, else the domain where the batch or the product exists),
   * which batch each object is, and which unknown objects the document
   * describes well enough to create (a product we know, a lot or serial, a
   * quantity). Nothing is written here.
   */
  private async plan(raw: EpcisEvent[], documentContext: unknown, bearer: string | undefined) {
    const prefixes = contextPrefixes(documentContext);
    // About 50 µs an event, half a second for 10,000: in slices, so that other requests are answered meanwhile.
    const slices = new EventLoopSlices();
    const analysed = await slices.map(raw, (r, index) => {
      const stripped = stripTraceExtensions(r);
      // An event's own @context binds its names over its document's (JSON-LD scoping), in its hash too.
      const hash = epcisEventHash(stripped, stripped['@context'] === undefined ? prefixes : contextPrefixes(contextsOf(stripped, documentContext)));
      // Every stored event has an eventID a partner can name it by: its own, else its event hash (GS1's rule).
      const event = stripped.eventID ? stripped : { ...stripped, eventID: hash };
      return {
        index,
        event,
        hash,
        // The namespaces its names use, kept with it: answers declare them as this document did.
        context: eventContext(stripped, documentContext),
        objects: eventObjects(event),
        carried: r[CARRIED_LINK_KEY] as CarriedLink | undefined,
        hint: typeof r[DOMAIN_HINT_KEY] === 'string' ? (r[DOMAIN_HINT_KEY] as string) : undefined,
      };
    });
    const gtins = new Set<string>();
    // A lot and a serial with the same text are different objects (API.md "Identity"): keys name the kind.
    const objects = new Map<string, { gtin: string; lot: string; kind: ItemKind }>();
    for (const a of analysed) {
      for (const o of a.objects) {
        if (o.ref.kind !== 'trade-item') continue;
        gtins.add(o.ref.gtin);
        const item = itemOf(o.ref);
        if (item) objects.set(item.key, { gtin: o.ref.gtin, lot: item.value, kind: item.kind });
      }
    }
    const productDomain = new Map<string, string>();
    const known = new Map<string, { domain: string; id: string }>();
    for (const domain of epcisDomains()) {
      const r = await this.registry.epcis(domain, bearer).resolve({ gtins: [...gtins], objects: [...objects.values()] });
      for (const g of r.products) if (!productDomain.has(g)) productDomain.set(g, domain);
      for (const b of r.batches) {
        const k = `${b.gtin}|${b.kind ?? 'lot'}|${b.lot}`;
        if (!known.has(k)) known.set(k, { domain, id: b.id });
      }
    }

    const perDomain = new Map<string, PlannedChainEvent[]>();
    const unbound: UnboundEvent[] = [];
    const seen = new Set<string>();
    for (const a of analysed) {
      if (slices.due()) await slices.yieldNow();
      const e = a.event;
      const error = e.errorDeclaration !== undefined;
      const dedupe = `${a.hash}${error ? '!' : ''}`;
      if (seen.has(dedupe)) continue; // the same event twice in one document: stored once
      seen.add(dedupe);
      const readPoint = e.readPoint ? parseLocationId(e.readPoint.id).key : null;
      const bizLocation = e.bizLocation ? parseLocationId(e.bizLocation.id).key : null;
      const common = {
        hash: a.hash,
        error,
        type: e.type,
        event: e,
        bizStep: cbvName(e.bizStep, 'bizstep') ?? null,
        disposition: cbvName(e.disposition, 'disp') ?? null,
        readPoint,
        bizLocation,
        epcKeys: eventKeys(e),
        ...(a.context ? { context: a.context } : {}),
      };
      let items = a.objects.filter((o) => o.ref.kind === 'trade-item' && (o.ref.lot ?? o.ref.serial) !== undefined);
      // An exported event carries the link of the batch it was exported from: it is stored on that chain
      // alone, as it was; its other objects have their own links in their own exports (a transformation's
      // inputs: their consumption), and its content keeps the edges (inputs) that lineage needs.
      const c = a.carried;
      const own = c ? items.find((o) => o.ref.kind === 'trade-item' && o.ref.gtin === c.gtin && carriedBy(c, o.ref)) : undefined;
      // Its inputs that are batches here come along only to be checked (the capturer must hold them)
      // and to give the edges; an input not here has nothing to link to.
      const edgeOnly = new Set(own ? items.filter((o) => o !== own && o.role === 'input' && o.ref.kind === 'trade-item' && known.has(itemOf(o.ref)?.key ?? '')) : []);
      if (own) items = [own, ...edgeOnly];
      if (items.length === 0) {
        unbound.push({ index: a.index, ...common, eventTime: e.eventTime });
        continue;
      }
      const targets: (PlannedTarget & { domain: string })[] = [];
      const createdHere = new Map<string, { domain: string; id: string }>();
      for (const o of items) {
        if (o.ref.kind !== 'trade-item') continue;
        const { value: lot, kind, key: k } = itemOf(o.ref) as NonNullable<ReturnType<typeof itemOf>>;
        const instance = kind === 'serial';
        const existing = known.get(k) ?? createdHere.get(k);
        // An object named twice in one event (e.g. as input and output) is one link on its chain.
        if (existing && targets.some((x) => x.batchId === existing.id)) continue;
        const domain = existing?.domain ?? a.hint ?? productDomain.get(o.ref.gtin);
        // A trading partner's object (its GTIN is no product of ours): the event is still stored and queried
        // (its object keys), as a partner event; only the batches of ours it names carry it on their chains.
        if (!domain || !(DOMAINS as readonly string[]).includes(domain) || !epcisDomains().includes(domain)) continue;
        const quantity = o.quantity ?? (instance ? { value: 1, unit: COUNT_UNIT } : undefined);
        const carried = a.carried && a.carried.gtin === o.ref.gtin && carriedBy(a.carried, o.ref) ? a.carried : undefined;
        const target: PlannedTarget & { domain: string } = {
          domain,
          // Ids are the system's (issue 13): never a carried content's batchId or anything else a client wrote.
          batchId: existing?.id ?? randomUUID(),
          gtin: o.ref.gtin,
          lot,
          instance,
          role: o.role,
          ...(quantity ? { quantity } : {}),
          ...(carried ? { carried } : {}),
          ...(edgeOnly.has(o) ? { edgeOnly: true } : {}),
        };
        if (!existing) {
          // EPCIS allows a DELETE of what this repository never saw and a class without a quantity: not a batch
          // of ours to create, so the object stays in the event alone (as a partner's object does).
          if (e.action === 'DELETE' || !(quantity ?? carried?.content.quantity)) continue;
          target.create = { quantity: (quantity ?? carried?.content.quantity) as { value: number; unit: string } };
          createdHere.set(k, { domain, id: target.batchId });
        }
        targets.push(target);
      }
      if (targets.length === 0) {
        unbound.push({ index: a.index, ...common, eventTime: e.eventTime });
        continue;
      }
      for (const [k, v] of createdHere) known.set(k, v);
      const inputs = targets
        .filter((t) => t.role === 'input')
        .map((t) => ({
          domain: t.domain,
          batchId: t.batchId,
          gtin: t.gtin,
          lot: t.lot,
          // Named only for a serial, so a lot input is recorded (and hashed) as it always was.
          ...(t.instance ? { kind: 'serial' as const } : {}),
          quantity: t.quantity ?? { value: 1, unit: COUNT_UNIT },
        }));
      const byDomain = new Map<string, PlannedTarget[]>();
      for (const { domain, ...t } of targets) {
        if (inputs.length && t.role === 'output') t.inputs = inputs;
        byDomain.set(domain, [...(byDomain.get(domain) ?? []), t]);
      }
      for (const [domain, ts] of byDomain) {
        const list = perDomain.get(domain) ?? [];
        list.push({
          index: a.index,
          ...common,
          bizStep: common.bizStep ?? 'other',
          eventTime: e.eventTime,
          locationId: bizLocation ?? readPoint ?? 'unknown',
          targets: ts,
        });
        perDomain.set(domain, list);
      }
    }
    return { perDomain, unbound };
  }
}

/** A trade item's identity: its lot when it names one, else its serial (API.md "Identity": the two never mix). */
function itemOf(ref: { gtin: string; lot?: string; serial?: string }): { kind: ItemKind; value: string; key: string } | undefined {
  const kind: ItemKind | undefined = ref.lot !== undefined ? 'lot' : ref.serial !== undefined ? 'serial' : undefined;
  if (!kind) return undefined;
  const value = (kind === 'lot' ? ref.lot : ref.serial) as string;
  return { kind, value, key: `${ref.gtin}|${kind}|${value}` };
}

/** Whether an exported link belongs to this object (links exported before kinds were carried name the text only). */
function carriedBy(c: CarriedLink, ref: { gtin: string; lot?: string; serial?: string }): boolean {
  const item = itemOf(ref);
  return item !== undefined && item.value === c.lot && (c.kind ?? item.kind) === item.kind;
}
