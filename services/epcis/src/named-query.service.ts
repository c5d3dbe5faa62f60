import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, notFound, type Principal } from '@trace/platform';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE, QueryService, type ParsedQuery } from './query.service';

type Params = Record<string, string | string[] | undefined>;
type Problem = { field: string; message: string };

/** A query name is one path segment of /queries/{queryName}. */
const NAME = /^[A-Za-z0-9._~-]{1,100}$/;
/** Paging belongs to the request that runs a query, not to its definition. */
const PAGING = ['perPage', 'nextPageToken'];

export interface NamedQuery {
  name: string;
  query: Record<string, unknown>;
}

const invalid = (errors: Problem[]) =>
  new DomainError(400, 'epcis-query', 'The named query is not valid', { errors, epcisException: 'epcisException:QueryValidationException' });

/**
 * Named queries of the EPCIS REST binding (`/queries`): a SimpleEventQuery kept under a name, per
 * organisation (the name is the organisation's own; another organisation neither sees nor runs it), run
 * by `GET /queries/{name}/events` exactly as the same parameters on `GET /events` would be. A definition
 * is checked by the query parser when it is created, so a stored query always runs.
 */
@Injectable()
export class NamedQueryService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(QueryService) private readonly queries: QueryService,
  ) {}

  async create(body: unknown, principal: Principal): Promise<NamedQuery> {
    const errors: Problem[] = [];
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) errors.push({ field: '/', message: 'must be an object { name, query }' });
    for (const k of Object.keys(b)) if (k !== 'name' && k !== 'query' && k !== '@context') errors.push({ field: `/${k}`, message: 'not a member of a query definition' });
    if (typeof b.name !== 'string' || !NAME.test(b.name)) errors.push({ field: '/name', message: 'must be 1-100 letters, digits, ".", "_", "~" or "-"' });
    const query = b.query;
    if (typeof query !== 'object' || query === null || Array.isArray(query)) errors.push({ field: '/query', message: 'must be an object of SimpleEventQuery parameters' });
    else {
      const params = toParams(query as Record<string, unknown>, errors);
      for (const k of PAGING) if (k in (query as object)) errors.push({ field: `/query/${k}`, message: 'is given when the query is run, not in its definition' });
      if (!errors.length) {
        try {
          this.queries.parse(params);
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          const found = (e.extensions.errors as Problem[] | undefined) ?? [{ field: '', message: e.message }];
          errors.push(...found.map((p) => ({ field: `/query/${p.field}`, message: p.message })));
        }
      }
    }
    if (errors.length) throw invalid(errors);
    const name = b.name as string;
    const inserted = (await this.ds.query(
      `INSERT INTO named_queries (org_id, name, query, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING name`,
      [principal.orgId, name, JSON.stringify(query), principal.clientId],
    )) as unknown[];
    if (!inserted.length) throw new DomainError(409, 'epcis-query-exists', `A query named ${name} exists already`, { epcisException: 'epcisException:ResourceAlreadyExistsException' });
    return { name, query: query as Record<string, unknown> };
  }

  async list(params: Params, principal: Principal): Promise<{ member: NamedQuery[]; nextPageToken?: string }> {
    const errors: Problem[] = [];
    for (const k of Object.keys(params)) if (!PAGING.includes(k)) errors.push({ field: k, message: 'not a parameter of this resource' });
    const perPage = params.perPage === undefined ? DEFAULT_PER_PAGE : Number(params.perPage);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) errors.push({ field: 'perPage', message: `must be an integer from 1 to ${MAX_PER_PAGE}` });
    let after = '';
    if (params.nextPageToken !== undefined) {
      const decoded = Buffer.from(String(params.nextPageToken), 'base64url').toString('utf8');
      if (!decoded.startsWith('q:') || !NAME.test(decoded.slice(2))) errors.push({ field: 'nextPageToken', message: 'not a token this interface issued' });
      else after = decoded.slice(2);
    }
    if (errors.length) throw new DomainError(400, 'epcis-query', 'The query parameters are not valid', { errors, epcisException: 'epcisException:QueryParameterException' });
    const rows = (await this.ds.query(`SELECT name, query FROM named_queries WHERE org_id = $1 AND name > $2 ORDER BY name LIMIT $3`, [
      principal.orgId,
      after,
      perPage + 1,
    ])) as NamedQuery[];
    const member = rows.slice(0, perPage);
    return { member, nextPageToken: rows.length > perPage ? Buffer.from(`q:${member[member.length - 1].name}`).toString('base64url') : undefined };
  }

  async get(name: string, principal: Principal): Promise<NamedQuery> {
    const [row] = (await this.ds.query(`SELECT name, query FROM named_queries WHERE org_id = $1 AND name = $2`, [principal.orgId, name])) as NamedQuery[];
    if (!row) throw notFound('epcis-query-name', `No query named ${name}`);
    return row;
  }

  async remove(name: string, principal: Principal): Promise<void> {
    // TypeORM answers a DELETE … RETURNING with [rows, affected count].
    const [rows] = (await this.ds.query(`DELETE FROM named_queries WHERE org_id = $1 AND name = $2 RETURNING name`, [principal.orgId, name])) as [unknown[], number];
    if (!rows.length) throw notFound('epcis-query-name', `No query named ${name}`);
  }

  /** The query's events, a page at a time: only perPage and nextPageToken may be given with it. */
  async events(name: string, params: Params, principal: Principal, bearer: string | undefined) {
    const { query } = await this.get(name, principal);
    const errors: Problem[] = [];
    for (const k of Object.keys(params)) if (!PAGING.includes(k)) errors.push({ field: k, message: 'a named query is run as defined: only perPage and nextPageToken are given' });
    if (errors.length) throw new DomainError(400, 'epcis-query', 'The query parameters are not valid', { errors, epcisException: 'epcisException:QueryParameterException' });
    const parsed = this.queries.parse(params, toParams(query, []));
    return this.queries.query(parsed, principal, bearer);
  }

  /** An organisation's stored query, parsed to run (stream subscriptions); undefined when there is none. */
  async parsed(orgId: string, name: string): Promise<ParsedQuery | undefined> {
    const [row] = (await this.ds.query(`SELECT query FROM named_queries WHERE org_id = $1 AND name = $2`, [orgId, name])) as NamedQuery[];
    return row ? this.queries.parse({}, toParams(row.query, [])) : undefined;
  }
}

/** The JSON query definition (arrays, strings, numbers, booleans, null for EXISTS_) as request parameters. */
function toParams(query: Record<string, unknown>, errors: Problem[]): Params {
  const out: Params = {};
  const scalar = (v: unknown) => (v === null ? '' : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  for (const [k, v] of Object.entries(query)) {
    if (k === '@context') continue;
    const values = Array.isArray(v) ? v.map(scalar) : [scalar(v)];
    if (values.some((x) => x === undefined) || (Array.isArray(v) && v.length === 0)) {
      errors.push({ field: `/query/${k}`, message: 'must be a string, number, boolean, null or a non-empty array of them' });
      continue;
    }
    out[k] = Array.isArray(v) ? (values as string[]) : (values[0] as string);
  }
  return out;
}
