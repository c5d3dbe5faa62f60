import { Global, Inject, Injectable, Module, Optional } from '@nestjs/common';
import { DomainError, PLATFORM_CONFIG, RequestContext, type PlatformConfig, type Principal } from '@trace/platform';

/** One input taken by a transformation. */
export interface ConsumeRequest {
  batchId: string;
  quantity: number;
  unit: string;
  /** The output batch being made: recorded on the input's chain. */
  outputRef: { domain: string; batchId: string };
}

export interface ConsumeResult {
  eventId: string;
  gtin: string;
  lot: string;
}

/** What a domain offers other domains: taking input quantity for a transformation, and undoing it. */
export interface InputLedger {
  consume(req: ConsumeRequest, principal: Principal): Promise<ConsumeResult>;
  /** Compensation: a new chain event that gives the quantity back (history is never rewritten). */
  restore(req: ConsumeRequest & { correctionOf: string; reason: string }, principal: Principal): Promise<void>;
}

/**
 * Finds the ledger of a batch's domain: in-process when that domain's module
 * is in this process (embedded mode), else over HTTP to the owning service
 * (`<DOMAIN>_URL`), acting with the caller's own token so the owner applies
 * the same custody rules as for any other request.
 */
@Injectable()
export class BatchRegistry {
  private readonly local = new Map<string, InputLedger>();

  constructor(@Optional() @Inject(PLATFORM_CONFIG) private readonly config?: PlatformConfig) {}

  register(domain: string, ledger: InputLedger): void {
    this.local.set(domain, ledger);
  }

  ledger(domain: string, bearer: string | undefined): InputLedger {
    const local = this.local.get(domain);
    if (local) return local;
    const base = process.env[`${domain.toUpperCase()}_URL`];
    if (!base || !bearer) {
      throw new DomainError(503, 'domain-unavailable', `The ${domain} service is not reachable from here (set ${domain.toUpperCase()}_URL)`);
    }
    return new HttpInputLedger(domain, base, bearer);
  }

  get mode() {
    return this.config?.RUN_MODE;
  }
}

class HttpInputLedger implements InputLedger {
  constructor(
    private readonly domain: string,
    private readonly base: string,
    private readonly bearer: string,
  ) {}

  async consume(req: ConsumeRequest): Promise<ConsumeResult> {
    return this.call('consume', req) as Promise<ConsumeResult>;
  }

  async restore(req: ConsumeRequest & { correctionOf: string; reason: string }): Promise<void> {
    await this.call('restore', req);
  }

  private async call(action: string, body: unknown): Promise<unknown> {
    const { batchId } = body as { batchId: string };
    const r = await fetch(new URL(`/internal/v1/${this.domain}/batches/${batchId}/${action}`, this.base), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.bearer}`,
        'content-type': 'application/json',
        'x-correlation-id': RequestContext.correlationId(),
      },
      body: JSON.stringify(body),
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
