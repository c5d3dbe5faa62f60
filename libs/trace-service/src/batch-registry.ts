import { Global, Inject, Injectable, Module, Optional } from '@nestjs/common';
import { domainServiceUrl, DomainError, PLATFORM_CONFIG, RequestContext, SERVICE_CREDENTIALS, type PlatformConfig, type Principal, type ServiceCredentials } from '@trace/platform';
import type { ConsumeRequest, ConsumeResult, InputLedger, ItemKind, PublicBatchView } from '@trace/contracts';
import type { ApplyRequest, ApplyResult, DomainQuery, EpcisLedger, QueriedEvent, ResolveResult } from './epcis-ledger';

// The contract between domains lives in libs/contracts (input-ledger.ts); re-exported for the callers that import it from here.
export type { ConsumeRequest, ConsumeResult, InputLedger, PublicBatchView } from '@trace/contracts';

/**
 * Finds the ledger of a batch's domain: in-process when that domain's module
 * is in this process (embedded mode), else over HTTP to the owning service
 * (`<DOMAIN>_URL`), acting with the caller's own token so the owner applies
 * the same custody rules as for any other request.
 */
@Injectable()
export class BatchRegistry {
  private readonly local = new Map<string, InputLedger>();
  private readonly localEpcis = new Map<string, EpcisLedger>();

  constructor(
    @Optional() @Inject(SERVICE_CREDENTIALS) private readonly credentials?: ServiceCredentials,
    @Optional() @Inject(PLATFORM_CONFIG) private readonly config?: PlatformConfig,
  ) {}

  register(domain: string, ledger: InputLedger): void {
    this.local.set(domain, ledger);
  }

  registerEpcis(domain: string, ledger: EpcisLedger): void {
    this.localEpcis.set(domain, ledger);
  }

  /**
   * A domain's EPCIS side: in-process when embedded, else over HTTP with the caller's token (as `ledger`), or,
   * with no token (a subscription the epcis service runs), a service credential acting for `actingFor`: only
   * the query route takes that.
   */
  epcis(domain: string, bearer: string | undefined, actingFor?: Principal): EpcisLedger {
    const local = this.localEpcis.get(domain);
    if (local) return local;
    const base = domainServiceUrl(this.config, domain);
    if (!base || (bearer === undefined && !(actingFor && this.credentials))) {
      throw new DomainError(503, 'domain-unavailable', `The ${domain} service is not reachable from here (set ${domain.toUpperCase()}_URL)`);
    }
    const http = new HttpInputLedger(domain, base, bearer ?? '', this.credentials, bearer === undefined ? actingFor : undefined);
    return {
      resolve: (req) => http.post(`/internal/v1/${domain}/epcis/resolve`, req) as Promise<ResolveResult>,
      apply: async (req: ApplyRequest, _principal, onProgress) => {
        const r = (await http.post(`/internal/v1/${domain}/epcis/apply`, req, 600_000)) as ApplyResult;
        onProgress?.(r.results.length);
        return r;
      },
      query: (q: DomainQuery) => http.post(`/internal/v1/${domain}/epcis/query`, q) as Promise<QueriedEvent[]>,
    };
  }

  /** Finds a batch by GTIN and lot (or a serialised item by its serial) in the given domain, locally or over HTTP; undefined when unknown. */
  async publicView(domain: string, gtin: string, lot: string, kind: ItemKind = 'lot'): Promise<PublicBatchView | undefined> {
    try {
      return await this.ledger(domain, '').publicView(gtin, lot, kind);
    } catch (err) {
      if (err instanceof DomainError && err.status === 404) return undefined;
      throw err;
    }
  }

  ledger(domain: string, bearer: string | undefined): InputLedger {
    const local = this.local.get(domain);
    if (local) return local;
    const base = domainServiceUrl(this.config, domain);
    if (!base || bearer === undefined) {
      throw new DomainError(503, 'domain-unavailable', `The ${domain} service is not reachable from here (set ${domain.toUpperCase()}_URL)`);
    }
    return new HttpInputLedger(domain, base, bearer, this.credentials);
  }
}

class HttpInputLedger implements InputLedger {
  constructor(
    private readonly domain: string,
    private readonly base: string,
    private readonly bearer: string,
    private readonly credentials?: ServiceCredentials,
    private readonly actingFor?: Principal,
  ) {}

  async consume(req: ConsumeRequest): Promise<ConsumeResult> {
    return this.call('consume', req) as Promise<ConsumeResult>;
  }

  async publicView(gtin: string, lot: string, kind: ItemKind = 'lot'): Promise<PublicBatchView> {
    const path = `/internal/v1/${this.domain}/public/${encodeURIComponent(gtin)}/${encodeURIComponent(lot)}${kind === 'serial' ? '?kind=serial' : ''}`;
    return this.request('GET', path) as Promise<PublicBatchView>;
  }

  async restore(req: ConsumeRequest & { correctionOf: string; reason: string }): Promise<void> {
    await this.call('restore', req);
  }

  post(path: string, body: unknown, timeoutMs?: number): Promise<unknown> {
    return this.request('POST', path, body, timeoutMs);
  }

  private call(action: string, body: unknown): Promise<unknown> {
    const { batchId } = body as { batchId: string };
    return this.request('POST', `/internal/v1/${this.domain}/batches/${batchId}/${action}`, body);
  }

  private async request(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<unknown> {
    const r = await fetch(new URL(path, this.base), {
      method,
      headers: {
        // The service credential opens the internal route; the user's token says for whom it acts.
        ...(await this.credentials?.header('trace-service', this.actingFor)),
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        'x-correlation-id': RequestContext.correlationId(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => undefined);
    if (!r) throw new DomainError(503, 'domain-unavailable', `The ${this.domain} service does not answer`);
    const answer = (await r.json().catch(() => ({}))) as { type?: string; detail?: string };
    if (r.ok) return answer;
    // Pass the owner's refusal on as it was (same status, same rule).
    const rule = answer.type?.split('/').pop() ?? 'input';
    throw new DomainError(r.status, rule, answer.detail ?? `The ${this.domain} service refused the input`);
  }
}

@Global()
@Module({ providers: [BatchRegistry], exports: [BatchRegistry] })
export class BatchRegistryModule {}
