import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { map } from 'rxjs';
import { epcisDocumentFromXml, epcisQueryDocumentToXml, TRACE_NS, TRACE_NS_PREFIX } from '@trace/epcis';
import { badRequest, DomainError } from '@trace/platform';
import type { XsdValidation } from './xsd-validation';

/** Headers every answer of the EPCIS REST binding carries, and the media types it answers in. */
export const EPCIS_VERSION = '2.0.0';
export const CBV_VERSION = '2.0.0';
const ANSWERABLE = ['application/json', 'application/ld+json', 'application/*', '*/*'];
/** The XML binding's media types (EPCIS 2.0 XML). */
export const XML_TYPES = ['application/xml', 'text/xml'];

/**
 * GS1-Extensions: the extensions this repository implements, as `prefix=namespace`. Only its own
 * (`trace:`, the chain fields of its exports); a partner's extension fields need no header: they are
 * kept, given back and queryable by CURIE as data, whatever their namespace.
 */
export const EXTENSIONS: Record<string, string> = { [TRACE_NS_PREFIX]: TRACE_NS };
export const EXTENSIONS_HEADER = Object.entries(EXTENSIONS).map(([prefix, ns]) => `${prefix}=${ns}`).join(', ');

/**
 * The extensions a client requires (its GS1-Extensions header, `prefix=namespace`, comma-separated):
 * 400 when an entry is not `prefix=absolute IRI`, 406 NotAcceptableException (the binding's answer to
 * headers it cannot satisfy) naming each namespace this repository does not implement. Namespaces are
 * compared, not prefixes: a prefix is the client's own name for one.
 */
export function checkExtensions(header: string | string[] | undefined) {
  if (header === undefined) return;
  const entries = (Array.isArray(header) ? header.join(',') : header).split(',').map((e) => e.trim()).filter(Boolean);
  const supported = new Set(Object.values(EXTENSIONS));
  const malformed: { field: string; message: string }[] = [];
  const unsupported: { field: string; message: string }[] = [];
  for (const entry of entries) {
    const m = /^([A-Za-z_][\w.-]*)\s*=\s*(\S+)$/.exec(entry);
    if (!m || !URL.canParse(m[2])) malformed.push({ field: 'GS1-Extensions', message: `${entry}: not prefix=namespace IRI` });
    else if (!supported.has(m[2])) unsupported.push({ field: 'GS1-Extensions', message: `${m[2]} (${m[1]}) is not an extension this repository implements` });
  }
  if (malformed.length) throw badRequest('epcis-extensions', 'GS1-Extensions lists prefix=namespace pairs', malformed);
  if (unsupported.length) {
    throw new DomainError(406, 'not-acceptable', `This EPCIS repository implements the extensions ${EXTENSIONS_HEADER} only`, {
      errors: unsupported,
      epcisException: 'epcisException:NotAcceptableException',
    });
  }
}

const mediaTypes = (accept: string) =>
  accept
    .split(',')
    .map((a) => {
      const [type, ...params] = a.split(';').map((x) => x.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((m) => m.type && !(m.q <= 0));
const isJson = (t: string) => ANSWERABLE.includes(t) || /\+json$/.test(t);
const isXml = (t: string) => XML_TYPES.includes(t) || /\+xml$/.test(t);

/** Whether the client asks for the XML binding: an XML type ranked above any JSON type it accepts. */
export function prefersXml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranked = mediaTypes(accept).sort((a, b) => b.q - a.q);
  const first = ranked.find((m) => isJson(m.type) || isXml(m.type));
  return !!first && isXml(first.type);
}

/**
 * GS1-EPCIS-Version / GS1-CBV-Version / GS1-Extensions on every answer (refusals included, set before the
 * handler), and 406 when the client accepts none of the types this binding answers in or requires an
 * extension this repository does not implement. A client preferring XML
 * (`Accept: application/xml`) gets query answers (EPCISQueryDocuments) in the EPCIS 2.0 XML binding;
 * other answers (capture jobs, collections, named queries) are JSON.
 */
@Injectable()
export class EpcisHeadersInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler) {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    res.setHeader('GS1-EPCIS-Version', EPCIS_VERSION);
    res.setHeader('GS1-CBV-Version', CBV_VERSION);
    res.setHeader('GS1-Extensions', EXTENSIONS_HEADER);
    checkExtensions(req.headers['gs1-extensions']);
    const accept = req.headers.accept;
    if (accept && !mediaTypes(accept).some((m) => isJson(m.type) || isXml(m.type))) {
      throw new DomainError(406, 'not-acceptable', `This EPCIS interface answers in application/json, application/ld+json or application/xml, not ${accept}`);
    }
    const xml = prefersXml(accept);
    return next.handle().pipe(
      map((body: unknown) => {
        if (!xml || !body || typeof body !== 'object' || (body as { type?: string }).type !== 'EPCISQueryDocument') return body;
        res.setHeader('Content-Type', 'application/xml; charset=utf-8');
        return epcisQueryDocumentToXml(body as never);
      }),
    );
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

/**
 * A capture body: JSON as it is, or an EPCIS 2.0 / 1.2 XML document (read as text by the platform's
 * xmlBody), validated against GS1's XSD for its namespace and mapped into its JSON binding (400 when
 * it is not well-formed, not an EPCIS document or not valid); 415 for any other type.
 */
export async function captureBody(req: Request, body: unknown, xsd: XsdValidation): Promise<unknown> {
  if (req.headers['content-type'] && req.is([...XML_TYPES, 'application/*+xml'])) {
    const xml = typeof body === 'string' ? body : '';
    const { document, errors, namespace } = epcisDocumentFromXml(xml);
    if (!document) throw badRequest('epcis-document', 'The body is not an EPCIS XML document', errors);
    const invalid = await xsd.validate(xml, namespace ?? '');
    if (invalid.length) {
      throw badRequest('epcis-schema', `The document does not validate against GS1's EPCIS XSD (${invalid.length} error(s) shown)`, invalid.slice(0, 100));
    }
    return document;
  }
  if (req.is(['application/json', 'application/*+json']) === false || !req.headers['content-type']) {
    throw new DomainError(
      415,
      'unsupported-media-type',
      `EPCIS capture takes application/json, application/ld+json or application/xml, not ${req.headers['content-type'] ?? 'an untyped body'}`,
    );
  }
  return body;
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
  res.setHeader('GS1-Extensions', EXTENSIONS_HEADER);
  // Events are given back as they were captured (URN or Digital Link); REST-recorded ones as Digital Links.
  res.setHeader('GS1-EPC-Format', 'No_Preference');
  if (capture) {
    res.setHeader('GS1-EPCIS-Capture-Limit', String(capture.limit));
    res.setHeader('GS1-EPCIS-Capture-File-Size-Limit', String(CAPTURE_FILE_SIZE_LIMIT));
    res.setHeader('GS1-Capture-Error-Behaviour', 'rollback, proceed');
  }
}
