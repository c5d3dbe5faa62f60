import { declarePathParameters } from './openapi-paths';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { PlatformConfig } from './config';
import { RequestContext, sanitizeCorrelationId } from './context';
import { FastAnswers } from './fast-answers';
import { PinoNestLogger, requestLogger, type Logger } from './logging';
import { hostileInputGuard } from './input-guard';
import { Metrics } from './metrics';
import { docsForAdminsOnly, securityHeaders } from './security-headers';
import { TOKEN_REVOCATIONS, TOKEN_SERVICE } from './auth';
import { createValidationPipe, ProblemDetailsFilter, problemType, sendProblem } from './problem';
import { API_DESCRIPTION, withoutAuthorizationParameters } from './openapi-docs';
import { uploadBody, uploadOf } from './upload-body';
import { isXmlBody, xmlBody } from './xml-body';

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'A retry with the same key, caller and body returns the first answer (same status and body; Idempotent-Replayed: true) and ' +
    'writes nothing more; the same key with another body is a 422 idempotency-key-reused. Keys are kept 24 hours.',
  schema: { type: 'string' as const, minLength: 1, maxLength: 200, pattern: '^[\\x20-\\x7e]{1,200}$' },
};

export interface HttpAppOptions {
  config: PlatformConfig;
  logger: Logger;
  title: string;
  /** Express middleware that must see requests before anything else (e.g. the gateway's proxy). */
  preMiddleware?: RequestHandler[];
  /** Let Nest close the app on SIGINT/SIGTERM (off when the caller must stop more than the app). */
  shutdownHooks?: boolean;
}

/**
 * The correlation id (the caller's, or a new one; answered in X-Correlation-Id),
 * the request's log line when the answer is finished, and the async context
 * (RequestContext) that the rest of the request runs in.
 */
export function correlationAndRequestLog(logger: Logger): RequestHandler {
  const requests = requestLogger(logger);
  return (req: Request, res: Response, next: NextFunction) => {
    const correlationId = sanitizeCorrelationId(req.headers['x-correlation-id']) ?? randomUUID();
    res.setHeader('X-Correlation-Id', correlationId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { correlationId, method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10 };
      // A failure's line is written at once; the others are batched (see requestLogger).
      if (res.statusCode >= 500) logger.error(line, 'request');
      else requests.info(line, 'request');
    });
    RequestContext.run({ correlationId }, next);
  };
}

/**
 * Builds a Nest HTTP app with everything the public contract promises on any
 * port: JSON bodies, correlation ids, request logs, metrics, validation,
 * problem+json errors and the OpenAPI document.
 */
export async function createHttpApp(rootModule: unknown, opts: HttpAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule as never, {
    logger: new PinoNestLogger(opts.logger),
    bodyParser: false,
    abortOnError: false,
  });
  const metrics = app.get(Metrics);
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  // Before anything else, so that every answer carries them (proxied, refused or failed alike).
  // The answers whose bytes are ready (a cached scan, /health/live) go out before Express sees the request.
  app.get(FastAnswers).attach(app.getHttpServer(), opts.logger, metrics);
  app.use(securityHeaders());
  for (const mw of opts.preMiddleware ?? []) app.use(mw);
  app.use(
    express.json({
      limit: '20mb',
      type: ['application/json', 'application/*+json'],
      // No reviver: prototype-polluting keys are refused by hostileInputGuard's walk (a reviver is a
      // JavaScript call per value, several times the parse itself on a large capture).
    }),
  );
  // The one exception to JSON: a bulk import's CSV or XLSX file (req.upload).
  app.use(uploadBody());
  // And EPCIS capture's XML binding (req.body as text).
  app.use(xmlBody());
  // Every body this API takes is JSON: another type would reach validation as
  // no body at all ("name must not be blank"); say what is wrong instead.
  app.use((req: Request, res: Response, next: NextFunction) => {
    // An empty body (`Content-Length: 0`, as clients send on a POST without one) has no type to check.
    const hasContent = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasContent || req.is(['application/json', 'application/*+json']) || uploadOf(req) || isXmlBody(req)) return next();
    sendProblem(req, res, {
      type: problemType('unsupported-media-type'),
      title: 'Unsupported Media Type',
      status: 415,
      detail: `The request body must be JSON (Content-Type: application/json), not ${req.headers['content-type'] ?? 'untyped'}`,
    });
  });
  // Body-parser failures answer here, as problem+json naming what was wrong
  // with the body; Nest would flatten them into a generic 400.
  const problems = new ProblemDetailsFilter(opts.logger);
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: number })?.status;
    if (typeof status !== 'number' || status < 400 || status >= 500) return next(err);
    sendProblem(req, res, problems.toProblem(err));
  });
  // After the body parser: the async context set here then covers the handler.
  app.use(correlationAndRequestLog(opts.logger));
  app.use(metrics.httpMiddleware());
  // NUL, lone surrogates, overlong strings: refused here for every route, before any guard or handler.
  app.use(hostileInputGuard());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(problems);
  if (opts.shutdownHooks !== false) app.enableShutdownHooks();
  app.enableCors({ origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'], allowedHeaders: ['Accept', 'Content-Type'], preflightContinue: true });
  // A CORS preflight ends here; any other OPTIONS (the EPCIS REST binding's discovery) goes on to the routes.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return next();
    res.status(204).setHeader('Content-Length', '0');
    res.end();
  });

  if (opts.config.OPENAPI_ENABLED) {
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(opts.title)
        .setDescription(API_DESCRIPTION)
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    declarePathParameters(doc);
    withoutAuthorizationParameters(doc);
    for (const operations of Object.values(doc.paths)) {
      if (operations.post) operations.post.parameters = [...(operations.post.parameters ?? []), IDEMPOTENCY_KEY_PARAMETER];
    }
    if (!opts.config.DOCS_PUBLIC) app.use(docsForAdminsOnly(app.get(TOKEN_SERVICE), app.get(TOKEN_REVOCATIONS)));
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}
