import { applyDecorators, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { map } from 'rxjs';
import {
  CBV_XML_FORMATS,
  epcisDocumentFromXml,
  epcisQueryDocumentToXml,
  masterDataFromXml,
  negotiateVersion,
  TRACE_NS,
  TRACE_NS_PREFIX,
  withCbvFormat,
  withEpcFormat,
  companyPrefixesOf,
  EPC_FORMATS,
  type EpcFormat,
  type CbvXmlFormat,
  type EpcisEvent,
} from '@trace/epcis';
import { badRequest, DomainError } from '@trace/platform';
import type { XsdValidation } from './xsd-validation';

/** Headers every answer of the EPCIS REST binding carries, and the media types it answers in. */
export const EPCIS_VERSION = '2.0.0';
export const CBV_VERSION = '2.0.0';
/** What a capture reads besides 2.0: EPCIS 1.2 XML documents, with CBV 1.2 URNs. */
const CAPTURE_EPCIS_VERSIONS = [EPCIS_VERSION, '1.2.0'];
const CAPTURE_CBV_VERSIONS = [CBV_VERSION, '1.2.0'];
/**
 * GS1-Vendor-Version: the binding leaves the scheme to the vendor. This names the repository and the
 * version of its EPCIS interface (package.json's), so a partner can tell which build it talked to.
 */
export const VENDOR_VERSION = 'product-trace/0.1.0';
/**
 * How long a nextPageToken is honoured (GS1-Next-Page-Token-Expires): tokens are stateless keyset
 * positions that would stay meaningful forever, but a client paging a day later should query again
 * (what it sees may have changed, its permissions too).
 */
export const PAGE_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
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

const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);

/**
 * Version negotiation (the binding's GS1-EPCIS-Version / GS1-CBV-Version and their -Min/-Max): a
 * capture may name EPCIS/CBV 1.2 (1.2 XML is read), anything else only what answers are written in
 * (2.0). A version or range this repository cannot serve → 406 NotAcceptableException; a malformed
 * one → 400 `epcis-headers`.
 */
export function checkVersions(headers: Request['headers'], capture: boolean) {
  const verdicts = [
    negotiateVersion('GS1-EPCIS', { version: one(headers['gs1-epcis-version']), min: one(headers['gs1-epcis-min']), max: one(headers['gs1-epcis-max']) }, capture ? CAPTURE_EPCIS_VERSIONS : [EPCIS_VERSION]),
    negotiateVersion('GS1-CBV', { version: one(headers['gs1-cbv-version']), min: one(headers['gs1-cbv-min']), max: one(headers['gs1-cbv-max']) }, capture ? CAPTURE_CBV_VERSIONS : [CBV_VERSION]),
  ];
  const malformed = verdicts.flatMap((v) => (!v.ok && v.malformed ? [{ field: v.field, message: v.message }] : []));
  if (malformed.length) throw badRequest('epcis-headers', 'A GS1 request header is malformed', malformed);
  const refused = verdicts.flatMap((v) => (!v.ok ? [{ field: v.field, message: v.message }] : []));
  if (refused.length) {
    throw new DomainError(406, 'not-acceptable', `This EPCIS repository serves EPCIS ${EPCIS_VERSION} and CBV ${CBV_VERSION}${capture ? ' (and captures 1.2 documents)' : ''}`, {
      errors: refused,
      epcisException: 'epcisException:NotAcceptableException',
    });
  }
}

/** GS1-CBV-XML-Format: one of the binding's values (400 `epcis-headers` otherwise); No_Preference when absent. */
export function cbvXmlFormat(header: string | string[] | undefined): CbvXmlFormat {
  const v = one(header)?.trim();
  if (v === undefined || v === '') return 'No_Preference';
  if (!(CBV_XML_FORMATS as readonly string[]).includes(v)) {
    throw badRequest('epcis-headers', 'A GS1 request header is malformed', [{ field: 'GS1-CBV-XML-Format', message: `${v}: one of ${CBV_XML_FORMATS.join(', ')}` }]);
  }
  return v as CbvXmlFormat;
}

/** GS1-EPC-Format: one of the binding's values (400 `epcis-headers` otherwise); No_Preference when absent. */
export function epcFormat(header: string | string[] | undefined): EpcFormat {
  const v = one(header)?.trim();
  if (v === undefined || v === '') return 'No_Preference';
  if (!(EPC_FORMATS as readonly string[]).includes(v)) {
    throw badRequest('epcis-headers', 'A GS1 request header is malformed', [{ field: 'GS1-EPC-Format', message: `${v}: one of ${EPC_FORMATS.join(', ')}` }]);
  }
  return v as EpcFormat;
}

