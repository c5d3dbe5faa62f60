import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { sanitizeCorrelationId } from './context';
import { requestLogger, type Logger } from './logging';
import type { Metrics } from './metrics';

/** A complete answer, bytes ready: the platform adds the correlation id and CORS and writes it. */
export interface FastReply {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * A route answered ahead of the general middleware chain (body parsing,
 * request context, guards, pipes, Nest's router): the hot, anonymous,
 * read-only answers whose bytes are known in advance — a cached consumer scan,
 * /health/live. The security headers come first all the same; the platform
 * adds the correlation id, CORS, the request line and the metrics.
 */
export interface FastAnswer {
  /** The metrics' route label (the controller's route, so both paths count as one). */
  readonly route: string;
  /** A cheap test on the method and raw URL: whether to ask `answer` at all. */
  matches(method: string, url: string): boolean;
  /** The reply, or undefined having changed nothing: the app then answers as usual (a miss, anything unusual). */
  answer(req: Request): FastReply | undefined | Promise<FastReply | undefined>;
}

const LIVE: FastAnswer = {
  route: '/health/live',
  matches: (method, url) => method === 'GET' && url === '/health/live',
  answer: () => ({ status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: LIVE_BODY }),
};
const LIVE_BODY = Buffer.from(JSON.stringify({ status: 'ok' }));

/** The fast answers of this process (modules add theirs at start-up); /health/live is always one. */
export class FastAnswers {
  private readonly answers: FastAnswer[] = [LIVE];

  add(answer: FastAnswer): void {
    this.answers.push(answer);
  }

  /** The Express middleware that answers them; every other request goes on untouched. */
  middleware(logger: Logger, metrics: Metrics) {
    const requests = requestLogger(logger);
    return (req: Request, res: Response, next: NextFunction) => {
      const fast = this.answers.find((a) => a.matches(req.method, req.url));
      if (!fast) return next();
      const started = process.hrtime.bigint();
      let pending: FastReply | undefined | Promise<FastReply | undefined>;
      try {
        pending = fast.answer(req);
      } catch (err) {
        return next(err);
      }
      const write = (reply: FastReply | undefined) => {
        if (!reply) return next();
        const correlationId = sanitizeCorrelationId(req.headers['x-correlation-id']) ?? randomUUID();
        res.writeHead(reply.status, {
          ...reply.headers,
          'Access-Control-Allow-Origin': '*',
          'X-Correlation-Id': correlationId,
          'Content-Length': String(reply.body?.length ?? 0),
        });
        res.end(reply.status === 304 ? undefined : reply.body);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpDuration.observe({ method: req.method, route: fast.route, status: String(reply.status) }, seconds);
        requests.info({ correlationId, method: req.method, url: req.originalUrl, status: reply.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
      };
      if (pending instanceof Promise) pending.then(write, () => next());
      else write(pending);
    };
  }
}
