import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { contextPrefixes } from './event-hash';
import { EPCIS_CONTEXT, type EpcisEvent } from './types';

/**
 * The EPCIS XML binding, 2.0 and 1.2, mapped to and from the JSON binding this system stores: a
 * captured XML document becomes the EPCISDocument its JSON-LD translation is (the same events,
 * so the same event hashes), and a query answer can be written as EPCIS 2.0 XML in the order
 * GS1's XSD (EPCglobal-epcis-2_0.xsd) sets. 1.2's extension wrappers (`baseExtension`, nested
 * `extension`) are unwrapped, as GS1's 1.2→2.0 translation does. Extension elements and
 * attributes keep their `prefix:name`; the document's namespace declarations become @context
 * entries.
 */
type Node = Record<string, unknown>;
const ATTR = ':@';
const TEXT = '#text';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];
const EPC_LISTS = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'];
const QUANTITY_LISTS = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'];
const TEXT_FIELDS = ['eventTime', 'recordTime', 'eventTimeZoneOffset', 'eventID', 'certificationInfo', 'action', 'bizStep', 'disposition', 'parentID', 'transformationID'];
const NUMERIC_ATTRIBUTES = ['value', 'minValue', 'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue'];
/** 1.2 wraps later additions in these; 2.0 keeps them as a place for future standard fields. */
const WRAPPERS = ['extension', 'baseExtension'];

const local = (tag: string) => tag.slice(tag.indexOf(':') + 1);
/** CBV 1.x URNs of standard values as the bare words the 2.0 JSON binding uses (GS1's 1.2→2.0 translation does the same). */
const bare = (value: string, kind: string) => value.replace(new RegExp(`^urn:epcglobal:cbv:${kind}:`), '');
const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ATTR) as string;
const childrenOf = (n: Node) => (n[tagOf(n)] as Node[]) ?? [];
const attrsOf = (n: Node) => (n[ATTR] as Record<string, string> | undefined) ?? {};
const textOf = (n: Node) =>
  childrenOf(n)
    .filter((c) => TEXT in c)
    .map((c) => String(c[TEXT]))
    .join('');
/** Children with 1.2's (and 2.0's empty) extension wrappers unwrapped. */
const flat = (nodes: Node[]): Node[] => nodes.flatMap((c) => (WRAPPERS.includes(tagOf(c)) ? flat(childrenOf(c)) : [c]));

/** An extension element: its text, or an object of its children (repeated ones as arrays) and attributes. */
function extensionValue(n: Node): unknown {
  const elements = childrenOf(n).filter((c) => !(TEXT in c));
  const attrs = Object.entries(attrsOf(n)).filter(([k]) => !k.startsWith('xmlns'));
  if (!elements.length && !attrs.length) return textOf(n);
  const out: Node = {};
  for (const [k, v] of attrs) out[k] = v;
  for (const c of elements) add(out, tagOf(c), extensionValue(c));
  if (!elements.length && textOf(n) !== '') out['#text'] = textOf(n);
  return out;
}
function add(obj: Node, key: string, value: unknown) {
  if (!(key in obj)) obj[key] = value;
  else obj[key] = Array.isArray(obj[key]) ? [...(obj[key] as unknown[]), value] : [obj[key], value];
}
/** Extension elements (namespaced) and attributes of a standard element, as JSON members. */
function extensionsOf(n: Node, standard: string[]): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(attrsOf(n))) if (k.includes(':') && !k.startsWith('xmlns')) out[k] = v;
  for (const c of flat(childrenOf(n))) {
    const tag = tagOf(c);
    if (TEXT in c || standard.includes(tag)) continue;
    add(out, tag, extensionValue(c));
  }
  return out;
}

function quantityElement(n: Node) {
  const q: Node = {};
  for (const c of childrenOf(n)) {
    const tag = tagOf(c);
    if (tag === 'epcClass' || tag === 'uom') q[tag] = textOf(c);
    else if (tag === 'quantity') q.quantity = Number(textOf(c));
  }
  return { ...q, ...extensionsOf(n, ['epcClass', 'quantity', 'uom']) };
}

