import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hkdfSync, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { Request } from 'express';
import type { CacheStore } from './cache';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { forbidden, notFound } from './problem';

export const ROLES = ['operator', 'inspector', 'regulator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the organisation and role from a verified token. */
export interface Principal {
  clientId: string;
  orgId: string;
  role: Role;
}

const TOKEN_ISSUER = 'trace';
const encoder = new TextEncoder();

/** What a verified client token says besides the principal. */
export interface TokenClaims {
  principal: Principal;
  /** The client's token version when it was issued (0 for tokens minted before versions existed). */
  version: number;
}

/**
 * HS256 JSON Web Tokens with the platform secret (jose). Only HS256 is
 * accepted, so an "alg: none" or algorithm-confusion token is refused
 * outright; `exp` and `iss` are required.
 */
export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens verified already, with their expiry: a client sends the same token
   * on every request for its hour, and checking an HS256 signature through
   * jose was a sixth of the app's CPU on the write path. The same string
   * under the same key always verifies the same way, so only the expiry is
   * checked again; refusals are not kept. Retiring a token early (version,
   * revocation) is checked by the caller on every request as before. Bounded,
   * oldest out first.
   */
  private readonly verified = new Map<string, { claims: TokenClaims; exp: number }>();

  constructor(
    secret: string,
    private readonly ttlSeconds = 3600,
  ) {
    if (secret.length < 32) throw new Error('JWT secret must be at least 32 characters');
    this.key = encoder.encode(secret);
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  /** A token for `p`; `version` (the client's token version) lets a rotation or revocation retire it early. */
  async sign(p: Principal, now = Math.floor(Date.now() / 1000), version?: number): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ org: p.orgId, role: p.role, ...(version !== undefined ? { ver: version } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(p.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setIssuer(TOKEN_ISSUER)
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds };
  }

  async verify(token: string, now = Math.floor(Date.now() / 1000)): Promise<Principal> {
    return (await this.verifyClaims(token, now)).principal;
  }

  async verifyClaims(token: string, now = Math.floor(Date.now() / 1000)): Promise<TokenClaims> {
    const known = typeof token === 'string' ? this.verified.get(token) : undefined;
    if (known) {
      // As jose (clockTolerance 0): expired from the second `exp` names.
      if (known.exp <= now) throw new UnauthorizedException('Token expired');
      return known.claims;
    }
    const claims = await this.verifyUncached(token, now);
    if (this.verified.size >= 10_000) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, claims);
    return claims.claims;
  }

  private async verifyUncached(token: string, now: number): Promise<{ claims: TokenClaims; exp: number }> {
    if (typeof token !== 'string' || token.split('.').length !== 3) throw new UnauthorizedException('Malformed token');
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
      decodeJwt(token);
    } catch {
      throw new UnauthorizedException('Malformed token: header and claims must be base64url JSON objects naming the algorithm');
    }
    if (header.alg !== 'HS256') throw new UnauthorizedException('Unsupported token algorithm');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(now * 1000),
        clockTolerance: 0,
      }));
    } catch (err) {
      throw new UnauthorizedException(refusalOf(err));
    }
    const { sub, org, role, ver, aud, exp } = payload as JWTPayload & { org?: unknown; role?: unknown; ver?: unknown };
    // A client token names no audience; one that does (a service credential) is no client token.
    if (aud !== undefined || typeof sub !== 'string' || typeof org !== 'string' || !ROLES.includes(role as Role)) {
      throw new UnauthorizedException('Token claims are not valid');
    }
    if (ver !== undefined && !Number.isSafeInteger(ver)) throw new UnauthorizedException('Token claims are not valid');
    return { claims: { principal: { clientId: sub, orgId: org, role: role as Role }, version: (ver as number | undefined) ?? 0 }, exp: exp as number };
  }
}

/** The 401's wording for each of jose's refusals (tests and clients tell them apart). */
function refusalOf(err: unknown): string {
  const e = err as { code?: string; claim?: string };
  switch (e?.code) {
    case 'ERR_JWT_EXPIRED':
      return 'Token expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return e.claim === 'exp' ? 'Token expired' : 'Token claims are not valid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'Unsupported token algorithm';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'Bad token signature';
    default:
      return 'Malformed token';
  }
}

/**
 * Client secrets are stored as scrypt hashes with a salt of their own:
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`. The parameters travel with
 * the hash so they can be raised later without invalidating stored secrets.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const hash = await scryptAsync(secret, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Constant-time check of a secret against a stored hash; false (never a throw) for a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  if (![N, r, p].every(Number.isSafeInteger) || N > 2 ** 20 || r > 32 || p > 16 || expected.length === 0 || salt.length === 0) return false;
  const given = await scryptAsync(secret, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(given, expected);
}

/** A random client secret: 32 bytes, base64url (43 characters). */
export const generateSecret = () => randomBytes(32).toString('base64url');

