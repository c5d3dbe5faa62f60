import { createHash } from 'node:crypto';
import { parseLocationId, parseObjectId } from './identifiers';
import type { EpcisEvent } from './types';

/**
 * The EPCIS 2.0 event hash (`ni:///sha-256;<hex>?ver=CBV2.0`), after GS1's
 * "EPCIS Event Hash Generator" algorithm (github.com/RalphTro/epcis-event-hash-generator):
 * a pre-hash string of `name=value` pieces in a fixed property order, lists
 * sorted, times in UTC with milliseconds, numbers without trailing zeros,
 * CBV values and EPCs in their Web URI / Digital Link form, user extensions
 * expanded and sorted last; eventID, recordTime and errorDeclaration are left
 * out (an error declaration names the same event). Two captures of the same
 * event, in URN or Digital Link form, get the same id: the de-duplication key.
 *
 * It reproduces the reference generator's published hash for its single-event
 * example (see epcis.spec.ts). Compromise (libs/epcis/README.md): JSON-LD is
 * not expanded by a JSON-LD processor; namespace prefixes of extensions are
 * expanded from the document's own @context, which covers GS1's examples.
 */
type Order = [name: string, child?: string, sub?: Order][];

const QTY: Order = [['epcClass'], ['quantity'], ['uom']];
const PROP_ORDER: Order = [
  ['eventTime'],
  ['eventTimeZoneOffset'],
  ['certificationInfo'],
  ['parentID'],
  ['epcList', 'epc'],
  ['inputEPCList', 'epc'],
  ['childEPCs', 'epc'],
  ['quantityList', 'quantityElement', QTY],
  ['childQuantityList', 'quantityElement', QTY],
  ['inputQuantityList', 'quantityElement', QTY],
  ['outputEPCList', 'epc'],
  ['outputQuantityList', 'quantityElement', QTY],
  ['action'],
  ['transformationID'],
  ['bizStep'],
  ['disposition'],
  ['persistentDisposition', undefined, [['set'], ['unset']]],
  ['readPoint', undefined, [['id']]],
  ['bizLocation', undefined, [['id']]],
  ['bizTransactionList', 'bizTransaction', [['type'], ['bizTransaction']]],
  ['sourceList', 'source', [['type'], ['source']]],
  ['destinationList', 'destination', [['type'], ['destination']]],
  [
    'sensorElementList',
    'sensorElement',
    [
      ['sensorMetadata', undefined, ['time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules'].map((n) => [n] as [string])],
      [
        'sensorReport',
        'sensorReport',
        [
          'type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism', 'chemicalSubstance',
          'value', 'component', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'minValue', 'maxValue', 'meanValue', 'sDev',
          'percRank', 'percValue', 'uom', 'coordinateReferenceSystem',
        ].map((n) => [n] as [string]),
      ],
    ],
  ],
];

const IGNORED = new Set(['type', 'eventID', 'recordTime', 'errorDeclaration', '@context', '@type']);
const CBV = 'https://ref.gs1.org/cbv/';
const VOCAB_FIELDS: Record<string, string> = { bizStep: 'BizStep', disposition: 'Disp', set: 'Disp', unset: 'Disp', exception: 'SensorAlertType' };
const TYPED_LISTS: Record<string, string> = { bizTransactionList: 'BTT', sourceList: 'SDT', destinationList: 'SDT' };

export function epcisEventHash(event: EpcisEvent, context: Record<string, string> = {}): string {
  return `ni:///sha-256;${createHash('sha256').update(preHashString(event, context), 'utf8').digest('hex')}?ver=CBV2.0`;
}

export function preHashString(event: EpcisEvent, context: Record<string, string> = {}): string {
  const rest = { ...(event as Record<string, unknown>) };
  let out = `eventType=${event.type}`;
  out += ordered(rest, PROP_ORDER, '', context);
  for (const k of IGNORED) delete rest[k];
  // Our own transport extensions (trace:chain, trace:domain) are not part of the event.
  for (const k of Object.keys(rest)) if (k.startsWith('trace:')) delete rest[k];
  out += generic(rest, context);
  return out;
}

/** Consumes the properties named in `order` from `obj`, leaving user extensions behind. */
function ordered(obj: Record<string, unknown>, order: Order, parent: string, context: Record<string, string>): string {
  let out = '';
  for (const [name, child, sub] of order) {
    const value = obj[name];
    if (value === undefined || value === null) continue;
    delete obj[name];
    const values = Array.isArray(value) ? value : [value];
    if (child !== undefined) {
      // A list: "<list><child>…<child>…", children sorted.
      const parts = values.map((v) => piece(child, v, sub, name, context)).filter((s) => s !== '').sort();
      if (parts.length) out += name + parts.join('');
    } else {
      const parts = values.map((v) => piece(name, v, sub, parent, context)).filter((s) => s !== '').sort();
      out += parts.join('');
    }
  }
  return out;
}

