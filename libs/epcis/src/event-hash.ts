import { hash } from 'node:crypto';
import { hashCanonicalIdentifier } from './hash-identifiers';
import type { EpcisEvent } from './types';

/**
 * The CBV 2.0 event hash ID (`ni:///sha-256;<hex>?ver=CBV2.0`): SHA-256 of a canonical pre-hash
 * string, so that two repositories holding the same event, in URN or Digital Link form, with
 * bare or full CBV values, name it alike. It reproduces GS1's reference generator
 * (RalphTro/epcis-event-hash-generator, its CBV 2.0 profile), checked on its published cases
 * (tests/fixtures/epcis/event-hash, event-hash.spec.ts). The pre-hash string is:
 *
 * - `eventType=<type>`, then the standard fields in the CBV property order (below), each
 *   `name=value` or `name<children…>`; repeated values (epcs, quantity elements, sensor reports,
 *   bizTransactions…) sorted as strings; a bizTransaction, source or destination is
 *   `type=<type><name>=<value>`; the `sensorElementList` wrapper itself is not written;
 * - times (eventTime and every field named …time) in UTC at milliseconds, excess digits rounded
 *   half up; numbers without leading `+`, leading or trailing zeros; CBV values as Web URIs
 *   (bare names, `cbv:`/`gs1:` CURIEs and old URNs alike); GS1 keys as canonical Digital Links;
 * - then the ILMD, then user extensions found inside standard fields (a readPoint's, a sensor
 *   report's, a sensorElement's: the path of field names, then the extensions), then the event's
 *   own user extensions; extension names as `{namespace}localName`, siblings sorted;
 * - left out: eventID, recordTime, errorDeclaration (an error declaration names the same event),
 *   certificationInfo (not in the CBV 2.0 property order), comments, and our own `trace:` fields.
 *
 * What the reference does through a JSON-LD processor (expanding bare vocabulary values) is done
 * here for the fields the EPCIS context types as vocabulary; see libs/epcis/README.md.
 */
interface Node {
  name: string;
  text: string;
  children: Node[];
  /** bizTransaction / source / destination: `type` then value, written together. */
  pair?: boolean;
}

type Order = [name: string, sub?: Order | 'pairs'][];
const QTY: Order = [['epcClass'], ['quantity'], ['uom']];
const names = (...n: string[]): Order => n.map((x) => [x]);
const PROP_ORDER: Order = [
  ['eventTime'],
  ['eventTimeZoneOffset'],
  ['epcList', [['epc']]],
  ['parentID'],
  ['inputEPCList', [['epc']]],
  ['childEPCs', [['epc']]],
  ['quantityList', [['quantityElement', QTY]]],
  ['childQuantityList', [['quantityElement', QTY]]],
  ['inputQuantityList', [['quantityElement', QTY]]],
  ['outputEPCList', [['epc']]],
  ['outputQuantityList', [['quantityElement', QTY]]],
  ['action'],
  ['transformationID'],
  ['bizStep'],
  ['disposition'],
  ['persistentDisposition', [['set'], ['unset']]],
  ['readPoint', [['id']]],
  ['bizLocation', [['id']]],
  ['bizTransactionList', 'pairs'],
  ['sourceList', 'pairs'],
  ['destinationList', 'pairs'],
  [
    'sensorElementList',
    [
      [
        'sensorElement',
        [
          ['sensorMetadata', names('time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules')],
          [
            'sensorReport',
            names(
              'type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism', 'chemicalSubstance',
              'value', 'component', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'minValue', 'maxValue', 'meanValue', 'sDev',
              'percRank', 'percValue', 'uom', 'coordinateReferenceSystem',
            ),
          ],
        ],
      ],
    ],
  ],
];
const IGNORED_AT_EVENT = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration', 'certificationInfo']);
const IGNORED_KEYS = new Set(['#text', 'rdfs:comment', 'comment']);
const TYPED_LISTS: Record<string, string> = { bizTransactionList: 'bizTransaction', sourceList: 'source', destinationList: 'destination' };

/** Prefixes the EPCIS context defines, as the reference resolves them; a document's own @context entries win (but `gs1`). */
const WELL_KNOWN: Record<string, string> = {
  gs1: 'https://ref.gs1.org/voc/',
  cbv: 'https://ref.gs1.org/cbv/',
  epcis: 'https://ref.gs1.org/epcis/',
  cbvmda: 'urn:epcglobal:cbv:mda',
};
const CBV = 'https://ref.gs1.org/cbv/';
const VOC = 'https://ref.gs1.org/voc/';

