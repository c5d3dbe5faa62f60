import type { NextFunction, Request, Response } from 'express';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clientAddress, RequestContext, type LookupRateLimiter } from '@trace/platform';

/** Which service owns which public path prefix (distributed mode). */
export const ROUTES: { prefix: RegExp; upstream: string }[] = [
  { prefix: /^\/v1\/agri(\/|$)/, upstream: 'AGRI_URL' },
  { prefix: /^\/v1\/certificates(\/|$)/, upstream: 'AGRI_URL' }, // agri certificates (承诺达标合格证), public verification
  { prefix: /^\/v1\/food(\/|$)/, upstream: 'FOOD_URL' },
  { prefix: /^\/v1\/drug(\/|$)/, upstream: 'DRUG_URL' },
  { prefix: /^\/v1\/material(\/|$)/, upstream: 'MATERIAL_URL' },
  { prefix: /^\/v1\/goods(\/|$)/, upstream: 'GOODS_URL' },
  { prefix: /^\/v1\/trace(\/|$)/, upstream: 'LINEAGE_URL' },
  { prefix: /^\/v1\/exports(\/|$)/, upstream: 'LINEAGE_URL' }, // FSMA 204 spreadsheet
  { prefix: /^\/v1\/(search|shipments)(\/|$)/, upstream: 'LINEAGE_URL' }, // cross-domain lists from the lineage read model
  { prefix: /^\/v1\/(recalls|cases|incidents|webhooks)(\/|$)/, upstream: 'RECALL_URL' },
  { prefix: /^\/v1\/epcis(\/|$)/, upstream: 'EPCIS_URL' }, // EPCIS 2.0 capture and query
];

export function resolveUpstream(path: string, env: NodeJS.ProcessEnv): string | undefined {
  const route = ROUTES.find((r) => r.prefix.test(path));
  return route ? env[route.upstream] : undefined;
}

/**
 * The public look-ups the services mark @RateLimitedLookup. A service behind
 * the gateway sees the gateway's address, so in distributed mode they are
 * counted here, per client address, before forwarding.
 */
export const LOOKUPS: { method: string; path: RegExp }[] = [
  { method: 'GET', path: /^\/v1\/certificates\/[^/]+\/?$/i },
  { method: 'POST', path: /^\/v1\/drug\/verify\/?$/i },
];

/** Service-to-service routes: never forwarded, whatever the path looked like before it was normalised. */
const INTERNAL = /^\/+internal(\/|$)/i;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'te', 'trailer']);

/**
 * Forwards a request to the owning service, body and all, with the
 * correlation id, and streams the answer back. Registered before the JSON
 * parser so bodies pass through untouched.
 */
export function proxyMiddleware(env: NodeJS.ProcessEnv = process.env, opts: { lookups?: LookupRateLimiter; trustProxyHops?: number } = {}) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const target = resolveUpstream(req.path, env);
    if (!target) return next();
    if (opts.lookups && LOOKUPS.some((l) => l.method === req.method && l.path.test(req.path))) {
      try {
        await opts.lookups.take(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], opts.trustProxyHops ?? 0));
      } catch (err) {
        const { message, extensions } = err as { message: string; extensions?: { retryAfter?: number } };
        const retryAfter = extensions?.retryAfter ?? 60;
        res.setHeader('Retry-After', String(retryAfter));
        res
          .status(429)
          .type('application/problem+json')
          .send(JSON.stringify({ type: 'https://problems.trace.dev/rate-limited', title: 'Too Many Requests', status: 429, detail: message, retryAfter }));
        return;
      }
    }
    const url = new URL(req.originalUrl, target);
    // The URL parser resolves dot segments (also %2e%2e): /v1/agri/../../internal/… would reach a
    // service's internal routes. What is forwarded must still be a public route of the same service.
    if (resolveUpstream(url.pathname, env) !== target || INTERNAL.test(url.pathname)) {
      res
        .status(400)
        .type('application/problem+json')
        .send(JSON.stringify({ type: 'https://problems.trace.dev/path', title: 'Bad Request', status: 400, detail: 'The path may not contain dot segments' }));
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['x-correlation-id'] = RequestContext.correlationId();
    headers['x-forwarded-for'] = req.ip ?? '';
    const upstream = httpRequest(url, { method: req.method, headers, timeout: 30_000 }, (up) => {
      res.status(up.statusCode ?? 502);
      for (const [k, v] of Object.entries(up.headers)) if (v != null && !HOP_BY_HOP.has(k)) res.setHeader(k, v);
      up.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', () => {
      if (res.headersSent) return res.end();
      res
        .status(503)
        .type('application/problem+json')
        .send(
          JSON.stringify({
            type: 'https://problems.trace.dev/upstream-unavailable',
            title: 'Service Unavailable',
            status: 503,
            detail: 'The service that owns this resource does not answer; try again shortly.',
          }),
        );
    });
    req.pipe(upstream);
  };
}

/** Writes an HTTP answer head (status line and headers) onto a raw socket. */
function head(status: number, message: string, headers: IncomingMessage['headers']): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) lines.push(`${k}: ${one}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * WebSocket upgrades (the EPCIS binding's query subscriptions on GET …/queries/{name}/events): the
 * handshake is forwarded to the owning service as any request is (same routes, same refusal of dot
 * segments and /internal), its answer passed back — a 101 then joins the two sockets byte for byte,
 * anything else (401, 404, 400 …) is relayed and the socket closed. The upgrade never reaches Express,
 * so the URL (which may hold a browser's access_token) is not in the access log.
 */
export function proxyUpgrade(env: NodeJS.ProcessEnv = process.env) {
  return (req: IncomingMessage, socket: Duplex, early: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: 400 | 404 | 503, type: string, detail: string) => {
      const title = { 400: 'Bad Request', 404: 'Not Found', 503: 'Service Unavailable' }[status];
      const body = JSON.stringify({ type: `https://problems.trace.dev/${type}`, title, status, detail });
      socket.end(`${head(status, title, { 'content-type': 'application/problem+json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' })}${body}`);
    };
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const target = resolveUpstream(path, env);
    if (!target) return refuse(404, 'not-found', `No WebSocket at ${path}`);
    const url = new URL(req.url ?? '/', target);
    if (resolveUpstream(url.pathname, env) !== target || INTERNAL.test(url.pathname)) return refuse(400, 'path', 'The path may not contain dot segments');
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.connection = 'Upgrade';
    headers.upgrade = String(req.headers.upgrade ?? 'websocket');
    headers['x-forwarded-for'] = (socket as Socket).remoteAddress ?? '';
    const upstream = httpRequest(url, { method: req.method, headers, timeout: 30_000 });
    upstream.on('upgrade', (answer, upSocket, upHead) => {
      upstream.setTimeout(0);
      socket.write(head(101, 'Switching Protocols', answer.headers));
      if (upHead.length) socket.write(upHead);
      if (early.length) upSocket.write(early);
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      upSocket.on('close', () => socket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    upstream.on('response', (answer) => {
      socket.write(head(answer.statusCode ?? 502, answer.statusMessage ?? '', { ...answer.headers, connection: 'close' }));
      answer.pipe(socket);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', () => {
      if (socket.writable) refuse(503, 'upstream-unavailable', 'The service that owns this resource does not answer; try again shortly.');
    });
    upstream.end();
  };
}
