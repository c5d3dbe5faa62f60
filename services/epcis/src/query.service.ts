import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  cbvName,
  descendantKeys,
  epcisQueryDocument,
  eventKeys,
  masterDataFilter,
  masterDataKeys,
  masterDataParameter,
  parseLocationId,
  parseObjectId,
  opaqueName,
  partyGlnOf,
  partyKey,
  vocabulariesFor,
  type ContextualEvent,
  type EpcisEvent,
  type EventContext,
  type MasterDataCondition,
} from '@trace/epcis';
import { badRequest, DomainError, notFound, type Principal } from '@trace/platform';
import { parseOffsetTime } from '@trace/trace-chain';
import { BatchRegistry, type DomainQuery, type QueriedEvent } from '@trace/trace-service';
import { epcisDomains } from './domains';
import { fieldFilter, isFieldParameter, SENSOR_PARAMETERS } from './field-filters';
import { MasterDataStore } from './master-data.store';
import { EPC_PARAMETERS, emptyFilterParams, eventFilter, locationWithDescendants, needsEventFilter, type EventFilter } from './query-filters';

/** The SimpleEventQuery parameters this interface answers (EPCIS 2.0 §8.2.7.1, REST binding). */
export const QUERY_PARAMETERS = [
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'GE_recordTime',
  'LT_recordTime',
  'EQ_action',
  'EQ_bizStep',
  'EQ_disposition',
  'EQ_persistentDisposition',
  ...EPC_PARAMETERS,
  'EQ_bizLocation',
  'WD_bizLocation',
  'EQ_readPoint',
  'WD_readPoint',
  'EQ_transformationID',
  'EQ_quantity',
  'GT_quantity',
  'GE_quantity',
  'LT_quantity',
  'LE_quantity',
  'EQ_eventID',
  'EXISTS_errorDeclaration',
  'GE_errorDeclarationTime',
  'LT_errorDeclarationTime',
  'EQ_errorReason',
  'EQ_correctiveEventID',
  ...SENSOR_PARAMETERS,
  'orderBy',
  'orderDirection',
  'eventCountLimit',
  'maxEventCount',
  'perPage',
  'nextPageToken',
] as const;
/** Master data parameters (EPCIS 2.0 §8.2.7.1): HASATTR_{field}, EQATTR_{field}_{attribute}. */
const MASTER_DATA_PARAMETER = /^(HASATTR|EQATTR)_/;
/** Parameters named by a type: EQ_bizTransaction_po, EQ_source_owning_party, EXISTS_sensorElementList… */
const TYPED_PARAMETER = /^(EQ_bizTransaction|EQ_source|EQ_destination)_(.+)$|^EXISTS_(.+)$/;

export const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransformationEvent', 'TransactionEvent', 'AssociationEvent'];
/** CBV 2.0 business steps and dispositions (by their short names, as stored). */
const CBV_BIZSTEPS = [
  'accepting', 'arriving', 'assembling', 'collecting', 'commissioning', 'consigning', 'creating_class_instance', 'cycle_counting', 'decommissioning',
  'departing', 'destroying', 'disassembling', 'dispensing', 'encoding', 'entering_exiting', 'holding', 'inspecting', 'installing', 'killing', 'loading',
  'other', 'packing', 'picking', 'receiving', 'removing', 'repackaging', 'repairing', 'replacing', 'reserving', 'retail_selling', 'sampling',
  'sensor_reporting', 'shipping', 'staging_outbound', 'stock_taking', 'stocking', 'storing', 'transporting', 'unloading', 'unpacking', 'void_shipping',
];
const CBV_DISPOSITIONS = [
  'active', 'available', 'completeness_inferred', 'completeness_verified', 'conformant', 'container_closed', 'container_open', 'damaged', 'destroyed',
  'dispensed', 'disposed', 'encoded', 'expired', 'in_progress', 'in_transit', 'inactive', 'mismatch_instance', 'mismatch_class', 'mismatch_quantity',
  'needs_replacement', 'no_pedigree_match', 'non_conformant', 'non_sellable_other', 'partially_dispensed', 'recalled', 'reserved', 'retail_sold',
  'returned', 'sellable_accessible', 'sellable_not_accessible', 'stolen', 'unavailable', 'unknown',
];
export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;
/** An answer in another order than recordTime ascending is sorted whole: at most this many events. */
export const MAX_SORTED = 10_000;