/** The built-in organisation of the admin clients; not a supply-chain party. */
export const PLATFORM_ORG_ID = 'platform';

/** Header carrying a service credential on service-to-service calls (Authorization stays the end user's token). */
export const SERVICE_CREDENTIAL_HEADER = 'x-service-authorization';
const SERVICE_AUDIENCE = 'trace-internal';
const SERVICE_PREFIX = 'service:';

/**
 * The credential services present to each other's internal endpoints
 * (distributed mode): an HS256 JWT for the audience `trace-internal`, signed
 * with INTERNAL_SECRET, or, when that is unset, with a key derived from
 * JWT_SECRET by HKDF under a label of its own. Client tokens are signed with
 * JWT_SECRET itself and carry no audience, so no client token, whatever its
 * role, verifies as a service credential, and a service credential is no
 * client token (it names no organisation or role).
 */
export class ServiceCredentials {
  private readonly key: Uint8Array;
  private readonly minted = new Map<string, { token: Promise<string>; renewAt: number }>();

  constructor(jwtSecret: string, internalSecret?: string) {
    this.key = internalSecret
      ? encoder.encode(internalSecret)
      : new Uint8Array(hkdfSync('sha256', jwtSecret, 'trace', 'trace internal service credential v1', 32));
  }

  /**
   * `X-Service-Authorization: Bearer …` for a call made by `service`; a credential lives 5 minutes and is reused for one.
   * `actingFor`: the call is made for that principal with no user's token at hand (an EPCIS subscription the service
   * runs for the organisation that made it); only routes marked @ServiceMayActFor() accept it as the caller.
   */
  async header(service: string, actingFor?: Principal): Promise<Record<string, string>> {
    const now = Date.now();
    const cacheKey = actingFor ? `${service}\n${actingFor.orgId}\n${actingFor.role}\n${actingFor.clientId}` : service;
    let entry = this.minted.get(cacheKey);
    if (!entry || entry.renewAt < now) {
      const token = new SignJWT(actingFor ? { act: { sub: actingFor.clientId, org: actingFor.orgId, role: actingFor.role } } : {})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(`${SERVICE_PREFIX}${service}`)
        .setAudience(SERVICE_AUDIENCE)
        .setIssuer(TOKEN_ISSUER)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 300)
        .sign(this.key);
      entry = { token, renewAt: now + 60_000 };
      if (this.minted.size >= 10_000) this.minted.delete(this.minted.keys().next().value as string);
      this.minted.set(cacheKey, entry);
    }
    return { [SERVICE_CREDENTIAL_HEADER]: `Bearer ${await entry.token}` };
  }

  /** The calling service's name; a 403 `service-only` for anything else. */
  async verify(header: string | string[] | undefined): Promise<string> {
    return (await this.verifyCredential(header)).service;
  }

  /** The calling service's name and, when its credential says so, the principal it acts for; a 403 `service-only` for anything else. */
  async verifyCredential(header: string | string[] | undefined): Promise<{ service: string; actingFor?: Principal }> {
    const token = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
    if (token) {
      try {
        const { payload } = await jwtVerify(token, this.key, {
          algorithms: ['HS256'],
          audience: SERVICE_AUDIENCE,
          issuer: TOKEN_ISSUER,
          requiredClaims: ['exp', 'sub'],
        });
        if (typeof payload.sub === 'string' && payload.sub.startsWith(SERVICE_PREFIX)) {
          const service = payload.sub.slice(SERVICE_PREFIX.length);
          const act = payload.act as { sub?: unknown; org?: unknown; role?: unknown } | undefined;
          if (act === undefined) return { service };
          if (typeof act === 'object' && act !== null && typeof act.sub === 'string' && typeof act.org === 'string' && ROLES.includes(act.role as Role)) {
            return { service, actingFor: { clientId: act.sub, orgId: act.org, role: act.role as Role } };
          }
        }
      } catch {
        // refused below, whatever jose disliked
      }
    }
    throw forbidden('service-only', 'Internal endpoints answer services only (a service credential is required)');
  }
}

/**
 * Retires tokens early: a client's token version goes up when its secret is
 * rotated or the client is deleted, and a token issued with an older version
 * is refused. The current versions live in the platform cache (Redis, shared
 * by every service, when distributed; memory when embedded) for as long as a
 * token can live; each process remembers an answer for `memoMs` (2 s), so a
 * revocation takes effect everywhere within a few seconds.
 */
export class TokenRevocations {
  private readonly memo = new Map<string, { version: number; until: number }>();
  private readonly prefix: string;

