import { DynamicModule, Global, Module } from '@nestjs/common';
import {
  IDENTITY_CLAIM_PATHS,
  IDENTITY_CLAIMS,
  type ClaimAnswer,
  type GtinClaim,
  type IdentityClaims,
  type ItemClaim,
  type ItemKind,
  type ItemLocation,
  type ItemRef,
} from '@trace/contracts';
import { conflict, DomainError, PLATFORM_CONFIG, RequestContext, SERVICE_CREDENTIALS, type PlatformConfig, type ServiceCredentials } from '@trace/platform';

/**
 * One identity across all domains (API.md "Identity"): before a domain writes
 * a product or creates a batch it claims the GTIN, or the lot/serial, at the
 * identity service (see libs/contracts/src/identity-claims.ts). The claim is
 * made before the domain's own transaction: a claim whose write then fails
 * stays with the same organisation (GTIN) or domain (item), which a retry is
 * granted again, and which no one else could have had anyway.
 *
 * `claims` is absent only where no identity service is wired (a domain module
 * hosted alone in a test); every deployed process has it.
 */

/** 409 `gtin-taken` when another organisation registered this GTIN, in any domain. */
export async function claimGtin(claims: IdentityClaims | undefined, domain: string, gtin: string, orgId: string): Promise<void> {
  if (!claims) return;
  const answer = await claims.claimGtin({ gtin, orgId, domain });
  if (!answer.granted) {
    throw conflict('gtin-taken', `GTIN ${gtin} belongs to another organisation (registered in ${answer.domain}); a GTIN has one owner in every domain`);
  }
}

/** 409 `duplicate-lot` when the lot (or serial) of this GTIN lives in another domain. */
export async function claimItem(
  claims: IdentityClaims | undefined,
  domain: string,
  item: { gtin: string; kind: ItemKind; value: string },
  orgId: string,
): Promise<void> {
  if (!claims) return;
  const [answer] = await claims.claimItems([{ ...item, domain, orgId }]);
  if (!answer.granted) {
    throw conflict(
      'duplicate-lot',
      `${item.kind === 'lot' ? 'Lot' : 'Serial'} ${item.value} of GTIN ${item.gtin} is already registered in ${answer.domain}; a ${item.kind} is one batch across all domains`,
    );
  }
}

/**
 * IdentityClaims of a domain service running without the gateway module
 * (distributed mode): the gateway's internal endpoints at IDENTITY_URL, with
 * the service credential. Nothing is cached: a claim must be answered by the
 * table, and a gateway that does not answer is a 503 for the caller (the
 * registration is refused, never let through unclaimed).
 */
export class HttpIdentityClaims implements IdentityClaims {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly credentials: ServiceCredentials,
    private readonly service: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  claimGtin(claim: GtinClaim): Promise<ClaimAnswer> {
    return this.call('POST', IDENTITY_CLAIM_PATHS.gtin, claim) as Promise<ClaimAnswer>;
  }

  async claimItems(claims: readonly ItemClaim[]): Promise<ClaimAnswer[]> {
    if (claims.length === 0) return [];
    return ((await this.call('POST', IDENTITY_CLAIM_PATHS.items, { claims })) as { answers: ClaimAnswer[] }).answers;
  }

  async locate(gtin: string, kind: ItemKind, value: string): Promise<ItemLocation | undefined> {
    const path = `${IDENTITY_CLAIM_PATHS.locate}/${encodeURIComponent(gtin)}/${kind}/${encodeURIComponent(value)}`;
    return (await this.call('GET', path, undefined, true)) as ItemLocation | undefined;
  }

  async locateMany(items: readonly ItemRef[]): Promise<(ItemLocation | undefined)[]> {
    if (items.length === 0) return [];
    const { locations } = (await this.call('POST', IDENTITY_CLAIM_PATHS.locateMany, { items })) as { locations: (ItemLocation | null)[] };
    return locations.map((l) => l ?? undefined);
  }

  private async call(method: string, path: string, body?: unknown, notFoundIsUndefined = false): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(await this.credentials.header(this.service)),
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        'x-correlation-id': RequestContext.correlationId(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: Error) => {
      throw unavailable(`the identity service at ${this.base} does not answer (${err.message})`);
    });
    if (notFoundIsUndefined && res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw unavailable(`the identity service answered ${res.status} for ${path}`);
    }
    return res.json().catch((err: Error) => {
      throw unavailable(`the identity service sent an unreadable answer (${err.message})`);
    });
  }
}

const unavailable = (detail: string) => new DomainError(503, 'identity-unavailable', `GTINs, lots and serials cannot be claimed right now: ${detail}`);

/**
 * Provides IDENTITY_CLAIMS process-wide from the gateway (IDENTITY_URL), for a
 * domain service running without the gateway module. Embedded, do not import
 * it: the gateway module provides IDENTITY_CLAIMS from its own table.
 */
@Global()
@Module({})
export class IdentityClaimsClientModule {
  static forService(service: string): DynamicModule {
    return {
      module: IdentityClaimsClientModule,
      global: true,
      providers: [
        {
          provide: IDENTITY_CLAIMS,
          inject: [PLATFORM_CONFIG, SERVICE_CREDENTIALS],
          useFactory: (config: PlatformConfig, credentials: ServiceCredentials): IdentityClaims => {
            if (!config.IDENTITY_URL) throw new Error(`IDENTITY_URL is required: ${service} claims GTINs, lots and serials at the gateway`);
            return new HttpIdentityClaims(config.IDENTITY_URL, credentials, service);
          },
        },
      ],
      exports: [IDENTITY_CLAIMS],
    };
  }
}
