import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { cbvName, epcisQueryDocument, parseLocationId, parseObjectId, type EpcisEvent } from '@trace/epcis';
import { badRequest, type Principal } from '@trace/platform';
import { parseOffsetTime } from '@trace/trace-chain';
import { BatchRegistry, type DomainQuery, type QueriedEvent } from '@trace/trace-service';
import { epcisDomains } from './domains';

/** The SimpleEventQuery parameters this interface answers (EPCIS 2.0 §8.2.7.1, REST binding). */
export const QUERY_PARAMETERS = [
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'GE_recordTime',
  'LT_recordTime',
  'EQ_bizStep',
  'EQ_disposition',
  'MATCH_epc',
  'MATCH_anyEPC',
  'MATCH_epcClass',
  'MATCH_anyEPCClass',
  'EQ_bizLocation',
  'EQ_readPoint',
  'EXISTS_errorDeclaration',
  'perPage',
  'nextPageToken',
] as const;

const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransformationEvent', 'TransactionEvent', 'AssociationEvent'];
export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;

type Params = Record<string, string | string[] | undefined>;

/**
 * The EPCIS query interface over every trace chain: each domain answers for
 * its own chains (REST-recorded events mapped to EPCIS, captured events as
 * captured), this service for events that name no batch, and the answers are
 * merged in (recordTime, event key) order. The page token is that keyset
 * position, opaque to the client; an event stored on several chains (one
 * per batch it names) has one key and is returned once.
 */
@Injectable()
export class QueryService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
  ) {}

  parse(params: Params): DomainQuery {
    const errors: { field: string; message: string }[] = [];
    for (const k of Object.keys(params)) {
      if (!(QUERY_PARAMETERS as readonly string[]).includes(k)) errors.push({ field: k, message: 'not a query parameter this interface supports' });
    }
    const list = (k: string): string[] | undefined => {
      const v = params[k];
      if (v === undefined) return undefined;
      const values = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split('|')).map((s) => s.trim()).filter(Boolean);
      if (!values.length) errors.push({ field: k, message: 'needs a value' });
      return values;
    };
    const time = (k: string): string | undefined => {
      const v = params[k];
      if (v === undefined) return undefined;
      const s = Array.isArray(v) ? v[0] : v;
      const parsed = parseOffsetTime(s);
      if ('problem' in parsed) {
        errors.push({ field: k, message: `must be an RFC 3339 date-time with offset: ${parsed.problem}` });
        return undefined;
      }
      return parsed.instant.toISOString();
    };
    const q: DomainQuery = { limit: DEFAULT_PER_PAGE };
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
    const epcs = [...(list('MATCH_epc') ?? []), ...(list('MATCH_anyEPC') ?? []), ...(list('MATCH_epcClass') ?? []), ...(list('MATCH_anyEPCClass') ?? [])];
    if (epcs.length) {
      const refs = epcs.map(parseObjectId);
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
    if (params.EXISTS_errorDeclaration !== undefined) q.existsErrorDeclaration = true;
    if (params.perPage !== undefined) {
      const n = Number(params.perPage);
      if (!Number.isInteger(n) || n < 1 || n > MAX_PER_PAGE) errors.push({ field: 'perPage', message: `must be an integer from 1 to ${MAX_PER_PAGE}` });
      else q.limit = n;
    }
    if (params.nextPageToken !== undefined) {
      const after = decodeToken(String(params.nextPageToken));
      if (!after) errors.push({ field: 'nextPageToken', message: 'not a token this interface issued' });
      else q.after = after;
    }
    if (errors.length) throw badRequest('epcis-query', 'The query parameters are not valid', errors);
    return q;
  }

  async query(q: DomainQuery, principal: Principal, bearer: string | undefined) {
    const answers: QueriedEvent[][] = [];
    const one = { ...q, limit: q.limit + 1 };
    for (const domain of epcisDomains()) answers.push(await this.registry.epcis(domain, bearer).query(one, principal));
    answers.push(await this.unbound(one, principal));
    const merged = answers.flat().sort((a, b) => (a.recordTime < b.recordTime ? -1 : a.recordTime > b.recordTime ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const page: QueriedEvent[] = [];
    const keys = new Set<string>();
    let more = false;
    for (const e of merged) {
      if (keys.has(e.key)) continue;
      if (page.length === q.limit) {
        more = true;
        break;
      }
      keys.add(e.key);
      page.push(e);
    }
    const last = page[page.length - 1];
    return {
      document: epcisQueryDocument(page.map((e) => e.event)),
      nextPageToken: more && last ? encodeToken({ recordTime: last.recordTime, key: last.key }) : undefined,
    };
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
    if (q.existsErrorDeclaration) where.push('epcis_error');
    if (q.after) where.push(`(record_time, ${key}) > (${p(q.after.recordTime)}::timestamptz, ${p(q.after.key)})`);
    if (principal.role === 'operator') where.push(`org_id = ${p(principal.orgId)}`);
    const rows = (await this.ds.query(
      `SELECT event, ${key} AS sort_key, to_char(record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS record_time_us,
              to_char(record_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS record_time_ms
         FROM unbound_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY record_time, sort_key LIMIT ${p(q.limit)}`,
      params,
    )) as { event: EpcisEvent; sort_key: string; record_time_us: string; record_time_ms: string }[];
    return rows.map((r) => ({ recordTime: r.record_time_us, key: r.sort_key, event: { ...r.event, recordTime: r.record_time_ms } }));
  }
}

function encodeToken(after: { recordTime: string; key: string }): string {
  return Buffer.from(JSON.stringify([after.recordTime, after.key])).toString('base64url');
}

function decodeToken(token: string): { recordTime: string; key: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { recordTime: v[0], key: v[1] };
    }
  } catch {
    // not ours
  }
  return undefined;
}