  constructor(
    private readonly cache: CacheStore,
    schemaPrefix: string,
    private readonly ttlSeconds: number,
    private readonly memoMs = 2000,
  ) {
    this.prefix = `auth:${schemaPrefix}tokver:`;
  }

  /** Publishes a client's current version (after a rotation or deletion), for as long as any older token can live. */
  async publish(clientId: string, version: number): Promise<void> {
    await this.cache.set(`${this.prefix}${clientId}`, String(version), this.ttlSeconds + 60);
    this.memo.set(clientId, { version, until: Date.now() + this.memoMs });
  }

  /** True when a token of `clientId` issued with `version` has been retired. */
  async retired(clientId: string, version: number): Promise<boolean> {
    const now = Date.now();
    let known = this.memo.get(clientId);
    if (!known || known.until < now) {
      let current = 0;
      try {
        current = Number((await this.cache.get(`${this.prefix}${clientId}`)) ?? 0);
      } catch {
        // Cache unreachable: fall back on the last answer this process had (tokens still expire within the hour).
        current = known?.version ?? 0;
      }
      if (this.memo.size >= 10_000) this.memo.delete(this.memo.keys().next().value as string);
      known = { version: current, until: now + this.memoMs };
      this.memo.set(clientId, known);
    }
    return version < known.version;
  }
}

export const TOKEN_SERVICE = Symbol('TOKEN_SERVICE');
export const SERVICE_CREDENTIALS = Symbol('SERVICE_CREDENTIALS');
export const TOKEN_REVOCATIONS = Symbol('TOKEN_REVOCATIONS');
const ROLES_KEY = 'trace:roles';
const PUBLIC_KEY = 'trace:public';
const INTERNAL_KEY = 'trace:internal';
const ACTS_FOR_KEY = 'trace:service-acts-for';
const INTERNAL_PATH = /^\/+internal(\/|$)/i;

/** Roles allowed to call a handler. Handlers without @Roles or @Public need any valid token. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** No token needed (health, public scan, token endpoint). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/**
 * A service-to-service endpoint: it does not exist over HTTP unless
 * INTERNAL_HTTP is on (distributed mode; embedded calls go in-process), and
 * then answers only a request carrying a service credential. A user's token,
 * when the handler also needs one, is checked as for any route.
 */
export const Internal = () => SetMetadata(INTERNAL_KEY, true);
/**
 * On an @Internal() route: a service credential naming whom it acts for (ServiceCredentials.header's
 * `actingFor`) stands in for the user's token, roles checked as for one. Only for reads a service makes
 * on an organisation's behalf with no user present (EPCIS subscriptions); no other route honours it.
 */
export const ServiceMayActFor = () => SetMetadata(ACTS_FOR_KEY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return (ctx.switchToHttp().getRequest<Request & { principal?: Principal }>()).principal;
});

/** Global guard: internal endpoints, the bearer token (signature, expiry, revocation) and the handler's roles. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(SERVICE_CREDENTIALS) private readonly services: ServiceCredentials,
    @Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const internal = this.reflector.getAllAndOverride<boolean>(INTERNAL_KEY, targets);
    // A route under /internal that forgot @Internal() fails closed rather than answering clients.
    if (internal || INTERNAL_PATH.test(req.path)) {
      // As if the route did not exist: nothing tells an outsider that something is here.
      if (!internal || !internalHttp(this.config)) throw notFound('not-found', `Cannot ${req.method} ${req.path}`);
      const { actingFor } = await this.services.verifyCredential(req.headers[SERVICE_CREDENTIAL_HEADER]);
      if (actingFor && !req.headers.authorization && this.reflector.getAllAndOverride<boolean>(ACTS_FOR_KEY, targets)) {
        req.principal = actingFor;
        this.checkRoles(actingFor, targets);
        return true;
      }
    }
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const auth = req.headers.authorization;
    if (!auth || !auth.startsWith('Bearer ')) throw new UnauthorizedException('A bearer token is required');
    const { principal, version } = await this.tokens.verifyClaims(auth.slice('Bearer '.length).trim());
    if (await this.revocations.retired(principal.clientId, version)) {
      throw new UnauthorizedException('Token revoked: the client was deleted or its secret rotated');
    }
    req.principal = principal;
    this.checkRoles(principal, targets);
    return true;
  }

  private checkRoles(principal: Principal, targets: Parameters<Reflector['getAllAndOverride']>[1]): void {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(principal.role)) {
      throw forbidden('role', `The ${principal.role} role may not do this; allowed: ${roles.join(', ')}`);
    }
  }
}

/** Whether this process answers service-to-service calls over HTTP: INTERNAL_HTTP, else only in distributed mode. */
export const internalHttp = (config: PlatformConfig) => config.INTERNAL_HTTP ?? config.RUN_MODE === 'distributed';
