import { getAiDefinition, validateAiValue } from './ai';
import { normalizeGtin } from './check-digit';
import { Gs1Error } from './errors';

/** A parsed GS1 Digital Link URI with AI (01) as primary key. */
export interface DigitalLink {
  /** GTIN-14, whatever length the URI carried. */
  gtin: string;
  /** AI (22) consumer product variant. */
  cpv?: string;
  /** AI (10) batch/lot. */
  lot?: string;
  /** AI (21) serial number. */
  serial?: string;
  /** Data-attribute AIs of the query string, e.g. { '17': '261231' }, values as given. */
  attributes: Record<string, string>;
  linkType?: string;
}

export interface DigitalLinkInput {
  gtin: string;
  cpv?: string;
  lot?: string;
  serial?: string;
  attributes?: Readonly<Record<string, string>>;
  linkType?: string;
}

/** Key qualifiers of AI (01), in the only order GS1 Digital Link allows. */
const GTIN_QUALIFIERS = [
  { ai: '22', field: 'cpv' },
  { ai: '10', field: 'lot' },
  { ai: '21', field: 'serial' },
] as const;

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new Gs1Error('dl.percent_encoding', `Malformed percent-encoding in "${raw}"`);
  }
}

/**
 * Percent-encodes every character outside A–Z a–z 0–9 - . _ , which is what
 * GS1 Digital Link requires of CSET 82 values (encodeURIComponent alone would
 * leave ! ' ( ) * as they are).
 */
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// link types are usually URIs or CURIEs (gs1:pip); ':' and '/' are legal in a query and keep them readable
const encodeLinkType = (value: string) => encodeValue(value).replace(/%3A/g, ':').replace(/%2F/g, '/');

const LINK_TYPE = /^[\x21-\x7e]+$/;

function checkAttribute(ai: string, value: string, attributes: Record<string, string>): void {
  const d = getAiDefinition(ai);
  if (!d) throw new Gs1Error('ai.unknown', `Unknown or unsupported AI (${ai}) in query string`, ai);
  if (d.role !== 'attribute') {
    throw new Gs1Error('dl.misplaced_ai', `AI (${ai}) is a key or key qualifier and belongs in the path`, ai);
  }
  if (Object.prototype.hasOwnProperty.call(attributes, ai)) {
    throw new Gs1Error('dl.duplicate', `AI (${ai}) appears more than once`, ai);
  }
  validateAiValue(ai, value);
}

function parseQuery(query: string, link: DigitalLink): void {
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new Gs1Error('dl.query', `Query parameter "${part}" has no value`);
    const key = decode(part.slice(0, eq));
    const value = decode(part.slice(eq + 1));
    if (key === 'linkType') {
      if (link.linkType !== undefined) throw new Gs1Error('dl.duplicate', 'linkType appears more than once');
      if (!LINK_TYPE.test(value)) throw new Gs1Error('dl.query', 'linkType must be non-empty printable ASCII');
      link.linkType = value;
    } else if (/^\d+$/.test(key)) {
      checkAttribute(key, value, link.attributes);
      link.attributes[key] = value;
    }
    // Other parameters are not GS1 data (the standard says to ignore them), so they are dropped.
  }
}

/**
 * Parses a GS1 Digital Link: a full http(s) URI or a path starting with
 * "/01/". The path must start with the primary key (no resolver path prefix),
 * which keeps "unknown AI in the path" detectable. Compressed URIs are not
 * supported.
 */