export function epcisEventHash(event: EpcisEvent, context: Record<string, string> = {}): string {
  return `ni:///sha-256;${hash('sha256', preHashString(event, context), 'hex')}?ver=CBV2.0`;
}

/** The prefixes of each context object: a captured document hashes thousands of events with one. */
const prefixesOf = new WeakMap<Record<string, string>, Record<string, string>>();

export function preHashString(event: EpcisEvent, context: Record<string, string> = {}): string {
  let prefixes = prefixesOf.get(context);
  if (!prefixes) {
    prefixes = { ...WELL_KNOWN, ...context, gs1: WELL_KNOWN.gs1 };
    prefixesOf.set(context, prefixes);
  }
  // Nothing below changes the event: it is copied only to leave out our own fields and its @context.
  const keys = Object.keys(event);
  const own = keys.some((k) => k.startsWith('trace:') || k === '@context')
    ? Object.fromEntries(Object.entries(event as Record<string, unknown>).filter(([k]) => !k.startsWith('trace:') && k !== '@context'))
    : (event as Record<string, unknown>);
  const expanded = expandBareVocabulary(own, prefixes);
  const root = correct(toNode(expanded, prefixes));
  const children = root.children;
  const standard = inOrder(children, PROP_ORDER);

  const ilmd = children.filter((c) => c.name === 'ilmd');
  remove(children, ilmd);
  const fieldExtensions: string[] = [];
  for (const [name, sub] of PROP_ORDER) {
    if (!sub || sub === 'pairs') continue;
    for (const child of children.filter((c) => c.name === name)) {
      const inner = extensionsWithin(child.children, sub);
      if (!inner) continue;
      fieldExtensions.push((name === 'sensorElementList' ? '' : name) + inner);
      remove(children, [child]);
    }
  }
  const rest = generic(children.filter((c) => !IGNORED_AT_EVENT.has(c.name)));
  return `eventType=${root.name}${standard}${generic(ilmd)}${fieldExtensions.join('')}${rest}`;
}

// ---- JSON → the reference's (name, text, children) model ---------------------------------------

function toNode(value: unknown, prefixes: Record<string, string>): Node {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    return objectNode(typeof obj.type === 'string' ? obj.type : '', obj, prefixes);
  }
  return named('', value, prefixes);
}

/**
 * A value as a child called `name` (an object's own type gives way to the key it is under; each element of
 * a list under a key is a child of that name). Built where it goes, not built and then copied under its name.
 */
function named(name: string, value: unknown, prefixes: Record<string, string>): Node {
  if (Array.isArray(value)) return { name, text: '', children: value.map((v) => toNode(v, prefixes)) };
  if (value !== null && typeof value === 'object') return objectNode(name, value as Record<string, unknown>, prefixes);
  if (typeof value === 'boolean') return { name, text: value ? 'true' : 'false', children: [] };
  if (value === null || value === undefined) return { name, text: 'None', children: [] };
  return { name, text: expandValue(String(value), prefixes), children: [] };
}

function objectNode(name: string, obj: Record<string, unknown>, prefixes: Record<string, string>): Node {
  const node: Node = { name, text: typeof obj['#text'] === 'string' ? obj['#text'] : '', children: [] };
  for (const rawKey of Object.keys(obj)) {
    if (IGNORED_KEYS.has(rawKey) || rawKey.startsWith('@')) continue;
    const v = obj[rawKey];
    const key = expandKey(rawKey, prefixes);
    if (Array.isArray(v)) for (const el of v) node.children.push(named(key, el, prefixes));
    else node.children.push(named(key, v, prefixes));
  }
  // Kept in document order where the value must follow its type; sorted elsewhere, as the reference does.
  if (!('bizTransaction' in obj || 'source' in obj || 'destination' in obj)) node.children.sort(compareNodes);
  return node;
}

/** `prefix:local` → `{namespace}local` for a known prefix. */
function expandKey(key: string, prefixes: Record<string, string>): string {
  const i = key.indexOf(':');
  if (i < 0) return key;
  const ns = prefixes[key.slice(0, i)];
  return ns === undefined ? key : `{${ns}}${key.slice(i + 1)}`;
}

/** Values: only GS1's own vocabulary CURIEs (`gs1:`, `cbv:`) are expanded; user ones (`example:x`) stay as written. */
function expandValue(text: string, prefixes: Record<string, string>): string {
  const i = text.indexOf(':');
  if (i < 0) return text;
  const ns = prefixes[text.slice(0, i)];
  if (ns !== undefined && (ns.startsWith('https://ref.gs1.org') || ns.startsWith('https://gs1.org'))) return ns + text.slice(i + 1);
  return text;
}