function sensorAttributes(n: Node) {
  const out: Node = {};
  for (const [k, v] of Object.entries(attrsOf(n))) {
    if (k.startsWith('xmlns')) continue;
    out[k] = NUMERIC_ATTRIBUTES.includes(k) ? Number(v) : k === 'booleanValue' ? v === 'true' : v;
  }
  return { ...out, ...extensionsOf(n, []) };
}

/** The epcis/epcisq/xsi/sbdh namespaces are the binding's own; the rest name extensions. */
const OWN_NAMESPACES = /^urn:epcglobal:|^http:\/\/www\.w3\.org\/|^http:\/\/www\.unece\.org\/cefact\/namespaces\/StandardBusinessDocumentHeader/;

/**
 * Extension namespaces declared on an event's element or inside it (the first declaration of a prefix):
 * the event's own @context, which JSON-LD scopes to the event as XML scopes them to the element, so its
 * names keep their namespaces (and its hash) rather than come out undeclared.
 */
function declaredWithin(n: Node): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (x: Node) => {
    for (const [k, v] of Object.entries(attrsOf(x))) if (k.startsWith('xmlns:') && !OWN_NAMESPACES.test(v) && !(k.slice(6) in out)) out[k.slice(6)] = v;
    for (const c of childrenOf(x)) if (!(TEXT in c)) walk(c);
  };
  walk(n);
  return out;
}

function eventOf(n: Node): EpcisEvent {
  const type = local(tagOf(n));
  const scoped = declaredWithin(n);
  const e: Node = { ...(Object.keys(scoped).length ? { '@context': scoped } : {}), type };
  const standard = [...TEXT_FIELDS, ...EPC_LISTS, ...QUANTITY_LISTS, 'errorDeclaration', 'readPoint', 'bizLocation', 'bizTransactionList', 'sourceList',
    'destinationList', 'persistentDisposition', 'ilmd', 'sensorElementList'];
  for (const c of flat(childrenOf(n))) {
    const tag = tagOf(c);
    if (tag === 'bizStep') e.bizStep = bare(textOf(c), 'bizstep');
    else if (tag === 'disposition') e.disposition = bare(textOf(c), 'disp');
    else if (TEXT_FIELDS.includes(tag)) e[tag] = textOf(c);
    else if (EPC_LISTS.includes(tag)) e[tag] = childrenOf(c).filter((x) => tagOf(x) === 'epc').map(textOf);
    else if (QUANTITY_LISTS.includes(tag)) e[tag] = childrenOf(c).filter((x) => tagOf(x) === 'quantityElement').map(quantityElement);
    else if (tag === 'readPoint' || tag === 'bizLocation') {
      const id = childrenOf(c).find((x) => tagOf(x) === 'id');
      e[tag] = { id: id ? textOf(id) : '', ...extensionsOf(c, ['id']) };
    } else if (tag === 'bizTransactionList' || tag === 'sourceList' || tag === 'destinationList') {
      const item = tag === 'bizTransactionList' ? 'bizTransaction' : tag === 'sourceList' ? 'source' : 'destination';
      e[tag] = childrenOf(c)
        .filter((x) => tagOf(x) === item)
        .map((x) => ({ ...(attrsOf(x).type !== undefined ? { type: bare(attrsOf(x).type, item === 'bizTransaction' ? 'btt' : 'sdt') } : {}), [item]: textOf(x) }));
    } else if (tag === 'persistentDisposition') {
      const p: Node = {};
      for (const x of childrenOf(c)) if (tagOf(x) === 'set' || tagOf(x) === 'unset') add(p, tagOf(x), bare(textOf(x), 'disp'));
      for (const k of ['set', 'unset']) if (p[k] !== undefined && !Array.isArray(p[k])) p[k] = [p[k]];
      e[tag] = p;
    } else if (tag === 'ilmd') e.ilmd = extensionsOf(c, []);
    else if (tag === 'errorDeclaration') {
      const d: Node = {};
      for (const x of childrenOf(c)) {
        const t = tagOf(x);
        if (t === 'declarationTime') d[t] = textOf(x);
        else if (t === 'reason') d.reason = bare(textOf(x), 'er');
        else if (t === 'correctiveEventIDs') d.correctiveEventIDs = childrenOf(x).filter((y) => tagOf(y) === 'correctiveEventID').map(textOf);
      }
      e.errorDeclaration = { ...d, ...extensionsOf(c, ['declarationTime', 'reason', 'correctiveEventIDs']) };
    } else if (tag === 'sensorElementList') {
      e.sensorElementList = childrenOf(c)
        .filter((x) => tagOf(x) === 'sensorElement')
        .map((s) => {
          const el: Node = {};
          const meta = childrenOf(s).find((x) => tagOf(x) === 'sensorMetadata');
          if (meta) el.sensorMetadata = sensorAttributes(meta);
          el.sensorReport = childrenOf(s).filter((x) => tagOf(x) === 'sensorReport').map(sensorAttributes);
          return { ...el, ...extensionsOf(s, ['sensorMetadata', 'sensorReport']) };
        });
    }
  }
  Object.assign(e, extensionsOf(n, standard));
  return e as EpcisEvent;
}

