import { UnauthorizedException } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { TokenService, type Principal, type Role } from './auth';

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

function refused(fn: () => unknown, message?: string | RegExp): UnauthorizedException {
  try {
    fn();
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

  it('refuses a secret shorter than 32 characters', () => {
    expect(() => new TokenService('x'.repeat(31))).toThrow(/at least 32 characters/);
    expect(() => new TokenService('x'.repeat(32))).not.toThrow();
  });

  it('sign → verify round-trips the principal', () => {
    const { token, expiresIn } = tokens.sign(principal, NOW);
    expect(expiresIn).toBe(3600);
    expect(token.split('.')).toHaveLength(3);
    expect(tokens.verify(token, NOW + 1)).toEqual(principal);
  });

  it('round-trips every role', () => {
    for (const role of ['operator', 'inspector', 'regulator', 'admin'] as Role[]) {
      const { token } = tokens.sign({ ...principal, role }, NOW);
      expect(tokens.verify(token, NOW).role).toBe(role);
    }
  });

  it('signs a standard HS256 JWT with the expected claims', () => {
    const { token } = tokens.sign(principal, NOW);
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

  it('a token from another secret is refused', () => {
    const { token } = new TokenService(OTHER_SECRET).sign(principal, NOW);
    refused(() => tokens.verify(token, NOW), /signature/);
  });

  it('a tampered payload is refused', () => {
    const { token } = tokens.sign(principal, NOW);
    const [h, , s] = token.split('.');
    const escalated = b64({ sub: 'client-1', org: 'org-1', role: 'admin', iat: NOW, exp: NOW + 3600, iss: 'trace' });
    refused(() => tokens.verify(`${h}.${escalated}.${s}`, NOW), /signature/);
  });

  it('a tampered signature is refused', () => {
    const { token } = tokens.sign(principal, NOW);
    const [h, c, s] = token.split('.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[0] ^= 0xff;
    refused(() => tokens.verify(`${h}.${c}.${flipped.toString('base64url')}`, NOW), /signature/);
    refused(() => tokens.verify(`${h}.${c}.${s.slice(0, 10)}`, NOW), /signature/);
  });

  it('an expired token is refused; it is valid up to one second before exp', () => {
    const { token } = tokens.sign(principal, NOW);
    expect(tokens.verify(token, NOW + 3599)).toEqual(principal);
    refused(() => tokens.verify(token, NOW + 3600), /expired/);
    refused(() => tokens.verify(token, NOW + 100_000), /expired/);
  });

  it('a token without a numeric exp is refused', () => {
    const token = forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'c', org: 'o', role: 'admin', iss: 'trace', exp: 'never' });
    refused(() => tokens.verify(token, NOW), /expired/);
  });

  it('an alg "none" token is refused, signed or not', () => {
    const claims = { sub: 'c', org: 'o', role: 'admin', iat: NOW, exp: NOW + 60, iss: 'trace' };
    refused(() => tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, NOW), /algorithm/);
    refused(() => tokens.verify(forge({ alg: 'none', typ: 'JWT' }, claims), NOW), /algorithm/);
    refused(() => tokens.verify(forge({ alg: 'HS512', typ: 'JWT' }, claims), NOW), /algorithm/);
    refused(() => tokens.verify(forge({ typ: 'JWT' }, claims), NOW), /algorithm/);
  });

  it.each([
    ['empty string', ''],
    ['one part', 'abc'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
  ])('a malformed token (%s) is refused', (_label, token) => {
    refused(() => tokens.verify(token, NOW), /Malformed/);
  });

  it('a token whose parts are not base64url JSON is refused', () => {
    refused(() => tokens.verify('!!!.###.$$$', NOW), /Malformed/);
    refused(() => tokens.verify(`${b64('not json')}.${b64({ a: 1 })}.sig`, NOW), /Malformed/);
    refused(() => tokens.verify(`${b64({ alg: 'HS256' })}.${b64('{oops')}.sig`, NOW), /Malformed/);
  });

  // Regression: a header of JSON null once reached `h.alg` and threw a TypeError (a 500).
  it('a token whose header is JSON null is refused with 401, not a TypeError', () => {
    refused(() => tokens.verify(`${b64('null')}.${b64({})}.sig`, NOW), /Malformed|algorithm/);
  });

  it('a token whose header is a JSON non-object is refused', () => {
    refused(() => tokens.verify(`${b64('"HS256"')}.${b64({})}.sig`, NOW), /algorithm/);
  });

  it('a correctly signed token with an unknown role is refused', () => {
    const { token } = tokens.sign({ ...principal, role: 'superuser' as Role }, NOW);
    refused(() => tokens.verify(token, NOW), /claims/);
  });

  it('a correctly signed token with a wrong issuer or missing subject is refused', () => {
    const base = { sub: 'c', org: 'o', role: 'admin', iat: NOW, exp: NOW + 60, iss: 'trace' };
    const header = { alg: 'HS256', typ: 'JWT' };
    expect(tokens.verify(forge(header, base), NOW)).toEqual({ clientId: 'c', orgId: 'o', role: 'admin' });
    refused(() => tokens.verify(forge(header, { ...base, iss: 'elsewhere' }), NOW), /claims/);
    refused(() => tokens.verify(forge(header, { ...base, sub: undefined }), NOW), /claims/);
    refused(() => tokens.verify(forge(header, { ...base, org: 42 }), NOW), /claims/);
  });
});