type Params = Record<string, string | string[] | undefined>;

/** A parsed query: what the stores filter in SQL, what is tested on each event, and how the answer is shaped. */
export interface ParsedQuery {
  domain: DomainQuery;
  filter?: EventFilter;
  /**
   * Tests that read master data (HASATTR_, EQATTR_, and WD_ whose descendants it declares): resolved
   * against the stored master data when the query runs (`resolve`), on top of `filter`.
   */
  masterData?: { conditions: MasterDataCondition[]; wd: { readPoint?: string[]; bizLocation?: string[] } };
  order: { by: 'recordTime' | 'eventTime'; desc: boolean };
  /** eventCountLimit: the answer (all pages together) ends after this many events. */
  countLimit?: number;
  /** maxEventCount: more matching events than this is a 413 (QueryTooLargeException). */
  maxCount?: number;
  /** A page of a sorted answer: its offset. */
  offset?: number;
  /** Events still allowed by eventCountLimit on later pages. */
  remaining?: number;
}

const sortKey = (e: { recordTime: string; key: string }) => e;
const before = (a: { recordTime: string; key: string }, b: { recordTime: string; key: string }) =>
  a.recordTime < b.recordTime || (a.recordTime === b.recordTime && a.key < b.key);

/**
 * The EPCIS query interface over every trace chain: each domain answers for
 * its own chains (REST-recorded events mapped to EPCIS, captured events as
 * captured), this service for events that name no batch of ours (partner
 * events), and the answers are merged in (recordTime, event key) order. The
 * stores filter what SQL can (a superset); the rest is tested on each event
 * while the merged stream is read. The page token is the keyset position,
 * opaque to the client; an event stored on several chains (one per batch it
 * names) has one key and is returned once.
 */