export interface XmlCapture {
  /** The JSON binding of the document, when it could be read. */
  document?: { '@context': unknown[]; type: 'EPCISDocument'; schemaVersion: string; creationDate: string; epcisBody: { eventList: EpcisEvent[] } };
  /** Why it could not: not well-formed, not an EPCIS document. */
  errors: { field: string; message: string }[];
  /** The root element's namespace (which version of the binding, and so which XSD). */
  namespace?: string;
}

/** An EPCIS 2.0 or 1.2 XML document (EPCISDocument, or an EPCISQueryDocument's results) as its JSON binding. */
export function epcisDocumentFromXml(xml: string): XmlCapture {
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) return { errors: [{ field: `line ${wellFormed.err.line}`, message: `not well-formed XML: ${wellFormed.err.msg}` }] };
  let parsed: Node[];
  try {
    parsed = parser.parse(xml) as Node[];
  } catch (err) {
    // Well-formed, yet refused by the parser: an element or attribute named __proto__, constructor or
    // prototype (it would reach an object's prototype), or nesting past its limit. The sender's fault.
    return { errors: [{ field: '/', message: `the XML cannot be read: ${(err as Error).message.replace(/^\[SECURITY\]\s*/, '')}` }] };
  }
  const roots = parsed.filter((n) => !(TEXT in n));
  const root = roots[0];
  const rootTag = root ? local(tagOf(root)) : '';
  if (rootTag !== 'EPCISDocument' && rootTag !== 'EPCISQueryDocument') {
    return { errors: [{ field: '/', message: `the root element is ${rootTag || 'missing'}, not EPCISDocument or EPCISQueryDocument` }] };
  }
  const attrs = attrsOf(root);
  const rootPrefix = tagOf(root).includes(':') ? tagOf(root).slice(0, tagOf(root).indexOf(':')) : '';
  const namespace = attrs[rootPrefix ? `xmlns:${rootPrefix}` : 'xmlns'];
  const namespaces: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (k.startsWith('xmlns:')) namespaces[k.slice(6)] = v;
  const find = (n: Node | undefined, name: string) => (n ? childrenOf(n).find((c) => local(tagOf(c)) === name) : undefined);
  const body = find(root, 'EPCISBody');
  const results = find(find(body, 'QueryResults'), 'resultsBody');
  const list = find(results ?? body, 'EventList');
  const events = flat(list ? childrenOf(list) : [])
    .filter((c) => EVENT_TYPES.includes(local(tagOf(c))))
    .map(eventOf);
  const extensionPrefixes = Object.fromEntries(Object.entries(namespaces).filter(([, uri]) => !OWN_NAMESPACES.test(uri)));
  return {
    document: {
      '@context': [EPCIS_CONTEXT, ...(Object.keys(extensionPrefixes).length ? [extensionPrefixes] : [])],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: attrs.creationDate ?? new Date().toISOString(),
      epcisBody: { eventList: events },
    },
    errors: [],
    namespace,
  };
}

