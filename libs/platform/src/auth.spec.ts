import { UnauthorizedException } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { SERVICE_CREDENTIAL_HEADER, ServiceCredentials, TokenRevocations, TokenService, type Principal, type Role } from './auth';
import { MemoryCache } from './cache';

const SECRET = 'k'.repeat(32);
const OTHER_SECRET = 'o'.repeat(40);
const NOW = 1_700_000_000;
const principal: Principal = { clientId: 'client-1', orgId: 'org-1', role: 'inspector' };

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hs256 = (secret: string, input: string) => createHmac('sha256', secret).update(input).digest('base64url');

/** Builds a token with a correct HS256 signature over arbitrary header and claims. */
function forge(header: unknown, claims: unknown, secret = SECRET): string {
  const h = b64(header);
  const c = b64(claims);
  return `${h}.${c}.${hs256(secret, `${h}.${c}`)}`;
}

async function refused(fn: () => Promise<unknown>, message?: string | RegExp): Promise<UnauthorizedException> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedException);
    expect((err as UnauthorizedException).getStatus()).toBe(401);
    if (message) expect((err as Error).message).toMatch(message);
    return err as UnauthorizedException;
  }
  throw new Error('expected UnauthorizedException');
}

describe('TokenService', () => {
  const tokens = new TokenService(SECRET, 3600);

  it('refuses a secret shorter than 32 characters', async () => {
    expect(() => new TokenService('x'.repeat(31))).toThrow(/at least 32 characters/);
    expect(() => new TokenService('x'.repeat(32))).not.toThrow();
  });

  it('sign → verify round-trips the principal', async () => {
    const { token, expiresIn } = await tokens.sign(principal, NOW);
    expect(expiresIn).toBe(3600);
    expect(token.split('.')).toHaveLength(3);
    expect(await tokens.verify(token, NOW + 1)).toEqual(principal);
  });

  it('round-trips every role', async () => {
    for (const role of ['operator', 'inspector', 'regulator', 'admin'] as Role[]) {
      const { token } = await tokens.sign({ ...principal, role }, NOW);
      expect((await tokens.verify(token, NOW)).role).toBe(role);
    }
  });

  it('signs a standard HS256 JWT with the expected claims', async () => {
    const { token } = await tokens.sign(principal, NOW);
    const [h, c] = token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      sub: 'client-1',
      org: 'org-1',
      role: 'inspector',
      iat: NOW,
      exp: NOW + 3600,
      iss: 'trace',
    });
  });

  it('a token from another secret is refused', async () => {
    const { token } = await new TokenService(OTHER_SECRET).sign(principal, NOW);
    await refused(() => tokens.verify(token, NOW), /signature/);
  });

  it('a tampered payload is refused', async () => {
    const { token } = await tokens.sign(principal, NOW);
    const [h, , s] = token.split('.');
    const escalated = b64({ sub: 'client-1', org: 'org-1', role: 'admin', iat: NOW, exp: NOW + 3600, iss: 'trace' });
    await refused(() => tokens.verify(`${h}.${escalated}.${s}`, NOW), /signature/);
  });

  it('a tampered signature is refused', async () => {
    const { token } = await tokens.sign(principal, NOW);
    const [h, c, s] = token.split('.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[0] ^= 0xff;
    await refused(() => tokens.verify(`${h}.${c}.${flipped.toString('base64url')}`, NOW), /signature/);
    await refused(() => tokens.verify(`${h}.${c}.${s.slice(0, 10)}`, NOW), /signature/);
  });

  it('an expired token is refused; it is valid up to one second before exp', async () => {
    const { token } = await tokens.sign(principal, NOW);
    expect(await tokens.verify(token, NOW + 3599)).toEqual(principal);
    await refused(() => tokens.verify(token, NOW + 3600), /expired/);
    await refused(() => tokens.verify(token, NOW + 100_000), /expired/);
  });

  it('a token verified once (kept in memory after) still expires, and a tampered copy of it is still refused', async () => {
    const { token } = await tokens.sign(principal, NOW);
    expect(await tokens.verify(token, NOW)).toEqual(principal);
    expect(await tokens.verify(token, NOW + 3599)).toEqual(principal);
    await refused(() => tokens.verify(token, NOW + 3600), /expired/);
    const [h, c, s] = token.split('.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[0] ^= 0xff;
    await refused(() => tokens.verify(`${h}.${c}.${flipped.toString('base64url')}`, NOW), /signature/);
    // Another service's key does not accept what this one verified.
    await refused(() => new TokenService('another-secret-0123456789abcdef-0123456789').verify(token, NOW), /signature/);
  });

  it('a token without a numeric exp is refused', async () => {
    const token = forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', org: 'o', role: 'admin', iss: 'trace', exp: 'never' });
    await refused(() => tokens.verify(token, NOW), /expired/);
  });

  it('an alg "none" token is refused, signed or not', async () => {
    const claims = { sub: 'c', org: 'o', role: 'admin', iat: NOW, exp: NOW + 60, iss: 'trace' };
    await refused(() => tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, NOW), /algorithm/);
    await refused(() => tokens.verify(forge({ alg: 'none', typ: 'JWT' }, claims), NOW), /algorithm/);
    await refused(() => tokens.verify(forge({ alg: 'HS512', typ: 'JWT' }, claims), NOW), /algorithm/);
    await refused(() => tokens.verify(forge({ typ: 'JWT' }, claims), NOW), /algorithm/);
  });

  it.each([
    ['empty string', ''],
    ['one part', 'abc'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
  ])('a malformed token (%s) is refused', async (_label, token) => {
    await refused(() => tokens.verify(token, NOW), /Malformed/);
  });

  it('a token whose parts are not base64url JSON is refused', async () => {
    await refused(() => tokens.verify('!!!.###.$$$', NOW), /Malformed/);
    await refused(() => tokens.verify(`${b64('not json')}.${b64({ a: 1 })}.sig`, NOW), /Malformed/);
    await refused(() => tokens.verify(`${b64({ alg: 'HS256' })}.${b64('{oops')}.sig`, NOW), /Malformed/);
  });

  // Regression: a header of JSON null once reached `h.alg` and threw a TypeError (a 500).
  it('a token whose header is JSON null is refused with 401, not a TypeError', async () => {
    await refused(() => tokens.verify(`${b64('null')}.${b64({})}.sig`, NOW), /Malformed|algorithm/);
  });

  it('a token whose header is a JSON non-object is refused', async () => {
    await refused(() => tokens.verify(`${b64('"HS256"')}.${b64({})}.sig`, NOW), /algorithm/);
  });

  it('a correctly signed token with an unknown role is refused', async () => {
    const { token } = await tokens.sign({ ...principal, role: 'superuser' as Role }, NOW);
    await refused(() => tokens.verify(token, NOW), /claims/);
  });

  it('a correctly signed token with a wrong issuer or missing subject is refused', async () => {
    const base = { sub: 'c', org: 'o', role: 'admin', iat: NOW, exp: NOW + 60, iss: 'trace' };
    const header = { alg: 'HS256', typ: 'JWT' };
    expect(await tokens.verify(forge(header, base), NOW)).toEqual({ clientId: 'c', orgId: 'o', role: 'admin' });
    await refused(() => tokens.verify(forge(header, { ...base, iss: 'elsewhere' }), NOW), /claims/);
    await refused(() => tokens.verify(forge(header, { ...base, sub: undefined }), NOW), /claims/);
    await refused(() => tokens.verify(forge(header, { ...base, org: 42 }), NOW), /claims/);
  });
});

