import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from '@trace/platform';

/** Headers every answer of the EPCIS REST binding carries, and the media types it answers in. */
export const EPCIS_VERSION = '2.0.0';
export const CBV_VERSION = '2.0.0';
const ANSWERABLE = ['application/json', 'application/ld+json', 'application/*', '*/*'];

/**
 * GS1-EPCIS-Version / GS1-CBV-Version on every answer (refusals included, set before the handler), and
 * 406 when the client accepts none of the JSON types this binding answers in.
 */
@Injectable()
export class EpcisHeadersInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler) {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    res.setHeader('GS1-EPCIS-Version', EPCIS_VERSION);
    res.setHeader('GS1-CBV-Version', CBV_VERSION);
    const accept = req.headers.accept;
    if (accept && !accept.split(',').some((a) => ANSWERABLE.includes(a.split(';')[0].trim().toLowerCase()) || /\+json$/i.test(a.split(';')[0].trim()))) {
      throw new DomainError(406, 'not-acceptable', `This EPCIS interface answers in application/json or application/ld+json, not ${accept}`);
    }
    return next.handle();
  }
}

export function pageLink(req: Request, res: Response, params: Record<string, string | string[]>, nextPageToken: string | undefined) {
  if (!nextPageToken) return;
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (k !== 'nextPageToken') for (const x of Array.isArray(v) ? v : [v]) next.append(k, x);
  next.set('nextPageToken', nextPageToken);
  res.setHeader('Link', `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
}

/** A body this binding reads is JSON (the REST binding's 415 otherwise). */
export function requireJson(req: Request) {
  if (req.is(['application/json', 'application/*+json']) === false || !req.headers['content-type']) {
    throw new DomainError(415, 'unsupported-media-type', `EPCIS capture takes application/json or application/ld+json, not ${req.headers['content-type'] ?? 'an untyped body'}`);
  }
}


/** GS1-EPCIS-Capture-File-Size-Limit: the JSON body parser's limit (libs/platform bootstrap, 20 MiB). */
export const CAPTURE_FILE_SIZE_LIMIT = 20 * 1024 * 1024;

/**
 * The REST binding's OPTIONS discovery: the methods of the resource, the EPCIS and CBV versions, and for
 * capture resources what may be sent (events per capture, bytes, error behaviours).
 */
export function discover(res: Response, allow: string[], capture?: { limit: number }) {
  res.setHeader('Allow', ['OPTIONS', ...allow].join(', '));
  res.setHeader('GS1-EPCIS-Version', EPCIS_VERSION);
  res.setHeader('GS1-EPCIS-Min', EPCIS_VERSION);
  res.setHeader('GS1-EPCIS-Max', EPCIS_VERSION);
  res.setHeader('GS1-CBV-Version', CBV_VERSION);
  res.setHeader('GS1-CBV-Min', CBV_VERSION);
  res.setHeader('GS1-CBV-Max', CBV_VERSION);
  // Events are given back as they were captured (URN or Digital Link); REST-recorded ones as Digital Links.
  res.setHeader('GS1-EPC-Format', 'No_Preference');
  if (capture) {
    res.setHeader('GS1-EPCIS-Capture-Limit', String(capture.limit));
    res.setHeader('GS1-EPCIS-Capture-File-Size-Limit', String(CAPTURE_FILE_SIZE_LIMIT));
    res.setHeader('GS1-Capture-Error-Behaviour', 'rollback, proceed');
  }
}