/** Python's tuple order on (name, text, children), which the reference sorts siblings by. */
function compareNodes(a: Node, b: Node): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.text !== b.text) return a.text < b.text ? -1 : 1;
  for (let i = 0; i < Math.min(a.children.length, b.children.length); i++) {
    const c = compareNodes(a.children[i], b.children[i]);
    if (c !== 0) return c;
  }
  return a.children.length - b.children.length;
}

/** The JSON binding names things differently from the XML one the property order is written for. */
function correct(node: Node): Node {
  const kept: Node[] = [];
  const lists = new Map<string, Node[]>();
  const childEpcs: Node[] = [];
  for (const c of node.children) {
    if (c.name.endsWith('List')) {
      const elements = lists.get(c.name) ?? [];
      elements.push({ name: c.name.slice(0, -4), text: c.text, children: c.children });
      lists.set(c.name, elements);
    } else if (c.name === 'childEPCs') childEpcs.push({ name: 'epc', text: c.text, children: [] });
    else kept.push(c);
  }
  const out: Node[] = kept.map(correct);
  for (const [name, elements] of lists) {
    if (name in TYPED_LISTS) out.push({ name, text: '', children: elements.map((e) => typedPair(e, TYPED_LISTS[name])) });
    else out.push(correct({ name, text: '', children: elements }));
  }
  if (childEpcs.length) out.push({ name: 'childEPCs', text: '', children: childEpcs });
  let name = node.name;
  if (name === 'inputEPC' || name === 'outputEPC') name = 'epc';
  if (['inputQuantity', 'outputQuantity', 'childQuantity'].includes(name) || (name === 'quantity' && out.length > 0)) name = 'quantityElement';
  return { name, text: node.text, children: out };
}

function typedPair(element: Node, valueName: string): Node {
  const type = element.children.find((c) => c.name === 'type');
  const value = element.children.find((c) => c.name === valueName);
  return { name: '', text: '', pair: true, children: [type, value].filter((c): c is Node => c !== undefined) };
}

// ---- the pre-hash string ------------------------------------------------------------------------

/**
 * Writes the children named in `order`, consuming every one left with nothing unwritten inside. The
 * children are put in the order's order once (by each name's place in it, siblings of one name as they
 * came), and the consumed ones taken out at the end, keeping the others in their order.
 */
function inOrder(children: Node[], order: Order): string {
  const ranks = ranksOf(order);
  // rank × n + index (n children): one sort of numbers puts them in the order, siblings of one name as they came.
  const n = children.length;
  const placed: number[] = [];
  for (let i = 0; i < n; i++) {
    const rank = ranks.get(children[i].name);
    if (rank !== undefined) placed.push(rank * n + i);
  }
  if (placed.length === 0) return '';
  if (placed.length > 1) placed.sort((a, b) => a - b);
  let out = '';
  let consumed: boolean[] | undefined;
  for (let j = 0; j < placed.length; ) {
    const rank = Math.floor(placed[j] / n);
    const sub = order[rank][1];
    let end = j + 1;
    while (end < placed.length && Math.floor(placed[end] / n) === rank) end++;
    const values: string[] = [];
    for (let k = j; k < end; k++) {
      const index = placed[k] % n;
      const child = children[index];
      const s = standardField(child, sub);
      if (s) values.push(s);
      if (child.children.length === 0) (consumed ??= [])[index] = true;
    }
    out += values.length > 1 ? values.sort().join('') : (values[0] ?? '');
    j = end;
  }
  if (consumed) {
    let kept = 0;
    for (let i = 0; i < children.length; i++) if (!consumed[i]) children[kept++] = children[i];
    children.length = kept;
  }
  return out;
}

/** Each name's place in an order (the orders are constants: worked out once each). */
const orderRanks = new WeakMap<Order, Map<string, number>>();
function ranksOf(order: Order): Map<string, number> {
  let ranks = orderRanks.get(order);
  if (!ranks) {
    ranks = new Map();
    // A name appears once in an order; the first place counts, as the loop over the order had it.
    for (let i = order.length - 1; i >= 0; i--) ranks.set(order[i][0], i);
    orderRanks.set(order, ranks);
  }
  return ranks;
}