/**
 * The binding's request headers every EPCIS operation reads (OpenAPI). Answers carry GS1-EPCIS-Version,
 * GS1-CBV-Version, GS1-Extensions and GS1-Vendor-Version; XML query answers GS1-CBV-XML-Format (the
 * format applied); paged answers GS1-Next-Page-Token-Expires with their Link rel="next".
 */
export function ApiEpcisHeaders() {
  const version = (name: string, what: string) =>
    ApiHeader({ name, required: false, description: `${what} (digits separated by dots). Served: EPCIS/CBV 2.0.0; a capture also reads 1.2. Anything else → 406 NotAcceptableException; malformed → 400.`, schema: { type: 'string', pattern: '^\\d+(\\.\\d+)*$', example: '2.0.0' } });
  return applyDecorators(
    version('GS1-EPCIS-Version', 'The EPCIS version the client speaks or wants'),
    version('GS1-EPCIS-Min', 'The lowest EPCIS version the client accepts'),
    version('GS1-EPCIS-Max', 'The highest EPCIS version the client accepts'),
    version('GS1-CBV-Version', 'The CBV version the client speaks or wants'),
    version('GS1-CBV-Min', 'The lowest CBV version the client accepts'),
    version('GS1-CBV-Max', 'The highest CBV version the client accepts'),
    ApiHeader({
      name: 'GS1-CBV-XML-Format',
      required: false,
      description: 'XML query answers only: CBV values as URNs (Always_URN), Web URIs (Always_Web_URI) or as captured (Never_Translates; No_Preference, the default, is the same). JSON answers ignore it.',
      schema: { type: 'string', enum: [...CBV_XML_FORMATS] },
    }),
    ApiHeader({
      name: 'GS1-EPC-Format',
      required: false,
      description:
        'Query answers (JSON and XML): EPCs, EPC classes, readPoint/bizLocation, source and destination ids as GS1 Digital Links on id.gs1.org ' +
        '(Always_GS1_Digital_Link: every EPC URN with a Digital Link form) or as EPC URNs (Always_EPC_URN: a Digital Link is translated when ' +
        'the GS1 Company Prefix length is known, i.e. an EPC URN of the same answer names that prefix; otherwise it is kept as it is, as ' +
        'Never_Translates keeps every value). Absent or No_Preference: as captured (REST-recorded events as Digital Links). The answer\'s ' +
        'GS1-EPC-Format header names the format applied. Patterns (urn:epc:idpat), other schemes and extension or ILMD values are never translated.',
      schema: { type: 'string', enum: [...EPC_FORMATS] },
    }),
  );
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
    res.setHeader('GS1-Vendor-Version', VENDOR_VERSION);
    checkExtensions(req.headers['gs1-extensions']);
    const path = `${req.baseUrl}${req.path}`.replace(/\/+$/, '');
    checkVersions(req.headers, req.method === 'POST' && /\/v1\/epcis\/(capture|events)$/.test(path));
    const cbvFormat = cbvXmlFormat(req.headers['gs1-cbv-xml-format']);
    const epcsAs = epcFormat(req.headers['gs1-epc-format']);
    const accept = req.headers.accept;
    if (accept && !mediaTypes(accept).some((m) => isJson(m.type) || isXml(m.type))) {
      throw new DomainError(406, 'not-acceptable', `This EPCIS interface answers in application/json, application/ld+json or application/xml, not ${accept}`);
    }
    const xml = prefersXml(accept);
    return next.handle().pipe(
      map((answer: unknown) => {
        if (!answer || typeof answer !== 'object' || (answer as { type?: string }).type !== 'EPCISQueryDocument') return answer;
        // The format applied: the server's choice for No_Preference is to write EPCs as they were captured.
        res.setHeader('GS1-EPC-Format', epcsAs === 'No_Preference' ? 'Never_Translates' : epcsAs);
        const body = withEpcQueryFormat(answer as never, epcsAs);
        if (!xml) return body;
        res.setHeader('Content-Type', 'application/xml; charset=utf-8');
        // The format applied: the server's choice for No_Preference is to write values as they were captured.
        res.setHeader('GS1-CBV-XML-Format', cbvFormat === 'No_Preference' ? 'Never_Translates' : cbvFormat);
        return epcisQueryDocumentToXml(withCbvXmlFormat(body as never, cbvFormat));
      }),
    );
  }
}

