import type { NextFunction, Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { TokenRevocations, TokenService } from './auth';

/**
 * What every answer carries: no MIME sniffing, no framing, no referrer sent
 * on, and a Content-Security-Policy that lets a page do only what the scan
 * page needs (inline CSS and SVG, images from here or data: URIs, links back
 * here; no script, no other origin). The OpenAPI UI under /docs gets the
 * scripts and styles of its own origin.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const DOCS_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

/** The security headers of every answer outside /docs (FastAnswers writes them itself). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export function securityHeaders() {
  return (req: Request, res: Response, next: NextFunction) => {
    for (const name in SECURITY_HEADERS) res.setHeader(name, SECURITY_HEADERS[name]);
    if (/^\/docs(\/|-json|$)/.test(req.path)) res.setHeader('Content-Security-Policy', DOCS_POLICY);
    next();
  };
}

const problem = (res: Response, status: 401 | 403, slug: string, detail: string) =>
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: `https://problems.trace.dev/${slug}`, title: status === 401 ? 'Unauthorized' : 'Forbidden', status, detail }));

/** DOCS_PUBLIC=false: /docs and /docs-json answer an admin's bearer token only (they are served outside Nest's guards). */
export function docsForAdminsOnly(tokens: TokenService, revocations: TokenRevocations) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!/^\/docs(\/|-json|$)/i.test(req.path)) return next();
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return problem(res, 401, 'unauthorized', 'The API documentation needs an admin token here (DOCS_PUBLIC=false)');
    try {
      const { principal, version } = await tokens.verifyClaims(auth.slice('Bearer '.length).trim());
      if (await revocations.retired(principal.clientId, version)) return problem(res, 401, 'unauthorized', 'Token revoked');
      if (principal.role !== 'admin') return problem(res, 403, 'role', 'The API documentation is for admins here (DOCS_PUBLIC=false)');
    } catch (err) {
      return problem(res, 401, 'unauthorized', (err as Error).message);
    }
    next();
  };
}

/** METRICS_TOKEN: whether the request carries `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). */
export function carriesMetricsToken(authorization: string | undefined, expected: string): boolean {
  const given = Buffer.from(authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : '');
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
