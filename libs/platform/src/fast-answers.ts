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
  /**
   * Every header but the correlation id, as `headerBlock(status, headers, body)`
   * makes them: an answer that returns the same reply again and again makes it
   * once (a cached scan's), and the request only adds its correlation id.
   */
  block?: readonly string[];
}

/**
 * The headers of a fast answer but its correlation id, flat (name, value, …),
 * as Node's writeHead takes them: the security headers, the reply's own, CORS
 * and, but on a 304, the length. Written as an array rather than an object,
 * Node's header writing costs about a third less.
 */
export function headerBlock(status: FastReply['status'], headers: Record<string, string>, body: Buffer | undefined): readonly string[] {
  const all: Record<string, string> = { ...SECURITY_HEADERS, ...headers, 'Access-Control-Allow-Origin': '*' };
  if (status !== 304) all['Content-Length'] = String(body?.length ?? 0);
  // Not frozen: V8 copies a frozen array (slice, per request) about five times slower. Nothing writes to it.
  return Object.entries(all).flat();
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
const LIVE_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };
const LIVE_REPLY: FastReply = Object.freeze({ status: 200, headers: LIVE_HEADERS, body: LIVE_BODY, block: headerBlock(200, LIVE_HEADERS, LIVE_BODY) });
const LIVE: FastAnswer = {
  route: '/health/live',
  matches: (method, url) => method === 'GET' && url === '/health/live',
  answer: () => LIVE_REPLY,
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
    const write = (req: IncomingMessage, res: ServerResponse, fast: FastAnswer, started: number, reply: FastReply | undefined) => {
      if (!reply) return handOn(req, res);
      const correlationId = sanitizeCorrelationId(req.headers['x-correlation-id']) ?? randomUUID();
      const head = (reply.block ?? headerBlock(reply.status, reply.headers, reply.body)).slice();
      head.push('X-Correlation-Id', correlationId);
      res.writeHead(reply.status, head);
      res.end(reply.status === 304 ? undefined : reply.body);
      const seconds = (performance.now() - started) / 1000;
      metrics.httpDuration.observe({ method: req.method ?? '', route: fast.route, status: String(reply.status) }, seconds);
      if (requests.isLevelEnabled('info')) {
        requests.info({ correlationId, method: req.method, url: req.url, status: reply.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
      }
    };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const method = req.method ?? '';
      const url = req.url ?? '';
      let fast: FastAnswer | undefined;
      for (const a of this.answers) {
        if (a.matches(method, url)) {
          fast = a;
          break;
        }
      }
      if (!fast) return handOn(req, res);
      const started = performance.now();
      let pending: FastReply | undefined | Promise<FastReply | undefined>;
      try {
        pending = fast.answer(req);
      } catch {
        return handOn(req, res); // the app answers, and says what is wrong
      }
      if (pending instanceof Promise) {
        const answered = fast;
        pending.then(
          (reply) => write(req, res, answered, started, reply),
          () => handOn(req, res),
        );
      } else write(req, res, fast, started, pending);
    });
  }
}
