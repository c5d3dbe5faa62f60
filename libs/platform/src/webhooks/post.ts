import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedTarget } from './address';

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs a body to `url`, connecting to `target` (the address already checked)
 * whatever the name resolves to now; TLS still verifies the certificate
 * against the URL's host name. Never throws: a refused connection, a timeout
 * or a reset is an error in the result. The answer's body is read and dropped.
 */
export function postOnce(url: URL, target: ResolvedTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  const started = performance.now();
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  return new Promise((resolve) => {
    let settled = false;
    const done = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      resolve({ statusCode, error, durationMs: Math.round(performance.now() - started) });
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        lookup: pinned,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'trace-webhooks/1', ...headers },
      },
      (res: IncomingMessage) => {
        res.on('data', () => undefined);
        res.on('end', () => done(res.statusCode ?? null, null));
        res.on('error', (err) => done(res.statusCode ?? null, err.message));
      },
    );
    // The whole exchange, not only an idle socket: a receiver dripping its answer does not hold the worker.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => done(null, err.message));
    req.end(body);
  });
}