function piece(name: string, value: unknown, sub: Order | undefined, list: string, context: Record<string, string>): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = { ...(value as Record<string, unknown>) };
    if (list in TYPED_LISTS && typeof obj[name] === 'string') {
      // bizTransaction/source/destination: the value, then its type.
      const type = typeof obj.type === 'string' ? `type=${vocab(obj.type, TYPED_LISTS[list])}` : '';
      return `${name}=${canon(name, obj[name] as string)}${type}`;
    }
    let inner = sub ? ordered(obj, sub, name, context) : '';
    // User extensions inside an element (a sensor report's, a readPoint's) follow its own properties, as the
    // reference generator appends them to their enclosing element.
    const extensions = Object.fromEntries(Object.entries(obj).filter(([k]) => k.includes(':') && !k.startsWith('@')));
    if (sub && Object.keys(extensions).length) inner += generic(extensions, context);
    return inner ? name + inner : '';
  }
  const text = String(value).trim();
  return text === '' ? '' : `${name}=${canon(name, text)}`;
}

function canon(name: string, text: string): string {
  if (/.Time$|^time$/i.test(name) && !/offset/i.test(name)) return utcMillis(text);
  if (name in VOCAB_FIELDS) return vocab(text, VOCAB_FIELDS[name]);
  if (typeof text === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return String(Number(text));
  if (['epc', 'parentID', 'epcClass'].includes(name)) {
    const ref = parseObjectId(text);
    return ref.key;
  }
  if (name === 'id' || name === 'source' || name === 'destination') {
    const loc = parseLocationId(text);
    return loc.gln ? loc.key : parseObjectId(text).key;
  }
  if (name === 'type' || name === 'uom' || name === 'deviceMetadata') return text.replace(/^gs1:/, 'https://gs1.org/voc/');
  return text;
}

/** CBV values: bare names, old URNs and Web URIs all become the Web URI. */
function vocab(text: string, kind: string): string {
  const urn = /^urn:epcglobal:cbv:(bizstep|disp|btt|sdt|er):(.+)$/.exec(text);
  if (urn) return `${CBV}${kind}-${urn[2]}`;
  if (/^[a-z_]+$/.test(text)) return `${CBV}${kind}-${text}`;
  return text;
}

/**
 * UTC with milliseconds. Finer fractions are rounded to the millisecond (the reference generator rounds the
 * microseconds, half to even), not truncated as Date would.
 */
function utcMillis(text: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$/.exec(text);
  if (!m || m[2].length <= 3) {
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? text : d.toISOString();
  }
  const base = new Date(`${m[1]}${m[3]}`);
  if (Number.isNaN(base.getTime())) return text;
  const micros = Number(m[2].slice(0, 6).padEnd(6, '0'));
  const ms = Math.floor(micros / 1000);
  const rest = micros % 1000;
  const rounded = rest > 500 || (rest === 500 && ms % 2 === 1) ? ms + 1 : ms;
  return new Date(base.getTime() + rounded).toISOString();
}

/** User extensions: prefix expanded, `name=value` or `name<children…>`, siblings sorted. */
function generic(obj: Record<string, unknown>, context: Record<string, string>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('@')) continue;
    const name = expand(k, context);
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item !== null && typeof item === 'object') parts.push(name + generic(item as Record<string, unknown>, context));
      else if (item !== undefined && item !== null && String(item).trim() !== '') parts.push(`${name}=${canon(k, String(item).trim())}`);
      else parts.push(name);
    }
  }
  return parts.sort().join('');
}

/** An extension's name as the reference generator writes it: `{namespace}localName`. */
function expand(key: string, context: Record<string, string>): string {
  const i = key.indexOf(':');
  if (i <= 0) return key;
  const ns = context[key.slice(0, i)];
  return ns ? `{${ns}}${key.slice(i + 1)}` : key;
}

/** Namespace prefixes a document declares in its @context (`{"example": "http://…/"}` entries). */
export function contextPrefixes(context: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of Array.isArray(context) ? context : [context]) {
    if (c && typeof c === 'object') {
      for (const [k, v] of Object.entries(c as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
    }
  }
  return out;
}