function standardField(child: Node, sub: Order | 'pairs' | undefined): string {
  let inner = '';
  if (sub === 'pairs') {
    inner = generic(child.children);
    child.children = [];
  } else if (sub) inner = inOrder(child.children, sub);
  let text = child.text.trim();
  if (text) text = `=${isTimeField(child.name) ? utcMillis(text) : canonical(text)}`;
  if (!text && !inner) return '';
  return (child.name === 'sensorElementList' ? '' : child.name) + text + inner;
}

/** User extensions left inside standard fields: the path of field names, then the extensions, in property order. */
function extensionsWithin(children: Node[], order: Order): string {
  const parts: string[] = [];
  for (const [name, sub] of order) {
    if (!sub || sub === 'pairs') continue;
    for (const child of children.filter((c) => c.name === name)) {
      const inner = extensionsWithin(child.children, sub);
      if (inner) parts.push((name === 'sensorElementList' ? '' : name) + inner);
    }
  }
  const direct = children.filter((c) => c.name.includes('{') && c.name.includes('/}'));
  if (direct.length) parts.push(generic(direct));
  return parts.join('');
}

/** Anything outside the property order: `name=value` or `name<children>`, siblings sorted. */
function generic(children: Node[]): string {
  const values = children.map((c) => {
    if (c.pair) return c.children.map((p) => `${p.name}${p.text.trim() ? `=${canonical(p.text.trim())}` : ''}`).join('');
    const text = c.text.trim();
    return `${c.name}${text ? `=${canonical(text)}` : ''}${generic(c.children)}`;
  });
  if (values.length > 1 && !children.some((c) => ['bizTransaction', 'source', 'destination'].includes(c.name))) values.sort();
  return values.join('');
}

function remove(list: Node[], gone: Node[]): void {
  for (const g of gone) {
    const i = list.indexOf(g);
    if (i >= 0) list.splice(i, 1);
  }
}

const isTimeField = (name: string) => name.toLowerCase().includes('time') && !name.toLowerCase().includes('offset');

// ---- values -------------------------------------------------------------------------------------

function canonical(text: string): string {
  let value = canonicalMemo.get(text);
  if (value === undefined) {
    const plain = decimal(webVocabulary(text));
    value = hashCanonicalIdentifier(plain) ?? plain;
    remember(canonicalMemo, text, value);
  }
  return value;
}

/**
 * canonical() and utcMillis() are pure, and a captured document repeats its values (the same lot,
 * location, step in thousands of events): answered from memory, a 10,000-event document hashes
 * about twice as fast. Bounded, so a stream of distinct values only costs a clear now and then.
 */
const canonicalMemo = new Map<string, string>();
const timeMemo = new Map<string, string>();
const MEMO_SIZE = 50_000;
function remember(memo: Map<string, string>, key: string, value: string): void {
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(key, value);
}

/** CBV 1.x URNs → the CBV 2.0 Web URIs. */
function webVocabulary(text: string): string {
  return text
    .replace(/urn:epcglobal:cbv:bizstep:/g, `${CBV}BizStep-`)
    .replace(/urn:epcglobal:cbv:disp:/g, `${CBV}Disp-`)
    .replace(/urn:epcglobal:cbv:btt:/g, `${CBV}BTT-`)
    .replace(/urn:epcglobal:cbv:sdt:/g, `${CBV}SDT-`)
    .replace(/urn:epcglobal:cbv:er:/g, `${CBV}ER-`);
}

const DECIMAL = /^([+-]?)(\d+(?:_\d+)*)?(?:\.(\d+(?:_\d+)*)?)?(?:[eE]([+-]?\d+(?:_\d+)*))?$/;

/**
 * A number in its shortest form: integral values without fraction (`23.0` → `23`), others without
 * trailing zeros (`26.20` → `26.2`), in plain notation; Python's Decimal rules, as the reference applies them.
 */