describe('token versions', () => {
  const tokens = new TokenService(SECRET, 3600);

  it('a version travels in `ver`; a token without one reads as version 0', async () => {
    const { token } = await tokens.sign(principal, NOW, 3);
    expect(await tokens.verifyClaims(token, NOW)).toEqual({ principal, version: 3 });
    expect((await tokens.verifyClaims((await tokens.sign(principal, NOW)).token, NOW)).version).toBe(0);
    await refused(() => tokens.verify(forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', org: 'o', role: 'admin', exp: NOW + 60, iss: 'trace', ver: 'x' }), NOW), /claims/);
  });

  it('TokenRevocations retires older versions of a client, and only of that client', async () => {
    const revocations = new TokenRevocations(new MemoryCache(), 'test_', 3600, 0);
    expect(await revocations.retired('client-1', 0)).toBe(false);
    await revocations.publish('client-1', 2);
    expect(await revocations.retired('client-1', 1)).toBe(true);
    expect(await revocations.retired('client-1', 2)).toBe(false);
    expect(await revocations.retired('client-2', 0)).toBe(false);
  });
});

describe('ServiceCredentials', () => {
  const credentials = new ServiceCredentials(SECRET);

  it('a credential it minted verifies and names the calling service', async () => {
    const header = await credentials.header('recall');
    expect(await credentials.verify(header[SERVICE_CREDENTIAL_HEADER])).toBe('recall');
  });

  it('no client token passes as a service credential, whatever its subject or role', async () => {
    const tokens = new TokenService(SECRET);
    const clientAdmin = (await tokens.sign({ clientId: 'service:recall', orgId: 'platform', role: 'admin' })).token;
    await expect(credentials.verify(`Bearer ${clientAdmin}`)).rejects.toMatchObject({ status: 403, rule: 'service-only' });
    // Even the right audience, when signed with the client-token secret itself.
    const withAudience = forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'service:recall', aud: 'trace-internal', iss: 'trace', exp: Math.floor(Date.now() / 1000) + 60 });
    await expect(credentials.verify(`Bearer ${withAudience}`)).rejects.toMatchObject({ status: 403 });
    for (const header of [undefined, '', 'Bearer', 'Basic abc', ['Bearer x']]) {
      await expect(credentials.verify(header as never)).rejects.toMatchObject({ status: 403, rule: 'service-only' });
    }
  });

  it('a service credential is no client token, even signed with the client-token key', async () => {
    const tokens = new TokenService(SECRET);
    const credential = (await credentials.header('recall'))[SERVICE_CREDENTIAL_HEADER].slice('Bearer '.length);
    await refused(() => tokens.verify(credential), /signature/);
    const sameKey = forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', org: 'o', role: 'admin', iss: 'trace', aud: 'trace-internal', exp: Math.floor(Date.now() / 1000) + 60 });
    await refused(() => tokens.verify(sameKey), /claims/);
  });

  it('INTERNAL_SECRET, when set, is the only key: a credential derived from JWT_SECRET is refused', async () => {
    const separate = new ServiceCredentials(SECRET, 'i'.repeat(40));
    const derived = await credentials.header('food');
    await expect(separate.verify(derived[SERVICE_CREDENTIAL_HEADER])).rejects.toMatchObject({ status: 403 });
    expect(await separate.verify((await separate.header('food'))[SERVICE_CREDENTIAL_HEADER])).toBe('food');
  });
});