type QueryAnswer = { epcisBody: { queryResults: { resultsBody: { eventList: EpcisEvent[] } } } };

/** A query answer's events with their EPCs as GS1-EPC-Format asks (company prefixes known from the answer's EPC URNs). */
function withEpcQueryFormat<D extends QueryAnswer>(doc: D, format: EpcFormat): D {
  if (format === 'No_Preference' || format === 'Never_Translates') return doc;
  const results = doc.epcisBody?.queryResults;
  const events = results?.resultsBody?.eventList;
  if (!Array.isArray(events)) return doc;
  const prefixes = format === 'Always_EPC_URN' ? companyPrefixesOf(events) : undefined;
  return {
    ...doc,
    epcisBody: { ...doc.epcisBody, queryResults: { ...results, resultsBody: { ...results.resultsBody, eventList: events.map((e) => withEpcFormat(e, format, prefixes)) } } },
  };
}

/** A query answer's events with their CBV values as GS1-CBV-XML-Format asks (XML answers only). */
function withCbvXmlFormat<D extends { epcisBody: { queryResults: { resultsBody: { eventList: EpcisEvent[] } } } }>(doc: D, format: CbvXmlFormat): D {
  if (format === 'No_Preference' || format === 'Never_Translates') return doc;
  const results = doc.epcisBody.queryResults;
  return {
    ...doc,
    epcisBody: { ...doc.epcisBody, queryResults: { ...results, resultsBody: { ...results.resultsBody, eventList: results.resultsBody.eventList.map((e) => withCbvFormat(e, format)) } } },
  };
}

/**
 * The next page as `Link: <…>; rel="next"`, its token valid until the GS1-Next-Page-Token-Expires
 * given with it: the service's token with its expiry (base 36 seconds) after a `~`, a character
 * base64url never holds. `openPageToken` takes it apart again.
 */
export function pageLink(req: Request, res: Response, params: Record<string, string | string[]>, nextPageToken: string | undefined, now = Date.now()) {
  if (!nextPageToken) return;
  const expires = new Date(Math.floor((now + PAGE_TOKEN_TTL_MS) / 1000) * 1000);
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (k !== 'nextPageToken') for (const x of Array.isArray(v) ? v : [v]) next.append(k, x);
  next.set('nextPageToken', `${nextPageToken}~${(expires.getTime() / 1000).toString(36)}`);
  res.setHeader('Link', `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
  res.setHeader('GS1-Next-Page-Token-Expires', expires.toISOString().replace('.000Z', 'Z'));
}

/**
 * The parameters with the service's own page token, once its expiry is checked: an expired token is a
 * 400 naming nextPageToken (QueryParameterException). A token without an expiry goes to the service as
 * it is, which tells whether it issued it.
 */
export function openPageToken<P extends Record<string, string | string[]>>(params: P, now = Date.now()): P {
  const token = params.nextPageToken;
  if (typeof token !== 'string') return params;
  const m = /^(.*)~([0-9a-z]{1,12})$/.exec(token);
  if (!m) return params;
  const expires = parseInt(m[2], 36) * 1000;
  if (expires <= now) {
    throw new DomainError(400, 'epcis-query', 'The query parameters are not valid', {
      errors: [{ field: 'nextPageToken', message: `expired at ${new Date(expires).toISOString()}: run the query again` }],
      epcisException: 'epcisException:QueryParameterException',
    });
  }
  return { ...params, nextPageToken: m[1] };
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
    // The header's master data (EPCISMasterData) in the JSON binding's place.
    const masterData = masterDataFromXml(xml);
    return masterData ? { ...document, epcisHeader: { epcisMasterData: masterData } } : document;
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
  res.setHeader('GS1-Vendor-Version', VENDOR_VERSION);
  // Events are given back as they were captured (URN or Digital Link); REST-recorded ones as Digital Links.
  res.setHeader('GS1-EPC-Format', 'No_Preference');
  if (capture) {
    res.setHeader('GS1-EPCIS-Capture-Limit', String(capture.limit));
    res.setHeader('GS1-EPCIS-Capture-File-Size-Limit', String(CAPTURE_FILE_SIZE_LIMIT));
    res.setHeader('GS1-Capture-Error-Behaviour', 'rollback, proceed');
  }
}
