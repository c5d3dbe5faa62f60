import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { sanitizeCorrelationId } from './context';
import { requestLogger, type Logger } from './logging';
import type { Metrics } from './metrics';
import { SECURITY_HEADERS } from './security-headers';

/** A complete answer, bytes ready: the platform adds the security headers, correlation id and CORS, and writes it. */
export interface FastReply {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * A route answered ahead of the whole HTTP stack (Express, its middleware,
 * Nest's router, guards, pipes): the hot, anonymous, read-only answers whose
 * bytes are known in advance — a cached consumer scan, /health/live. The
 * answer gets what every answer gets (the security headers, a correlation id,
 * CORS, the request line, the request metrics); anything a fast answer does
 * not take on goes to the app untouched.
 */
export interface FastAnswer {
  /** The metrics' route label (the controller's route, so both paths count as one). */
  readonly route: string;
  /** A cheap test on the method and raw URL: whether to ask `answer` at all. */
  matches(method: string, url: string): boolean;
  /** The reply, or undefined having changed nothing: the app then answers as usual (a miss, anything unusual). */
  answer(req: IncomingMessage): FastReply | undefined | Promise<FastReply | undefined>;
}

const LIVE_BODY = Buffer.from(JSON.stringify({ status: 'ok' }));
const LIVE: FastAnswer = {
  route: '/health/live',
  matches: (method, url) => method === 'GET' && url === '/health/live',
  answer: () => ({ status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: LIVE_BODY }),
};

/** Express's protocol for an app without `trust proxy` (the setting this app runs with). */
export const requestProtocol = (req: IncomingMessage): 'http' | 'https' => ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');

/** The fast answers of this process (modules add theirs at start-up); /health/live is always one. */
export class FastAnswers {
  private readonly answers: FastAnswer[] = [LIVE];

  add(answer: FastAnswer): void {
    this.answers.push(answer);
  }

  /**
   * Puts the fast answers in front of the server's request handler (the
   * Express app): a request one of them answers never reaches it.
   */
  attach(server: Server, logger: Logger, metrics: Metrics): void {
    const app = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    const handOn = (req: IncomingMessage, res: ServerResponse) => {
      for (const listener of app) listener.call(server, req, res);
    };
    const requests = requestLogger(logger);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const fast = this.answers.find((a) => a.matches(req.method ?? '', req.url ?? ''));
      if (!fast) return handOn(req, res);
      const started = process.hrtime.bigint();
      const write = (reply: FastReply | undefined) => {
        if (!reply) return handOn(req, res);
        const correlationId = sanitizeCorrelationId(req.headers['x-correlation-id']) ?? randomUUID();
        res.writeHead(reply.status, {
          ...SECURITY_HEADERS,
          ...reply.headers,
          'Access-Control-Allow-Origin': '*',
          'X-Correlation-Id': correlationId,
          ...(reply.status === 304 ? {} : { 'Content-Length': String(reply.body?.length ?? 0) }),
        });
        res.end(reply.status === 304 ? undefined : reply.body);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpDuration.observe({ method: req.method ?? '', route: fast.route, status: String(reply.status) }, seconds);
        requests.info({ correlationId, method: req.method, url: req.url, status: reply.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
      };
      let pending: FastReply | undefined | Promise<FastReply | undefined>;
      try {
        pending = fast.answer(req);
      } catch {
        return handOn(req, res); // the app answers, and says what is wrong
      }
      if (pending instanceof Promise) pending.then(write, () => handOn(req, res));
      else write(pending);
    });
  }
}