// ---- JSON → EPCIS 2.0 XML -------------------------------------------------------------------------

const EPCIS_NS = 'urn:epcglobal:epcis:xsd:2';
const EPCISQ_NS = 'urn:epcglobal:epcis-query:xsd:2';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The standard fields of each event type in the XSD's order (after the common eventTime … certificationInfo). */
const ORDER: Record<string, string[]> = {
  ObjectEvent: ['epcList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'quantityList', 'sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition', 'ilmd'],
  AggregationEvent: ['parentID', 'childEPCs', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'childQuantityList', 'sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition'],
  TransactionEvent: ['bizTransactionList', 'parentID', 'epcList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'quantityList', 'sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition'],
  TransformationEvent: ['inputEPCList', 'inputQuantityList', 'outputEPCList', 'outputQuantityList', 'transformationID', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition', 'ilmd'],
  AssociationEvent: ['parentID', 'childEPCs', 'childQuantityList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition'],
};
const COMMON = ['eventTime', 'recordTime', 'eventTimeZoneOffset', 'eventID', 'errorDeclaration', 'certificationInfo'];

/** An extension member as an element (objects nest, arrays repeat). */
function extensionXml(name: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => extensionXml(name, v)).join('');
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Node);
    const inner = entries.filter(([k]) => k !== '#text').map(([k, v]) => extensionXml(k, v)).join('');
    const text = (value as Node)['#text'];
    return `<${name}>${inner}${text !== undefined ? esc(String(text)) : ''}</${name}>`;
  }
  return `<${name}>${esc(String(value ?? ''))}</${name}>`;
}
const el = (name: string, text: unknown) => `<${name}>${esc(String(text))}</${name}>`;
const extensionMembers = (obj: Node, standard: string[]) =>
  Object.entries(obj)
    .filter(([k]) => !standard.includes(k) && k.includes(':'))
    .map(([k, v]) => extensionXml(k, v))
    .join('');

function sensorXml(name: string, attrs: Node): string {
  const plain = Object.entries(attrs).filter(([, v]) => v === null || typeof v !== 'object');
  const nested = Object.entries(attrs).filter(([, v]) => v !== null && typeof v === 'object');
  const a = plain.map(([k, v]) => ` ${k}="${esc(String(v))}"`).join('');
  return nested.length ? `<${name}${a}>${nested.map(([k, v]) => extensionXml(k, v)).join('')}</${name}>` : `<${name}${a}/>`;
}

function fieldXml(name: string, value: unknown): string {
  const v = value as never;
  if (EPC_LISTS.includes(name)) return `<${name}>${(v as string[]).map((x) => el('epc', x)).join('')}</${name}>`;
  if (QUANTITY_LISTS.includes(name)) {
    return `<${name}>${(v as Node[])
      .map((q) => `<quantityElement>${el('epcClass', q.epcClass)}${q.quantity !== undefined ? el('quantity', q.quantity) : ''}${q.uom !== undefined ? el('uom', q.uom) : ''}</quantityElement>`)
      .join('')}</${name}>`;
  }
  if (name === 'readPoint' || name === 'bizLocation') return `<${name}>${el('id', (v as Node).id)}${extensionMembers(v, ['id'])}</${name}>`;
  if (name === 'bizTransactionList' || name === 'sourceList' || name === 'destinationList') {
    const item = name === 'bizTransactionList' ? 'bizTransaction' : name === 'sourceList' ? 'source' : 'destination';
    return `<${name}>${(v as Node[]).map((x) => `<${item}${x.type !== undefined ? ` type="${esc(String(x.type))}"` : ''}>${esc(String(x[item]))}</${item}>`).join('')}</${name}>`;
  }
  if (name === 'persistentDisposition') {
    const p = v as { set?: string[]; unset?: string[] };
    return `<${name}>${(p.set ?? []).map((x) => el('set', x)).join('')}${(p.unset ?? []).map((x) => el('unset', x)).join('')}</${name}>`;
  }
  if (name === 'ilmd') return `<ilmd>${extensionMembers(v, [])}</ilmd>`;
  if (name === 'errorDeclaration') {
    const d = v as Node;
    const ids = d.correctiveEventIDs as string[] | undefined;
    return `<errorDeclaration>${el('declarationTime', d.declarationTime)}${d.reason !== undefined ? el('reason', d.reason) : ''}${
      ids?.length ? `<correctiveEventIDs>${ids.map((x) => el('correctiveEventID', x)).join('')}</correctiveEventIDs>` : ''
    }${extensionMembers(d, ['declarationTime', 'reason', 'correctiveEventIDs'])}</errorDeclaration>`;
  }
  if (name === 'sensorElementList') {
    return `<sensorElementList>${(v as Node[])
      .map(
        (s) =>
          `<sensorElement>${s.sensorMetadata ? sensorXml('sensorMetadata', s.sensorMetadata as Node) : ''}${((s.sensorReport as Node[]) ?? [])
            .map((r) => sensorXml('sensorReport', r))
            .join('')}${extensionMembers(s, ['sensorMetadata', 'sensorReport'])}</sensorElement>`,
      )
      .join('')}</sensorElementList>`;
  }
  return el(name, value);
}