@Injectable()
export class QueryService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Inject(MasterDataStore) private readonly masterData: MasterDataStore,
  ) {}

  parse(params: Params, fixed: Params = {}): ParsedQuery {
    const errors: { field: string; message: string }[] = [];
    for (const k of Object.keys(params)) {
      if (!(QUERY_PARAMETERS as readonly string[]).includes(k) && !TYPED_PARAMETER.test(k) && !isFieldParameter(k) && !MASTER_DATA_PARAMETER.test(k)) {
        errors.push({ field: k, message: 'not a query parameter this interface supports' });
      }
      if (k in fixed) errors.push({ field: k, message: 'is given by the path' });
    }
    const all: Params = { ...params, ...fixed };
    const list = (k: string): string[] | undefined => {
      const v = all[k];
      if (v === undefined) return undefined;
      const values = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split('|')).map((s) => s.trim()).filter(Boolean);
      if (!values.length) errors.push({ field: k, message: 'needs a value' });
      return values;
    };
    const one = (k: string): string | undefined => {
      const v = all[k];
      return v === undefined ? undefined : Array.isArray(v) ? v[v.length - 1] : v;
    };
    const time = (k: string): string | undefined => {
      const s = one(k);
      if (s === undefined) return undefined;
      const parsed = parseOffsetTime(s);
      if ('problem' in parsed) {
        errors.push({ field: k, message: `must be an RFC 3339 date-time with offset: ${parsed.problem}` });
        return undefined;
      }
      return parsed.instant.toISOString();
    };
    const count = (k: string, max = Number.MAX_SAFE_INTEGER): number | undefined => {
      const s = one(k);
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > max) {
        errors.push({ field: k, message: `must be an integer from 1 to ${max}` });
        return undefined;
      }
      return n;
    };
    const q: DomainQuery = { limit: DEFAULT_PER_PAGE };
    const f = emptyFilterParams();
    const types = list('eventType');
    if (types) {
      for (const t of types) if (!EVENT_TYPES.includes(t)) errors.push({ field: 'eventType', message: `${t} is not an EPCIS event type` });
      q.eventTypes = types;
    }
    q.geEventTime = time('GE_eventTime');
    q.ltEventTime = time('LT_eventTime');
    q.geRecordTime = time('GE_recordTime');
    q.ltRecordTime = time('LT_recordTime');
    q.bizSteps = list('EQ_bizStep')?.map((s) => cbvName(s, 'bizstep') as string);
    q.dispositions = list('EQ_disposition')?.map((s) => cbvName(s, 'disp') as string);
    f.actions = list('EQ_action');
    for (const a of f.actions ?? []) if (!['ADD', 'OBSERVE', 'DELETE'].includes(a)) errors.push({ field: 'EQ_action', message: `${a} is not ADD, OBSERVE or DELETE` });
    let patterns = false;
    const exact: string[] = [];
    for (const param of EPC_PARAMETERS) {
      const values = list(param);
      if (!values) continue;
      f.epc[param] = values;
      for (const v of values) {
        if (/^urn:epc:idpat:/i.test(v)) patterns = true;
        else exact.push(v);
      }
    }
    // The stores' own object keys name every object of an event, whatever its field: a coarse filter only
    // (MATCH_epc must not match a parent), and none when a pattern is asked for.
    if (exact.length && !patterns) {
      const refs = exact.map(parseObjectId);
      q.epcKeys = refs.map((r) => r.key);
      // gtin|kind|value, kind as capture keys it: a lot "2017" never matches a serial "2017".
      q.epcPairs = refs.flatMap((r) =>
        r.kind !== 'trade-item' ? [] : r.lot !== undefined ? [`${r.gtin}|lot|${r.lot}`] : r.serial !== undefined ? [`${r.gtin}|serial|${r.serial}`] : [],
      );
    }
    // Locations: the canonical GLN form, and our own location ids as the REST API records them (urn:uuid:…).
    const locations = (k: string) => list(k)?.flatMap((s) => [parseLocationId(s).key, ...(/^urn:uuid:/i.test(s) ? [s.slice(9).toLowerCase()] : [])]);
    q.bizLocations = locations('EQ_bizLocation');
    q.readPoints = locations('EQ_readPoint');
    // WD_: descendants are the GLN's extensions and what master data places below (resolved when run).
    const wd = { bizLocation: list('WD_bizLocation'), readPoint: list('WD_readPoint') };
    const conditions: MasterDataCondition[] = [];
    f.transformationIds = list('EQ_transformationID');
    f.persistentDispositions = list('EQ_persistentDisposition');
    for (const op of ['EQ', 'GT', 'GE', 'LT', 'LE'] as const) {
      const s = one(`${op}_quantity`);
      if (s === undefined) continue;
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n)) errors.push({ field: `${op}_quantity`, message: 'must be a number' });
      else f.quantity.push({ op, value: n });
    }
    q.eventIds = list('EQ_eventID');
    if (all.EXISTS_errorDeclaration !== undefined) q.existsErrorDeclaration = true;
    const declared = (k: string) => {
      const t = time(k);
      return t === undefined ? undefined : Date.parse(t);
    };
    f.geErrorDeclarationTime = declared('GE_errorDeclarationTime');
    f.ltErrorDeclarationTime = declared('LT_errorDeclarationTime');
    f.errorReasons = list('EQ_errorReason');
    f.correctiveEventIds = list('EQ_correctiveEventID');
    for (const k of Object.keys(all)) {
      const md = MASTER_DATA_PARAMETER.test(k) ? masterDataParameter(k, list(k) ?? []) : undefined;
      if (md) {
        if (md.condition) conditions.push(md.condition);
        else errors.push({ field: k, message: md.error as string });
        continue;
      }
      // Sensor, ILMD, error declaration and extension fields (field-filters.ts); EXISTS_ ones take no value.
      if (isFieldParameter(k) && !(QUERY_PARAMETERS as readonly string[]).includes(k)) {
        const test = fieldFilter(k, k.startsWith('EXISTS_') ? [] : (list(k) ?? []), errors);
        if (test) f.extra.push(test);
        continue;
      }
      if (SENSOR_PARAMETERS.includes(k)) {
        const test = fieldFilter(k, list(k) ?? [], errors);
        if (test) f.extra.push(test);
        continue;
      }
      const m = TYPED_PARAMETER.exec(k);
      if (!m) continue;
      if (m[3] !== undefined) {
        if (m[3] !== 'errorDeclaration') f.exists.push(m[3]);
        continue;
      }
      const given = list(k) ?? [];
      // A party of ours by its internal id (`urn:uuid:`, as the round trip names it) also matches the opaque
      // name answers give an organisation without GLN; a PGLN in either form matches the Digital Link answers use.
      const party = (v: string) => (/^urn:uuid:/i.test(v) ? [opaqueName('party', v.slice(9))] : partyGlnOf(v) ? [partyKey(partyGlnOf(v) as string)] : []);
      const values = m[1] === 'EQ_bizTransaction' ? given : [...given, ...given.flatMap(party)];
      const entry = { type: m[2], values };
      if (m[1] === 'EQ_bizTransaction') f.bizTransactions.push(entry);
      else if (m[1] === 'EQ_source') f.sources.push(entry);
      else f.destinations.push(entry);
    }
    const order: ParsedQuery['order'] = { by: 'recordTime', desc: false };
    const by = one('orderBy');
    if (by !== undefined) {
      if (by !== 'eventTime' && by !== 'recordTime') errors.push({ field: 'orderBy', message: 'must be eventTime or recordTime' });
      else order.by = by;
    }
    const direction = one('orderDirection');
    if (direction !== undefined) {
      if (direction !== 'ASC' && direction !== 'DESC') errors.push({ field: 'orderDirection', message: 'must be ASC or DESC' });
      else order.desc = direction === 'DESC';
    }
    const parsed: ParsedQuery = { domain: q, order, countLimit: count('eventCountLimit'), maxCount: count('maxEventCount') };
    if (parsed.countLimit !== undefined && parsed.maxCount !== undefined) {
      errors.push({ field: 'maxEventCount', message: 'eventCountLimit and maxEventCount cannot be used together' });
    }
    const perPage = count('perPage', MAX_PER_PAGE);
    if (perPage !== undefined) q.limit = perPage;
    if (all.nextPageToken !== undefined) {
      const token = decodeToken(String(one('nextPageToken')));
      if (!token) errors.push({ field: 'nextPageToken', message: 'not a token this interface issued' });
      else if ('offset' in token) parsed.offset = token.offset;
      else {
        q.after = token.after;
        parsed.remaining = token.remaining;
      }
    }
    if (needsEventFilter(f)) parsed.filter = eventFilter(f);
    if (conditions.length || wd.bizLocation || wd.readPoint) {
      parsed.masterData = { conditions, wd: Object.fromEntries(Object.entries(wd).filter(([, v]) => v !== undefined)) };
    }
    // The REST binding's name for this refusal, beside the problem type every API answer uses.
    if (errors.length) throw new DomainError(400, 'epcis-query', 'The query parameters are not valid', { errors, epcisException: 'epcisException:QueryParameterException' });
    return parsed;
  }

  /**
   * Every visible event the stores' SQL filters let through, in (recordTime, key) order from `after`, each
   * once. Each store answers `batch` rows at a time; only events up to the earliest last row of a store
   * that answered a full batch are known complete, so reading goes on from there.
   */
  private async *stream(q: DomainQuery, principal: Principal, bearer: string | undefined, batch: number, acting = false): AsyncGenerator<QueriedEvent> {
    let after = q.after;
    const keys = new Set<string>();
    for (;;) {
      const ask = { ...q, after, limit: batch };
      const answers: QueriedEvent[][] = [];
      for (const domain of epcisDomains()) answers.push(await this.registry.epcis(domain, bearer, acting ? principal : undefined).query(ask, principal));
      answers.push(await this.unbound(ask, principal));
      let horizon: QueriedEvent | undefined;
      for (const a of answers) {
        const last = a[a.length - 1];
        if (a.length >= batch && last && (!horizon || before(last, horizon))) horizon = last;
      }
      const merged = answers.flat().sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      for (const e of merged) {
        if (horizon && before(horizon, e)) break;
        after = sortKey(e);
        if (keys.has(e.key)) continue;
        keys.add(e.key);
        yield e;
      }
      if (!horizon) return;
      after = { recordTime: horizon.recordTime, key: horizon.key };
    }
  }

  /**
   * The query as run now: master data read (HASATTR_, EQATTR_; WD_ with the descendants master data
   * declares, or a GLN's extensions) into the whole event test, and, for the fields the stores have
   * columns for (bizStep, disposition, bizLocation, readPoint), into the SQL filters too, so the stores
   * read only events naming an element the conditions accept instead of every event for the test to drop.
   */
  private async resolve(p: ParsedQuery, narrowSql = true): Promise<ParsedQuery> {
    const md = p.masterData;
    if (!md) return p;
    const fields = [...md.conditions.map((c) => c.field), ...Object.keys(md.wd)];
    const elements = await this.masterData.current(vocabulariesFor(fields));
    const tests: EventFilter[] = p.filter ? [p.filter] : [];
    if (md.conditions.length) tests.push(masterDataFilter(md.conditions, elements));
    for (const field of ['readPoint', 'bizLocation'] as const) {
      const roots = md.wd[field];
      if (!roots) continue;
      const within = locationWithDescendants(roots, descendantKeys(field, roots, elements));
      tests.push((e) => within(e[field]?.id));
    }
    const domain: DomainQuery = { ...p.domain };
    const filter: EventFilter = (e) => tests.every((t) => t(e));
    if (!narrowSql) return { ...p, filter };
    const narrow = (current: string[] | undefined, keys: Set<string>) => (current ? current.filter((v) => keys.has(v)) : [...keys]);
    for (const c of md.conditions) {
      const keys = masterDataKeys(c, elements);
      // Stored as the keys compare: CBV short names, canonical location keys.
      if (c.field === 'bizStep') domain.bizSteps = narrow(domain.bizSteps, keys);
      else if (c.field === 'disposition') domain.dispositions = narrow(domain.dispositions, keys);
      else if (c.field === 'bizLocation') domain.capturedBizLocations = narrow(domain.capturedBizLocations, keys);
      else if (c.field === 'readPoint') domain.capturedReadPoints = narrow(domain.capturedReadPoints, keys);
    }
    return { ...p, domain, filter };
  }

  async query(parsed: ParsedQuery, principal: Principal, bearer: string | undefined) {
    const p = await this.resolve(parsed);
    const q = p.domain;
    const filter = p.filter ?? (() => true);
    if (p.maxCount !== undefined) {
      let n = 0;
      for await (const e of this.stream({ ...q, after: undefined }, principal, bearer, Math.min(p.maxCount + 1, 2000))) {
        if (filter(e.event) && ++n > p.maxCount) {
          throw new DomainError(413, 'query-too-large', `More than maxEventCount (${p.maxCount}) events match the query`);
        }
      }
    }
    if (p.order.by !== 'recordTime' || p.order.desc) return this.sorted(p, principal, bearer);
    const budget = p.remaining ?? p.countLimit;
    const size = budget !== undefined ? Math.min(q.limit, budget) : q.limit;
    const page: QueriedEvent[] = [];
    let more = false;
    for await (const e of this.stream(q, principal, bearer, p.filter ? Math.max(q.limit + 1, 500) : q.limit + 1)) {
      if (!filter(e.event)) continue;
      if (page.length === size) {
        more = true;
        break;
      }
      page.push(e);
    }
    const left = budget !== undefined ? budget - page.length : undefined;
    const last = page[page.length - 1];
    const next = more && last && (left === undefined || left > 0);
    return {
      document: epcisQueryDocument(page),
      nextPageToken: next ? encodeToken({ after: { recordTime: last.recordTime, key: last.key }, remaining: left }) : undefined,
    };
  }

  /**
   * Stream subscriptions: the query's matching events recorded after `after` and before `before`, in
   * recordTime order, at most `max`; and the position the next look starts from (past the events read,
   * matching or not). Ordering and count limits of the definition do not apply to a stream.
   */
  async recordedSince(parsed: ParsedQuery, after: { recordTime: string; key: string }, before: string, max: number, principal: Principal) {
    // Not narrowed in SQL: the position a stream moves to is past every event read, matching or not, so an
    // event master data describes only later is not delivered late.
    const p = await this.resolve(parsed, false);
    const filter = p.filter ?? (() => true);
    const lt = p.domain.ltRecordTime && Date.parse(p.domain.ltRecordTime) < Date.parse(before) ? p.domain.ltRecordTime : before;
    const events: ContextualEvent[] = [];
    let last = after;
    // No bearer: a subscription is run by the service for the organisation that made it (embedded: the
    // in-process stores; distributed: a service credential acting for that organisation and role).
    for await (const e of this.stream({ ...p.domain, ltRecordTime: lt, after }, principal, undefined, max + 1, true)) {
      if (events.length === max) break;
      last = { recordTime: e.recordTime, key: e.key };
      if (filter(e.event)) events.push(e);
    }
    return { events, last };
  }

  /** orderBy eventTime, or DESC: the matching events sorted whole (at most MAX_SORTED), paged by offset. */
  private async sorted(p: ParsedQuery, principal: Principal, bearer: string | undefined) {
    const all: QueriedEvent[] = [];
    for await (const e of this.stream({ ...p.domain, after: undefined }, principal, bearer, 2000)) {
      if (p.filter && !p.filter(e.event)) continue;
      if (all.length === MAX_SORTED) {
        throw new DomainError(413, 'query-too-large', `More than ${MAX_SORTED} events match a query ordered by ${p.order.by} ${p.order.desc ? 'DESC' : 'ASC'}: narrow it`);
      }
      all.push(e);
    }
    const at = (e: QueriedEvent) => (p.order.by === 'eventTime' ? Date.parse(e.event.eventTime) : Date.parse(e.recordTime));
    all.sort((a, b) => (at(a) - at(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) * (p.order.desc ? -1 : 1));
    const total = p.countLimit !== undefined ? Math.min(all.length, p.countLimit) : all.length;
    const offset = p.offset ?? 0;
    const page = all.slice(offset, Math.min(offset + p.domain.limit, total));
    const end = offset + page.length;
    return { document: epcisQueryDocument(page), nextPageToken: end < total ? encodeToken({ offset: end }) : undefined };
  }

  /**
   * The values of a top-level resource (REST binding): the event types; for the others the values the
   * caller's visible events name (bizSteps and dispositions also the CBV's), sorted, paged by offset.
   */
  async values(resource: 'eventTypes' | 'epcs' | 'bizSteps' | 'bizLocations' | 'readPoints' | 'dispositions', params: Params, principal: Principal, bearer: string | undefined) {
    const errors: { field: string; message: string }[] = [];
    for (const k of Object.keys(params)) if (k !== 'perPage' && k !== 'nextPageToken') errors.push({ field: k, message: 'not a parameter of this resource' });
    const perPage = params.perPage === undefined ? DEFAULT_PER_PAGE : Number(params.perPage);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) errors.push({ field: 'perPage', message: `must be an integer from 1 to ${MAX_PER_PAGE}` });
    const token = params.nextPageToken === undefined ? undefined : decodeToken(String(params.nextPageToken));
    if (params.nextPageToken !== undefined && !(token && 'offset' in token)) errors.push({ field: 'nextPageToken', message: 'not a token this interface issued' });
    if (errors.length) throw badRequest('epcis-query', 'The query parameters are not valid', errors);
    const found = new Set<string>(resource === 'eventTypes' ? EVENT_TYPES : resource === 'bizSteps' ? CBV_BIZSTEPS : resource === 'dispositions' ? CBV_DISPOSITIONS : []);
    if (resource !== 'eventTypes') {
      for await (const { event: e } of this.stream({ limit: 2000 }, principal, bearer, 2000)) {
        if (resource === 'bizSteps' && e.bizStep) found.add(cbvName(e.bizStep, 'bizstep') as string);
        if (resource === 'dispositions' && e.disposition) found.add(cbvName(e.disposition, 'disp') as string);
        if (resource === 'bizLocations' && e.bizLocation) found.add(e.bizLocation.id);
        if (resource === 'readPoints' && e.readPoint) found.add(e.readPoint.id);
        if (resource === 'epcs') for (const k of eventKeys(e)) found.add(k);
      }
    }
    const all = [...found].sort();
    const offset = token && 'offset' in token ? token.offset : 0;
    const member = all.slice(offset, offset + perPage);
    return { member, nextPageToken: offset + member.length < all.length ? encodeToken({ offset: offset + member.length }) : undefined };
  }

  /** An event by its eventID or its event hash: the event and any error declaration of it. */
  async event(eventId: string, principal: Principal, bearer: string | undefined) {
    const found: QueriedEvent[] = [];
    for await (const e of this.stream({ eventIds: [eventId], limit: 100 }, principal, bearer, 100)) found.push(e);
    if (!found.length) throw notFound('epcis-event', `No event ${eventId}`);
    return epcisQueryDocument(found);
  }

  private async unbound(q: DomainQuery, principal: Principal): Promise<QueriedEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const key = `(epcis_hash || CASE WHEN epcis_error THEN '!' ELSE '' END) COLLATE "C"`;
    if (q.eventTypes) where.push(`event_type = ANY(${p(q.eventTypes)})`);
    if (q.geEventTime) where.push(`event_time >= ${p(q.geEventTime)}`);
    if (q.ltEventTime) where.push(`event_time < ${p(q.ltEventTime)}`);
    if (q.geRecordTime) where.push(`record_time >= ${p(q.geRecordTime)}`);
    if (q.ltRecordTime) where.push(`record_time < ${p(q.ltRecordTime)}`);
    if (q.bizSteps) where.push(`biz_step = ANY(${p(q.bizSteps)})`);
    if (q.dispositions) where.push(`disposition = ANY(${p(q.dispositions)})`);
    if (q.epcKeys) where.push(`epc_keys && ${p(q.epcKeys)}::text[]`);
    if (q.bizLocations) where.push(`biz_location = ANY(${p(q.bizLocations)})`);
    if (q.readPoints) where.push(`read_point = ANY(${p(q.readPoints)})`);
    if (q.capturedBizLocations) where.push(`biz_location = ANY(${p(q.capturedBizLocations)})`);
    if (q.capturedReadPoints) where.push(`read_point = ANY(${p(q.capturedReadPoints)})`);
    if (q.existsErrorDeclaration) where.push('epcis_error');
    if (q.eventIds) where.push(`(event->>'eventID' = ANY(${p(q.eventIds)}) OR epcis_hash = ANY(${p(q.eventIds)}))`);
    if (q.after) where.push(`(record_time, ${key}) > (${p(q.after.recordTime)}::timestamptz, ${p(q.after.key)})`);
    if (principal.role === 'operator') where.push(`org_id = ${p(principal.orgId)}`);
    const rows = (await this.ds.query(
      `SELECT event, epcis_context, ${key} AS sort_key, to_char(record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS record_time_us,
              to_char(record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS record_time_ms
         FROM unbound_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY record_time, sort_key LIMIT ${p(q.limit)}`,
      params,
    )) as { event: EpcisEvent; epcis_context: EventContext | null; sort_key: string; record_time_us: string; record_time_ms: string }[];
    return rows.map((r) => ({
      recordTime: r.record_time_us,
      key: r.sort_key,
      // Partner events stored before every capture got an eventID are named by their event hash.
      event: { ...r.event, ...(r.event.eventID ? {} : { eventID: r.sort_key.replace(/!$/, '') }), recordTime: r.record_time_ms },
      ...(r.epcis_context ? { context: r.epcis_context } : {}),
    }));
  }
}

type Token = { after: { recordTime: string; key: string }; remaining?: number } | { offset: number };

function encodeToken(t: Token): string {
  const v = 'offset' in t ? ['o', t.offset] : t.remaining !== undefined ? [t.after.recordTime, t.after.key, t.remaining] : [t.after.recordTime, t.after.key];
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function decodeToken(token: string): Token | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v[0] === 'o' && Number.isSafeInteger(v[1]) && v[1] >= 0) return { offset: v[1] as number };
    if (Array.isArray(v) && (v.length === 2 || v.length === 3) && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      if (v.length === 3 && !(Number.isSafeInteger(v[2]) && v[2] > 0)) return undefined;
      return { after: { recordTime: v[0], key: v[1] }, ...(v.length === 3 ? { remaining: v[2] as number } : {}) };
    }
  } catch {
    // not ours
  }
  return undefined;
}