function decimal(text: string): string {
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === undefined && m[3] === undefined)) return text;
  const sign = m[1] === '-' ? '-' : '';
  const int = (m[2] ?? '').replace(/_/g, '');
  const frac = (m[3] ?? '').replace(/_/g, '');
  const exp = Number((m[4] ?? '0').replace(/_/g, '')) - frac.length;
  let coefficient = `${int}${frac}`.replace(/^0+/, '') || '0';
  if (exp >= 0) {
    if (exp === 0 || coefficient === '0') return `${sign}${coefficient}`;
    const adjusted = exp + coefficient.length - 1;
    return `${sign}${coefficient[0]}${coefficient.length > 1 ? `.${coefficient.slice(1)}` : ''}E+${adjusted}`;
  }
  const places = -exp;
  const padded = coefficient.padStart(places + 1, '0');
  const fraction = padded.slice(-places).replace(/0+$/, '');
  const whole = padded.slice(0, -places).replace(/^0+/, '') || '0';
  if (!fraction) return `${sign}${whole}`;
  coefficient = whole;
  return `${sign}${coefficient}.${fraction}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** UTC at millisecond precision; more digits rounded half up (.1415 → .142), carries rolling into the seconds. */
function utcMillis(text: string): string {
  let value = timeMemo.get(text);
  if (value === undefined) {
    value = utcMillisOf(text);
    remember(timeMemo, text, value);
  }
  return value;
}

function utcMillisOf(text: string): string {
  const m = ISO.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone = 'Z'] = m;
  const micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  const ms = Math.floor(micros / 1000) + (micros % 1000 >= 500 ? 1 : 0);
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return text;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  }
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMin * 60_000 + ms;
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}

// ---- bare vocabulary values ---------------------------------------------------------------------

/** Fields the EPCIS JSON-LD context types as vocabulary, with the namespace a bare value takes. */
const VOCABULARY: Record<string, string> = {
  bizStep: `${CBV}BizStep-`,
  disposition: `${CBV}Disp-`,
  set: `${CBV}Disp-`,
  unset: `${CBV}Disp-`,
  reason: `${CBV}ER-`,
  component: `${CBV}Comp-`,
  exception: VOC,
  // GS1 Web Vocabulary master data (gs1:masterDataAvailableFor) the same way.
  locationRoleType: `${VOC}LocationRoleType-`,
};
const TYPE_VOCABULARY: Record<string, string> = {
  bizTransactionList: `${CBV}BTT-`,
  sourceList: `${CBV}SDT-`,
  destinationList: `${CBV}SDT-`,
  sensorReport: VOC,
};

/**
 * The reference expands the document with a JSON-LD processor and then replaces every string that is
 * the tail (`-x` or `/x`) of exactly one expanded GS1 vocabulary IRI by that IRI. The same, from the
 * vocabulary-typed fields of the event itself.
 */
function expandBareVocabulary(event: Record<string, unknown>, prefixes: Record<string, string>): Record<string, unknown> {
  const iris = new Set<string>();
  const expand = (value: unknown, vocab: string) => {
    if (typeof value !== 'string' || value === '') return;
    const i = value.indexOf(':');
    const iri = i < 0 ? vocab + value : prefixes[value.slice(0, i)] !== undefined ? prefixes[value.slice(0, i)] + value.slice(i + 1) : value;
    if (/^https:\/\/(ref\.gs1\.org\/(cbv|voc)|gs1\.org\/voc)/.test(iri)) iris.add(iri);
  };
  const collect = (value: unknown, parentKey: string) => {
    if (Array.isArray(value)) return value.forEach((v) => collect(v, parentKey));
    if (value === null || typeof value !== 'object') return;
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (k === 'type' && parentKey in TYPE_VOCABULARY) expand(v, TYPE_VOCABULARY[parentKey]);
      else if (k in VOCABULARY) for (const x of Array.isArray(v) ? v : [v]) expand(x, VOCABULARY[k]);
      else collect(v, k);
    }
  };
  collect(event, '');
  if (!iris.size) return event;
  const found = [...iris];
  // A string is replaced when it is the tail (after a '-' or '/') of exactly one of the IRIs found: asked of
  // the two or three IRIs an event has, instead of a table of every tail of every IRI built per event.
  const expansionOf = (value: string): string | undefined => {
    let match: string | undefined;
    for (const iri of found) {
      const before = iri.length - value.length - 1;
      if (before < 0 || !iri.endsWith(value) || (iri[before] !== '-' && iri[before] !== '/')) continue;
      if (match !== undefined) return undefined;
      match = iri;
    }
    return match;
  };
  // What nothing changed in is given back as it was (most of an event): no copy of every object and list.
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string') return expansionOf(value) ?? value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = replace(value[i]);
        if (v !== value[i]) (out ??= value.slice())[i] = v;
      }
      return out ?? value;
    }
    if (value !== null && typeof value === 'object') {
      let out: Record<string, unknown> | undefined;
      for (const k of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[k];
        const r = replace(v);
        if (r !== v) (out ??= { ...value })[k] = r;
      }
      return out ?? value;
    }
    return value;
  };
  return replace(event) as Record<string, unknown>;
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
