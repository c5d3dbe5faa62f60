import { DynamicModule, Global, Module } from '@nestjs/common';
import { SERVICE_CREDENTIALS, ServiceCredentials } from './auth';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { RequestContext } from './context';
import { DIRECTORY, type Directory, type LocationInfo, type OrganisationInfo } from './directory';
import { DomainError } from './problem';

export interface HttpDirectoryOptions {
  /** The gateway's base URL (IDENTITY_URL). */
  baseUrl: string;
  /** The service credential (not a client token) the gateway's internal endpoints ask for. */
  credentials: ServiceCredentials;
  /** Name of the calling service: the credential's subject is `service:<name>`. */
  service: string;
  ttlMs?: number;
  timeoutMs?: number;
  maxEntries?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * The Directory of a service that does not host the gateway module
 * (distributed mode): asks the gateway's internal endpoints
 * `GET /internal/v1/organisations/:id`, `GET /internal/v1/locations/:id` and
 * `GET /internal/v1/organisations/by-gln/:gln`.
 *
 * Found answers are cached for 60 s (organisations and locations do not change
 * once created); "not found" is not cached, so a location created a moment ago
 * is usable at once. Concurrent look-ups of one id share one request. A
 * gateway that does not answer is a 503 for the caller, never "not found".
 */
export class HttpDirectory implements Directory {
  private readonly cache = new Map<string, { expires: number; value: Promise<unknown> }>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly base: string;

  constructor(private readonly opts: HttpDirectoryOptions) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  organisation(id: string): Promise<OrganisationInfo | undefined> {
    return this.lookup<OrganisationInfo>('organisations', id);
  }

  location(id: string): Promise<LocationInfo | undefined> {
    return this.lookup<LocationInfo>('locations', id);
  }

  organisationByGln(gln: string): Promise<OrganisationInfo | undefined> {
    if (typeof gln !== 'string' || !/^\d{13}$/.test(gln)) return Promise.resolve(undefined);
    return this.lookup<OrganisationInfo>('organisations/by-gln', gln);
  }

  private async lookup<T>(kind: 'organisations' | 'locations' | 'organisations/by-gln', id: string): Promise<T | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
    const key = `${kind}/${id}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.value as Promise<T | undefined>;
    const pending = this.fetchOne<T>(kind, id);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { expires: this.now() + this.ttlMs, value: pending });
    try {
      const value = await pending;
      if (value === undefined && this.cache.get(key)?.value === pending) this.cache.delete(key);
      return value;
    } catch (err) {
      if (this.cache.get(key)?.value === pending) this.cache.delete(key);
      throw err;
    }
  }

  private async fetchOne<T>(kind: string, id: string): Promise<T | undefined> {
    const url = `${this.base}/internal/v1/${kind}/${encodeURIComponent(id)}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        headers: {
          ...(await this.opts.credentials.header(this.opts.service)),
          accept: 'application/json',
          'x-correlation-id': RequestContext.correlationId(),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw unavailable(`the identity service at ${this.base} does not answer (${(err as Error).message})`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw unavailable(`the identity service answered ${res.status} for ${kind}/${id}`);
    }
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw unavailable(`the identity service sent an unreadable answer for ${kind}/${id} (${(err as Error).message})`);
    }
  }
}

const unavailable = (detail: string) =>
  new DomainError(503, 'identity-unavailable', `Organisations and locations cannot be checked right now: ${detail}`);

/**
 * Provides DIRECTORY process-wide from the gateway's internal endpoints, for a
 * service running without the gateway module (distributed mode). Needs
 * IDENTITY_URL and JWT_SECRET. In embedded mode do not import it: the gateway
 * module provides DIRECTORY from its own tables.
 */
@Global()
@Module({})
export class DirectoryClientModule {
  static forService(service: string): DynamicModule {
    return {
      module: DirectoryClientModule,
      global: true,
      providers: [
        {
          provide: DIRECTORY,
          inject: [PLATFORM_CONFIG, SERVICE_CREDENTIALS],
          useFactory: (config: PlatformConfig, credentials: ServiceCredentials): Directory => {
            if (!config.IDENTITY_URL) {
              throw new Error(`IDENTITY_URL is required: ${service} looks up organisations and locations at the gateway`);
            }
            return new HttpDirectory({ baseUrl: config.IDENTITY_URL, credentials, service });
          },
        },
      ],
      exports: [DIRECTORY],
    };
  }
}
