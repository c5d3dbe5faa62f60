import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, Logger } from './logging';
import { localizeProblem, preferredLanguage, type Language } from './messages';

/** RFC 9457 problem details; `errors` lists field-level problems of a 400. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/**
 * A refusal by a business rule. `rule` names the rule (it becomes the problem
 * type) so that a client can tell "held batch" from "no certificate" without
 * parsing prose.
 */
export class DomainError extends Error {
  constructor(
    public readonly status: number,
    public readonly rule: string,
    message: string,
    public readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** A pure rule's refusal (libs/trace-chain: Refusal, RuleRefusal) as the problem+json answer it names; `field` becomes `errors`. */
export const refusalError = (r: { status: number; rule: string; message: string; field?: string }): DomainError =>
  new DomainError(r.status, r.rule, r.message, r.field ? { errors: [{ field: r.field, message: r.message }] } : {});

export const conflict = (rule: string, message: string, ext?: Record<string, unknown>) => new DomainError(409, rule, message, ext);
export const notFound = (rule: string, message: string) => new DomainError(404, rule, message);
export const unprocessable = (rule: string, message: string, ext?: Record<string, unknown>) =>
  new DomainError(422, rule, message, ext);
export const forbidden = (rule: string, message: string) => new DomainError(403, rule, message);
export const badRequest = (rule: string, message: string, errors?: { field: string; message: string }[]) =>
  new DomainError(400, rule, message, errors ? { errors } : {});

/** The `title` of each status (English; messages.ts has the Chinese). */
export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

const TITLES = STATUS_TITLES;

export const problemType = (slug: string) => `https://problems.trace.dev/${slug}`;

/**
 * Flattens nested class-validator errors into `{ field, message }` with dotted
 * paths, one per field: the first failing rule as the DTO writes them (a
 * missing string is "must be a string", not also "must be shorter than 256
 * characters"). Decorators run bottom-up, so class-validator lists the rules
 * last-written first: the first rule is the last entry.
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const message = Object.values(e.constraints ?? {}).at(-1);
    if (message !== undefined) out.push({ field, message });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

class RequestValidationError extends BadRequestException {
  constructor(public readonly fieldErrors: { field: string; message: string }[]) {
    super('The request is not valid');
  }
}

/**
 * The one request validator: unknown fields are refused, not silently dropped,
 * and `forbidUnknownValues` closes class-validator's `__proto__` bypass.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}

/**
 * Answers a problem+json in the caller's language (Accept-Language, or the
 * language a route set for its own readers), with `instance` the request's
 * path: one way out for the exception filter and for the middlewares that
 * answer before Nest (body parser, media type, input guard).
 */
export function sendProblem(req: Request, res: Response, problem: ProblemDetails): void {
  // A route that speaks to readers of its own (the consumer scan: Chinese by default, ?lang=) sets its language first.
  const language = (res.locals?.problemLanguage as Language | undefined) ?? preferredLanguage(req.headers?.['accept-language']);
  const answer = localizeProblem(problem, language);
  answer.instance = req.originalUrl ?? req.url;
  if ((answer.status === 429 || answer.status === 503) && typeof answer.retryAfter === 'number') {
    res.setHeader('Retry-After', String(answer.retryAfter));
  }
  res.setHeader('Vary', 'Accept-Language');
  if (language === 'zh') res.setHeader('Content-Language', 'zh-CN');
  res.status(answer.status).type('application/problem+json').send(JSON.stringify(answer));
}

/** Maps every error to application/problem+json; only genuine faults become 5xx. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const problem = this.toProblem(exception);
    if (problem.status >= 500) {
      this.logger.error({ err: exception, path: req.url }, 'unhandled error');
    }
    if (res.headersSent) return;
    sendProblem(req, res, problem);
  }

  toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof RequestValidationError) {
      return {
        type: problemType('validation'),
        title: 'Bad Request',
        status: 400,
        detail: exception.fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'The request is not valid',
        errors: exception.fieldErrors,
      };
    }
    if (exception instanceof DomainError) {
      return {
        ...exception.extensions,
        type: problemType(exception.rule),
        title: TITLES[exception.status] ?? 'Error',
        status: exception.status,
        detail: exception.message,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail =
        typeof body === 'string'
          ? body
          : Array.isArray((body as { message?: unknown }).message)
            ? ((body as { message: string[] }).message).join('; ')
            : String((body as { message?: unknown }).message ?? exception.message);
      return { type: problemType(slugFor(status)), title: TITLES[status] ?? 'Error', status, detail };
    }
    // PostgreSQL rolled the request back because it met a concurrent one (a deadlock, a serialization
    // failure): nothing was written and the same request can succeed at once. Still logged as a 5xx: a
    // deadlock means two writers lock in different orders, which is a fault to mend.
    const code = (exception as { driverError?: { code?: unknown } })?.driverError?.code;
    if (code === '40P01' || code === '40001') {
      return {
        type: problemType('database-conflict'),
        title: TITLES[503] ?? 'Service Unavailable',
        status: 503,
        detail: 'The request met a concurrent one and was rolled back; nothing was written. Send it again.',
        retryAfter: 1,
      };
    }
    // body-parser errors (malformed JSON, too large, bad charset) carry a status.
    const e = exception as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = e?.status ?? e?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        type: problemType(e.type === 'entity.parse.failed' ? 'malformed-json' : slugFor(status)),
        title: TITLES[status] ?? 'Error',
        status,
        detail: e.type === 'entity.parse.failed' ? `The request body is not valid JSON: ${e.message}` : e.message,
      };
    }
    return {
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'An unexpected error occurred; it has been logged.',
    };
  }
}

function slugFor(status: number): string {
  return (TITLES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '-');
}
