import { DynamicModule, Global, Module } from '@nestjs/common';
import { SERVICE_CREDENTIALS, ServiceCredentials } from './auth';
import { RequestContext } from './context';
import { DomainError } from './problem';

/**
 * What a recall asks the lineage service: the batches named plus every batch
 * downstream of them (what was made from them, at any depth, across domains),
 * each with who holds it now. In embedded mode the lineage module provides it
 * in-process (from its in-memory graph); in distributed mode an HTTP client of
 * lineage's internal endpoint `POST /internal/v1/lineage/scope` (LINEAGE_URL)
 * does. The graph follows the event backbone, so the answer is eventually
 * consistent: a batch made a moment ago may be missing for a second.
 */
export interface LineageScopeRoot {
  domain: string;
  batchId: string;
}

export interface LineageScopeBatch {
  domain: string;
  batchId: string;
  gtin: string | null;
  lot: string | null;
  holderOrgId: string | null;
  status: string;
  /** True for the batches the caller named. */
  root: boolean;
  /** What the batch holds now (after what transformations consumed from it); null when lineage has not seen it. */
  quantity: { value: number; unit: string } | null;
  /** Where it is: where it was made, or last received. */
  locationId: string | null;
}

/**
 * The scope column by column: entry i of every array is batch i; the first
 * `roots` batches are the named ones, in the order named. Columns, not one
 * object per batch, because a scope runs to tens of thousands of batches and
 * the recall writes it with set-based statements (one array per column)
 * anyway: lineage allocates a handful of arrays instead of an object graph
 * per batch, which is what keeps the answer within milliseconds
 * (scripts/bench/recall-scope.ts).
 */
export interface LineageScopeColumns {
  roots: number;
  batchId: string[];
  domain: string[];
  gtin: (string | null)[];
  lot: (string | null)[];
  status: string[];
  holderOrgId: (string | null)[];
  quantityValue: (number | null)[];
  quantityUnit: (string | null)[];
  locationId: (string | null)[];
}

export interface LineageScopeAnswer {
  batches: LineageScopeColumns;
}

/** Batch i of a scope as one object (for the few places that want rows). */
export function scopeBatch(c: LineageScopeColumns, i: number): LineageScopeBatch {
  const value = c.quantityValue[i];
  return {
    domain: c.domain[i],
    batchId: c.batchId[i],
    gtin: c.gtin[i],
    lot: c.lot[i],
    holderOrgId: c.holderOrgId[i],
    status: c.status[i],
    root: i < c.roots,
    quantity: value === null || value === undefined ? null : { value, unit: c.quantityUnit[i] ?? '' },
    locationId: c.locationId[i],
  };
}

/** Every batch of a scope as objects, in scope order. */
export const scopeBatches = (c: LineageScopeColumns): LineageScopeBatch[] => c.batchId.map((_, i) => scopeBatch(c, i));

const SCOPE_COLUMNS = ['batchId', 'domain', 'gtin', 'lot', 'status', 'holderOrgId', 'quantityValue', 'quantityUnit', 'locationId'] as const;

