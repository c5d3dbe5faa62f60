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
import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Request } from 'express';
import { forbidden } from './problem';

export const ROLES = ['operator', 'inspector', 'regulator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the organisation and role from a verified token. */
export interface Principal {
  clientId: string;
  orgId: string;
  role: Role;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * HS256 JSON Web Tokens with the platform secret. Only HS256 is accepted, so
 * an "alg: none" or algorithm-confusion token is refused outright.
 */
export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds = 3600,
  ) {
    if (secret.length < 32) throw new Error('JWT secret must be at least 32 characters');
  }

  sign(p: Principal, now = Math.floor(Date.now() / 1000)): { token: string; expiresIn: number } {
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(
      JSON.stringify({ sub: p.clientId, org: p.orgId, role: p.role, iat: now, exp: now + this.ttlSeconds, iss: 'trace' }),
    );
    const sig = b64url(createHmac('sha256', this.secret).update(`${header}.${body}`).digest());
    return { token: `${header}.${body}.${sig}`, expiresIn: this.ttlSeconds };
  }

  verify(token: string, now = Math.floor(Date.now() / 1000)): Principal {
    const parts = token.split('.');
    if (parts.length !== 3) throw new UnauthorizedException('Malformed token');
    const [header, body, sig] = parts;
    let h: { alg?: string };
    let c: { sub?: unknown; org?: unknown; role?: unknown; exp?: unknown; iss?: unknown };
    try {
      h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new UnauthorizedException('Malformed token');
    }
    if (h === null || c === null) throw new UnauthorizedException('Malformed token');
    if (h.alg !== 'HS256') throw new UnauthorizedException('Unsupported token algorithm');
    const expected = createHmac('sha256', this.secret).update(`${header}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthorizedException('Bad token signature');
    }
    if (typeof c.exp !== 'number' || c.exp <= now) throw new UnauthorizedException('Token expired');
    if (c.iss !== 'trace' || typeof c.sub !== 'string' || typeof c.org !== 'string' || !ROLES.includes(c.role as Role)) {
      throw new UnauthorizedException('Token claims are not valid');
    }
    return { clientId: c.sub, orgId: c.org, role: c.role as Role };
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

/**
 * Services call each other's internal endpoints with a token they sign
 * themselves (they share the JWT secret): subject `service:<name>`, role admin,
 * of the platform organisation. No client id can start with `service:`, so
 * only a holder of the signing secret can present one.
 */
export const PLATFORM_ORG_ID = 'platform';
export const SERVICE_SUBJECT_PREFIX = 'service:';
export const isServicePrincipal = (p: Principal | undefined) =>
  !!p && p.role === 'admin' && p.orgId === PLATFORM_ORG_ID && p.clientId.startsWith(SERVICE_SUBJECT_PREFIX);
export const signServiceToken = (tokens: TokenService, service: string) =>
  tokens.sign({ clientId: `${SERVICE_SUBJECT_PREFIX}${service}`, orgId: PLATFORM_ORG_ID, role: 'admin' }).token;

export const TOKEN_SERVICE = Symbol('TOKEN_SERVICE');
const ROLES_KEY = 'trace:roles';
const PUBLIC_KEY = 'trace:public';

/** Roles allowed to call a handler. Handlers without @Roles or @Public need any valid token. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** No token needed (health, public scan, token endpoint). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return (ctx.switchToHttp().getRequest<Request & { principal?: Principal }>()).principal;
});

/** Global guard: verifies the bearer token and the handler's roles. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const auth = req.headers.authorization;
    if (!auth || !auth.startsWith('Bearer ')) throw new UnauthorizedException('A bearer token is required');
    const principal = this.tokens.verify(auth.slice('Bearer '.length).trim());
    req.principal = principal;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(principal.role)) {
      throw forbidden('role', `The ${principal.role} role may not do this; allowed: ${roles.join(', ')}`);
    }
    return true;
  }
}