export function parseDigitalLink(pathOrUri: string): DigitalLink {
  if (typeof pathOrUri !== 'string') throw new Gs1Error('dl.uri', 'Digital Link must be a string');
  // The fragment is for the client only and carries no GS1 data.
  const hash = pathOrUri.indexOf('#');
  let rest = hash >= 0 ? pathOrUri.slice(0, hash) : pathOrUri;

  if (/^[a-z][a-z0-9+.-]*:/i.test(rest)) {
    // Parsed by hand rather than with URL, which would resolve "." and ".."
    // segments — both legal batch/serial values.
    const m = /^https?:\/\/([^/?#]*)(.*)$/is.exec(rest);
    if (!m) throw new Gs1Error('dl.uri', 'Digital Link URI must use http or https with a host');
    if (!/^[^\s@]+$/.test(m[1])) throw new Gs1Error('dl.uri', 'Digital Link URI has a malformed host');
    rest = m[2];
    if (!rest.startsWith('/')) throw new Gs1Error('dl.primary_key', 'Digital Link URI has no path with a primary key');
  } else if (!rest.startsWith('/')) {
    throw new Gs1Error('dl.uri', 'Expected an http(s) URI or a path starting with "/"');
  }

  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : '';

  const rawSegments = path.slice(1).split('/');
  if (rawSegments.some((s) => s === '')) {
    throw new Gs1Error('dl.empty_segment', 'Digital Link path has an empty segment (double or trailing "/")');
  }
  const segments = rawSegments.map(decode);

  if (segments[0] !== '01') {
    throw new Gs1Error('dl.primary_key', `Digital Link path must start with primary key AI (01), got "${segments[0]}"`);
  }
  if (segments.length < 2) throw new Gs1Error('dl.missing_value', 'AI (01) has no value', '01');
  const link: DigitalLink = { gtin: normalizeGtin(segments[1]), attributes: {} };

  let lastRank = -1;
  for (let i = 2; i < segments.length; i += 2) {
    const ai = segments[i];
    const rank = GTIN_QUALIFIERS.findIndex((qual) => qual.ai === ai);
    if (rank < 0) {
      if (!getAiDefinition(ai)) throw new Gs1Error('ai.unknown', `Unknown AI "${ai}" in path`, ai);
      throw new Gs1Error('dl.not_qualifier', `AI (${ai}) is not a key qualifier of AI (01); put it in the query`, ai);
    }
    const { field } = GTIN_QUALIFIERS[rank];
    if (link[field] !== undefined) throw new Gs1Error('dl.duplicate', `AI (${ai}) appears more than once`, ai);
    if (rank < lastRank) {
      throw new Gs1Error('dl.qualifier_order', 'Key qualifiers must appear in the order 22, 10, 21', ai);
    }
    if (i + 1 >= segments.length) throw new Gs1Error('dl.missing_value', `AI (${ai}) has no value`, ai);
    validateAiValue(ai, segments[i + 1]);
    link[field] = segments[i + 1];
    lastRank = rank;
  }

  parseQuery(query, link);
  return link;
}

/**
 * Builds "/01/<gtin14>[/22/<cpv>][/10/<lot>][/21/<serial>][?<attributes>&linkType=…]",
 * prefixed by `base` (an http(s) origin such as "https://id.example.com").
 */
export function formatDigitalLink(link: DigitalLinkInput, base = ''): string {
  const prefix = base.replace(/\/+$/, '');
  if (prefix !== '' && !/^https?:\/\/[^/?#\s@]+$/i.test(prefix)) {
    throw new Gs1Error('dl.base', 'Base must be an http(s) origin without path, query or fragment');
  }
  let out = `${prefix}/01/${normalizeGtin(link.gtin)}`;
  for (const { ai, field } of GTIN_QUALIFIERS) {
    const value = link[field];
    if (value === undefined) continue;
    validateAiValue(ai, value);
    out += `/${ai}/${encodeValue(value)}`;
  }

  const params: string[] = [];
  const seen: Record<string, string> = {};
  for (const [ai, value] of Object.entries(link.attributes ?? {})) {
    checkAttribute(ai, value, seen);
    seen[ai] = value;
    params.push(`${ai}=${encodeValue(value)}`);
  }
  if (link.linkType !== undefined) {
    if (!LINK_TYPE.test(link.linkType)) throw new Gs1Error('dl.query', 'linkType must be non-empty printable ASCII');
    params.push(`linkType=${encodeLinkType(link.linkType)}`);
  }
  return params.length ? `${out}?${params.join('&')}` : out;
}