/** Prefixes the events use (extension members), for the root's namespace declarations. */
function prefixesUsed(events: EpcisEvent[]): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Node)) {
      if (k.includes(':') && !k.startsWith('@')) out.add(k.slice(0, k.indexOf(':')));
      walk(x);
    }
  };
  walk(events);
  return out;
}

/** An event as the XML binding's element. */
export function eventToXml(e: EpcisEvent): string {
  const type = e.type;
  const standard = [...COMMON, ...(ORDER[type] ?? []), 'type', '@context'];
  const body = [...COMMON, ...(ORDER[type] ?? [])]
    .filter((k) => e[k] !== undefined && e[k] !== null)
    .map((k) => fieldXml(k, e[k]))
    .join('');
  return `<${type}>${body}${extensionMembers(e as Node, standard)}</${type}>`;
}

/**
 * An EPCISQueryDocument (JSON binding) as EPCIS 2.0 XML. `namespaces` are the prefixes its @context
 * binds (by default: the document's own, where answers declare the namespaces each event was captured
 * with); a prefix an event uses without one (an event captured before namespaces were kept) is
 * declared under `urn:undeclared-prefix:{prefix}` so the answer stays well-formed.
 */
export function epcisQueryDocumentToXml(
  doc: { '@context'?: unknown; creationDate?: string; epcisBody: { queryResults: { queryName?: string; subscriptionID?: string; resultsBody: { eventList: EpcisEvent[] } } } },
  namespaces: Record<string, string> = contextPrefixes(doc['@context']),
): string {
  const results = doc.epcisBody.queryResults;
  const events = results.resultsBody.eventList;
  const declared = Object.entries({ ...Object.fromEntries([...prefixesUsed(events)].map((p) => [p, `urn:undeclared-prefix:${p}`])), ...namespaces })
    .filter(([p]) => p !== 'epcis' && p !== 'epcisq' && p !== 'xsi' && p !== 'xmlns')
    .map(([p, uri]) => ` xmlns:${p}="${esc(uri)}"`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<epcisq:EPCISQueryDocument xmlns:epcis="${EPCIS_NS}" xmlns:epcisq="${EPCISQ_NS}"${declared} schemaVersion="2.0" creationDate="${esc(doc.creationDate ?? new Date().toISOString())}">` +
    `<EPCISBody><epcisq:QueryResults>${el('queryName', results.queryName ?? 'SimpleEventQuery')}${results.subscriptionID ? el('subscriptionID', results.subscriptionID) : ''}` +
    `<resultsBody><EventList>${events.map(eventToXml).join('')}</EventList></resultsBody></epcisq:QueryResults></EPCISBody></epcisq:EPCISQueryDocument>\n`
  );
}