/** True when `c` is a well-formed scope: every column an array of the same length. */
export function isScopeColumns(c: unknown): c is LineageScopeColumns {
  if (!c || typeof c !== 'object') return false;
  const o = c as Record<string, unknown>;
  const n = Array.isArray(o.batchId) ? o.batchId.length : -1;
  return Number.isInteger(o.roots) && (o.roots as number) <= n && SCOPE_COLUMNS.every((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length === n);
}

export interface LineageScope {
  /**
   * The roots and everything downstream, each batch once, roots first. A root
   * lineage does not know (or knows in another domain) is a 422 DomainError
   * `unknown-batch` naming it.
   */
  scope(roots: LineageScopeRoot[]): Promise<LineageScopeAnswer>;
  /**
   * How many batches of known domains that scope holds now (what a recall's
   * scope would store), without the scope itself: cheap enough to ask for
   * every active recall every few seconds. Same 422 as `scope`.
   */
  size(roots: LineageScopeRoot[]): Promise<number>;
  /**
   * Who holds how much of each batch (API.md "Quantities and custody"): of
   * every batch in the roots' scope when `downstream`, else of the named
   * batches only; one row per batch and organisation, nothing-held rows
   * included (they carry what the organisation was given so far).
   */
  holdings(roots: LineageScopeRoot[], downstream: boolean): Promise<LineageHolding[]>;
}

/** One organisation's part of one batch, as lineage last heard of it. */
export interface LineageHolding {
  batchId: string;
  orgId: string;
  /** Received and still held. */
  quantity: number;
  /** Shipped to it, not received yet. */
  inTransit: number;
  /** Everything it was ever given (produced for it, shipped to it). */
  received: number;
  unit: string | null;
}

export const LINEAGE_SCOPE = Symbol('LINEAGE_SCOPE');

export interface HttpLineageScopeOptions {
  /** The lineage service's base URL (LINEAGE_URL). */
  baseUrl: string;
  /** The service credential lineage's internal endpoints ask for. */
  credentials: ServiceCredentials;
  /** Name of the calling service: the credential's subject is `service:<name>`. */
  service: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** LINEAGE_SCOPE over HTTP, for a service running without the lineage module (distributed mode). */
export class HttpLineageScope implements LineageScope {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: HttpLineageScopeOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
  }

  async scope(roots: LineageScopeRoot[]): Promise<LineageScopeAnswer> {
    const answer = (await this.post('/internal/v1/lineage/scope', roots)) as Partial<LineageScopeAnswer>;
    if (!isScopeColumns(answer.batches)) throw lineageUnavailable('the lineage service answered a malformed scope');
    return { batches: answer.batches };
  }

  async size(roots: LineageScopeRoot[]): Promise<number> {
    const answer = (await this.post('/internal/v1/lineage/scope/size', roots)) as { size?: unknown };
    if (typeof answer.size !== 'number' || !Number.isInteger(answer.size)) throw lineageUnavailable('the lineage service answered a malformed size');
    return answer.size;
  }

  async holdings(roots: LineageScopeRoot[], downstream: boolean): Promise<LineageHolding[]> {
    const answer = (await this.post(downstream ? '/internal/v1/lineage/holdings' : '/internal/v1/lineage/holdings/of', roots)) as { holdings?: unknown };
    if (!Array.isArray(answer.holdings)) throw lineageUnavailable('the lineage service answered malformed holdings');
    return answer.holdings as LineageHolding[];
  }

  private async post(path: string, roots: LineageScopeRoot[]): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method: 'POST',
        headers: {
          ...(await this.opts.credentials.header(this.opts.service)),
          accept: 'application/json',
          'content-type': 'application/json',
          'x-correlation-id': RequestContext.correlationId(),
        },
        body: JSON.stringify({ roots: roots.map((r) => ({ domain: r.domain, batchId: r.batchId })) }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw lineageUnavailable(`the lineage service at ${this.base} does not answer (${(err as Error).message})`);
    }
    const answer = (await res.json().catch(() => undefined)) as { type?: string; detail?: string } | undefined;
    if (res.status === 422) {
      // The caller's mistake (an unknown root): passed on as it was.
      throw new DomainError(422, answer?.type?.split('/').pop() ?? 'unknown-batch', answer?.detail ?? 'A named batch is unknown to lineage');
    }
    if (!res.ok || !answer) throw lineageUnavailable(`the lineage service answered ${res.status}`);
    return answer;
  }
}

const lineageUnavailable = (detail: string) =>
  new DomainError(503, 'lineage-unavailable', `The recall scope cannot be computed right now: ${detail}`);

/**
 * Provides LINEAGE_SCOPE process-wide from the lineage service's internal
 * endpoint, for a service running without the lineage module (distributed
 * mode). Needs LINEAGE_URL (environment) and JWT_SECRET; without LINEAGE_URL
 * the service starts and a scope request answers 503. In embedded mode do not
 * import it: the lineage module provides LINEAGE_SCOPE from its graph.
 */
@Global()
@Module({})
export class LineageScopeClientModule {
  static forService(service: string): DynamicModule {
    return {
      module: LineageScopeClientModule,
      global: true,
      providers: [
        {
          provide: LINEAGE_SCOPE,
          inject: [SERVICE_CREDENTIALS],
          useFactory: (credentials: ServiceCredentials): LineageScope => {
            const baseUrl = process.env.LINEAGE_URL;
            if (baseUrl && /^https?:\/\/\S+$/.test(baseUrl)) return new HttpLineageScope({ baseUrl, credentials, service });
            // The service still starts (cases, incidents work without lineage); starting a recall answers 503.
            const unset = () => Promise.reject(lineageUnavailable(`LINEAGE_URL (an http(s):// URL) is not set for ${service}`));
            return { scope: unset, size: unset, holdings: unset };
          },
        },
      ],
      exports: [LINEAGE_SCOPE],
    };
  }
}
