import { DynamicModule, Global, Module } from '@nestjs/common';
import { SERVICE_CREDENTIALS, ServiceCredentials } from './auth';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { RequestContext } from './context';
import { DomainError } from './problem';
import {
  isScopeColumns,
  LINEAGE_SCOPE,
  type LineageHolding,
  type LineageScope,
  type LineageScopeAnswer,
  type LineageScopeRoot,
} from '@trace/contracts';

// The contract itself lives in libs/contracts (lineage-scope.ts); re-exported for the callers that still import it from here.
export {
  isScopeColumns,
  LINEAGE_SCOPE,
  scopeBatch,
  scopeBatches,
  type LineageHolding,
  type LineageScope,
  type LineageScopeAnswer,
  type LineageScopeBatch,
  type LineageScopeColumns,
  type LineageScopeRoot,
} from '@trace/contracts';


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

  async holdings(batchIds: string[]): Promise<LineageHolding[]> {
    if (batchIds.length === 0) return [];
    // The ids in the body: a recall asks for its whole scope, tens of thousands of batches, in one request.
    const answer = (await this.post('/internal/v1/lineage/holdings', { batchIds })) as { holdings?: unknown };
    if (!Array.isArray(answer.holdings)) throw lineageUnavailable('the lineage service answered malformed holdings');
    return answer.holdings as LineageHolding[];
  }

  private async post(path: string, body: LineageScopeRoot[] | { batchIds: string[] }): Promise<unknown> {
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
        body: JSON.stringify(Array.isArray(body) ? { roots: body.map((r) => ({ domain: r.domain, batchId: r.batchId })) } : body),
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
 * mode). Needs LINEAGE_URL (validated configuration) and JWT_SECRET; a service
 * that names LINEAGE_URL in runService's `require` does not start without it,
 * any other answers a scope request with 503. In embedded mode do not
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
          inject: [SERVICE_CREDENTIALS, PLATFORM_CONFIG],
          useFactory: (credentials: ServiceCredentials, config: PlatformConfig): LineageScope => {
            // Validated at start (config.ts); the recall service requires it (services/recall/src/main.ts).
            const baseUrl = config.LINEAGE_URL;
            if (baseUrl) return new HttpLineageScope({ baseUrl, credentials, service });
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
