import { XMLParser } from 'fast-xml-parser';
import { CANONICAL_DL_HOST, parseLocationId, parseObjectId } from './identifiers';
import { cbvName } from './mapping';
import type { EpcisEvent } from './types';

/**
 * EPCIS master data (EPCIS 2.0 §6.5, §8.2.7.1): the vocabulary elements a
 * document's header declares (`epcisHeader.epcisMasterData.vocabularyList`,
 * in XML `EPCISHeader/(extension/)EPCISMasterData/VocabularyList`), their
 * attributes and children, and the query rules that read them: HASATTR_,
 * EQATTR_ and the descendants of WD_.
 */
export interface VocabularyElement {
  /** The vocabulary, e.g. `urn:epcglobal:epcis:vtype:BusinessLocation`. */
  type: string;
  id: string;
  /** Attribute id → value as declared (a string, number or object; null when declared without one). */
  attributes: Record<string, unknown>;
  /** The ids of its direct children (the hierarchy WD_ descends). */
  children: string[];
}

const VTYPE = 'urn:epcglobal:epcis:vtype:';
/** CBV master data attribute CURIE prefix (`cbvmda:sst`) as the URI it stands for. */
const CBVMDA = 'urn:epcglobal:cbv:mda#';

/** An attribute name as stored and asked: `cbvmda:x` and `urn:epcglobal:cbv:mda:x` are `urn:epcglobal:cbv:mda#x`. */
export function attributeName(name: string): string {
  const n = name.trim();
  if (n.startsWith('cbvmda:')) return CBVMDA + n.slice('cbvmda:'.length);
  if (n.startsWith('urn:epcglobal:cbv:mda:')) return CBVMDA + n.slice('urn:epcglobal:cbv:mda:'.length);
  return n;
}

type Json = Record<string, unknown>;

/** The vocabulary elements an EPCIS 2.0 JSON(-LD) document declares in its header (none when it has none). */
export function vocabularyElementsOf(doc: unknown): VocabularyElement[] {
  const list = ((doc as Json | undefined)?.epcisHeader as Json | undefined)?.epcisMasterData as Json | undefined;
  const vocabularies = Array.isArray(list?.vocabularyList) ? (list.vocabularyList as Json[]) : [];
  const out: VocabularyElement[] = [];
  for (const v of vocabularies) {
    if (typeof v?.type !== 'string') continue;
    for (const el of Array.isArray(v.vocabularyElementList) ? (v.vocabularyElementList as Json[]) : []) {
      if (typeof el?.id !== 'string') continue;
      const attributes: Record<string, unknown> = {};
      for (const a of Array.isArray(el.attributes) ? (el.attributes as Json[]) : []) {
        if (typeof a?.id !== 'string') continue;
        const name = attributeName(a.id);
        const value = a.attribute === undefined ? null : a.attribute;
        // An attribute declared twice keeps both values.
        attributes[name] = name in attributes ? [...[attributes[name]].flat(), value] : value;
      }
      out.push({ type: v.type, id: el.id, attributes, children: (Array.isArray(el.children) ? el.children : []).filter((c): c is string => typeof c === 'string') });
    }
  }
  return out;
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => ['Vocabulary', 'VocabularyElement', 'attribute', 'id'].includes(name),
});

/** An XML attribute element's value: its text, or its children as an object (extension structures). */
function xmlValue(node: unknown): unknown {
  if (node === null || node === undefined) return null;
  if (typeof node !== 'object') return String(node) === '' ? null : String(node);
  const { '@id': _id, '#text': text, ...rest } = node as Json;
  const members = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('@xmlns')));
  if (Object.keys(members).length === 0) return text === undefined || text === '' ? null : String(text);
  return members;
}

/**
 * The header's vocabularyList of an EPCIS XML document (2.0: `EPCISHeader/epcisMasterData`, 1.2:
 * `EPCISHeader/extension/EPCISMasterData`) in the JSON binding's shape, for `epcisHeader.epcisMasterData`;
 * undefined when the document declares none.
 */
export function masterDataFromXml(xml: string): { vocabularyList: Json[] } | undefined {
  let root: Json;
  try {
    root = xmlParser.parse(xml) as Json;
  } catch {
    return undefined;
  }
  const doc = Object.values(root).find((v) => v && typeof v === 'object' && 'EPCISHeader' in (v as Json)) as Json | undefined;
  const header = doc?.EPCISHeader as Json | undefined;
  const md = (header?.EPCISMasterData ?? header?.epcisMasterData ?? (header?.extension as Json | undefined)?.EPCISMasterData) as Json | undefined;
  const vocabularies = ((md?.VocabularyList as Json | undefined)?.Vocabulary as Json[] | undefined) ?? [];
  if (!vocabularies.length) return undefined;
  return {
    vocabularyList: vocabularies.map((v) => ({
      type: String(v['@type'] ?? ''),
      vocabularyElementList: (((v.VocabularyElementList as Json | undefined)?.VocabularyElement as Json[] | undefined) ?? []).map((el) => {
        const attributes = ((el.attribute as unknown[] | undefined) ?? []).map((a) => {
          const value = xmlValue(a);
          return { id: String((a as Json)?.['@id'] ?? ''), ...(value === null ? {} : { attribute: value }) };
        });
        const children = (((el.children as Json | undefined)?.id as unknown[] | undefined) ?? []).map((c) => String(xmlValue(c) ?? ''));
        return { id: String(el['@id'] ?? ''), ...(attributes.length ? { attributes } : {}), ...(children.length ? { children } : {}) };
      }),
    })),
  };
}

// ---- Queries -----------------------------------------------------------------------------------------

/** A CBV value of a vocabulary without a short-name rule in `cbvName` (btt, sdt, er) by its bare name. */
const CBV_BARE = {
  btt: /^(?:urn:epcglobal:cbv:btt:|https?:\/\/(?:ref\.gs1\.org\/cbv|gs1\.org\/voc)\/BTT-)(.+)$/,
  sdt: /^(?:urn:epcglobal:cbv:sdt:|https?:\/\/(?:ref\.gs1\.org\/cbv|gs1\.org\/voc)\/SDT-)(.+)$/,
  er: /^(?:urn:epcglobal:cbv:er:|https?:\/\/(?:ref\.gs1\.org\/cbv|gs1\.org\/voc)\/ER-)(.+)$/,
};
const bare = (kind: keyof typeof CBV_BARE) => (id: string) => CBV_BARE[kind].exec(id)?.[1] ?? id;

const GTIN_CLASS = `${CANONICAL_DL_HOST}/01/`;
/** An object or class identifier's key, in any form (EPC URN, idpat, Digital Link on any host). */
const objectKey = (id: string) => parseObjectId(id).key;
/**
 * The EPCClass keys an identifier belongs to: a lot's class (GTIN + lot) and its GTIN; an instance's GTIN
 * (an SGTIN names no lot); a GTIN pattern (`urn:epc:idpat:sgtin:…*`, a Digital Link with only a GTIN) itself.
 */
function classKeys(id: string): string[] {
  const ref = parseObjectId(id);
  if (ref.kind !== 'trade-item') return [ref.key];
  const gtin = `${GTIN_CLASS}${ref.gtin}`;
  return ref.serial !== undefined ? [gtin] : ref.lot !== undefined ? [ref.key, gtin] : [gtin];
}
const INSTANCE_FIELDS = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'] as const;
const QUANTITY_FIELDS = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'] as const;
const instancesOf = (e: EpcisEvent, fields: readonly string[]): string[] =>
  fields.flatMap((f) => (f === 'parentID' ? (e.parentID ? [e.parentID] : []) : ((e[f] as string[] | undefined) ?? [])));
const classesOf = (e: EpcisEvent): string[] => QUANTITY_FIELDS.flatMap((f) => ((e[f] as { epcClass: string }[] | undefined) ?? []).map((q) => q.epcClass));

/**
 * An event field whose values are vocabulary elements master data can describe: the vocabularies
 * consulted, the key an element id is compared by, and the keys of the event's values (several for a
 * list field; an EPC also by the classes it belongs to).
 */
export interface MasterDataField {
  vocabularies: string[];
  key: (id: string) => string;
  keys: (e: EpcisEvent) => string[];
}
const single = (key: (id: string) => string, value: (e: EpcisEvent) => string | undefined) => (e: EpcisEvent) => {
  const v = value(e);
  return typeof v === 'string' ? [key(v)] : [];
};
const locationKeyOf = (id: string) => parseLocationId(id).key;
const stepKey = (id: string) => cbvName(id, 'bizstep') ?? id;
const dispositionKey = (id: string) => cbvName(id, 'disp') ?? id;
/** The EPC fields (and all of them as `epc`): EPCInstance master data of the EPC, EPCClass master data of its classes. */
const epcField = (fields: readonly string[]): MasterDataField => ({
  vocabularies: [`${VTYPE}EPCInstance`, `${VTYPE}EPCClass`],
  key: objectKey,
  keys: (e) => instancesOf(e, fields).flatMap((id) => [objectKey(id), ...classKeys(id)]),
});

/**
 * The event fields master data describes (EPCIS 2.0 §8.2.7.1: fields whose type is a vocabulary type;
 * CBV 2.0 master data vocabularies). A location's master data serves readPoint and bizLocation alike
 * (CBV: both are SGLN-identified locations; many partners declare every location as a
 * BusinessLocation). `epcClass` is every class an event names (its quantity lists, and the classes of
 * its EPCs), `epc` every EPC (epcList, childEPCs, parentID, inputEPCList, outputEPCList).
 */
export const MASTER_DATA_FIELDS: Record<string, MasterDataField> = {
  readPoint: { vocabularies: [`${VTYPE}ReadPoint`, `${VTYPE}BusinessLocation`], key: locationKeyOf, keys: single(locationKeyOf, (e) => e.readPoint?.id) },
  bizLocation: { vocabularies: [`${VTYPE}BusinessLocation`, `${VTYPE}ReadPoint`], key: locationKeyOf, keys: single(locationKeyOf, (e) => e.bizLocation?.id) },
  bizStep: { vocabularies: [`${VTYPE}BusinessStep`], key: stepKey, keys: single(stepKey, (e) => e.bizStep) },
  disposition: { vocabularies: [`${VTYPE}Disposition`], key: dispositionKey, keys: single(dispositionKey, (e) => e.disposition) },
  persistentDisposition: {
    vocabularies: [`${VTYPE}Disposition`],
    key: dispositionKey,
    keys: (e) => {
      const pd = e.persistentDisposition as { set?: string[]; unset?: string[] } | undefined;
      return [...(pd?.set ?? []), ...(pd?.unset ?? [])].map(dispositionKey);
    },
  },
  epcClass: {
    vocabularies: [`${VTYPE}EPCClass`],
    key: objectKey,
    keys: (e) => [...classesOf(e).flatMap(classKeys), ...instancesOf(e, [...INSTANCE_FIELDS, 'parentID']).flatMap(classKeys)],
  },
  epc: epcField([...INSTANCE_FIELDS, 'parentID']),
  ...Object.fromEntries([...INSTANCE_FIELDS, 'parentID'].map((f) => [f, epcField([f])])),
  bizTransaction: {
    vocabularies: [`${VTYPE}BusinessTransaction`],
    key: (id) => id,
    keys: (e) => (e.bizTransactionList ?? []).map((t) => t.bizTransaction),
  },
  bizTransactionType: {
    vocabularies: [`${VTYPE}BusinessTransactionType`],
    key: bare('btt'),
    keys: (e) => (e.bizTransactionList ?? []).flatMap((t) => (t.type ? [bare('btt')(t.type)] : [])),
  },
  source: { vocabularies: [`${VTYPE}SourceDest`], key: locationKeyOf, keys: (e) => (e.sourceList ?? []).map((s) => locationKeyOf(s.source)) },
  destination: { vocabularies: [`${VTYPE}SourceDest`], key: locationKeyOf, keys: (e) => (e.destinationList ?? []).map((d) => locationKeyOf(d.destination)) },
  sourceType: { vocabularies: [`${VTYPE}SourceDestType`], key: bare('sdt'), keys: (e) => (e.sourceList ?? []).map((s) => bare('sdt')(s.type)) },
  destinationType: { vocabularies: [`${VTYPE}SourceDestType`], key: bare('sdt'), keys: (e) => (e.destinationList ?? []).map((d) => bare('sdt')(d.type)) },
  errorReason: {
    vocabularies: [`${VTYPE}ErrorReason`],
    key: bare('er'),
    keys: single(bare('er'), (e) => e.errorDeclaration?.reason),
  },
};

export type MasterDataCondition =
  | { kind: 'HASATTR'; field: string; attributes: string[] }
  | { kind: 'EQATTR'; field: string; attribute: string; values: string[] };

/**
 * A HASATTR_{field} or EQATTR_{field}_{attribute} parameter (EPCIS 2.0 §8.2.7.1) as its condition;
 * undefined when the name is neither; `error` when it names a field master data does not describe.
 */
export function masterDataParameter(name: string, values: string[]): { condition?: MasterDataCondition; error?: string } | undefined {
  const has = /^HASATTR_(.+)$/.exec(name);
  if (has) {
    if (!Object.hasOwn(MASTER_DATA_FIELDS, has[1])) return { error: `master data describes ${Object.keys(MASTER_DATA_FIELDS).join(', ')}, not ${has[1]}` };
    return { condition: { kind: 'HASATTR', field: has[1], attributes: values.map(attributeName) } };
  }
  const eq = /^EQATTR_([A-Za-z]+)_(.+)$/.exec(name);
  if (eq) {
    if (!Object.hasOwn(MASTER_DATA_FIELDS, eq[1])) return { error: `master data describes ${Object.keys(MASTER_DATA_FIELDS).join(', ')}, not ${eq[1]}` };
    return { condition: { kind: 'EQATTR', field: eq[1], attribute: attributeName(eq[2]), values } };
  }
  if (/^(EQATTR|HASATTR)_/.test(name)) return { error: 'EQATTR_{field}_{attribute name}' };
  return undefined;
}

/** The vocabularies the conditions and WD_ fields need to consult. */
export function vocabulariesFor(fields: string[]): string[] {
  return [...new Set(fields.flatMap((f) => MASTER_DATA_FIELDS[f]?.vocabularies ?? []))];
}

/** An attribute value as text for EQATTR_ (numbers as written, objects as JSON). */
const asText = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(asText) : v === null || v === undefined ? [] : [typeof v === 'object' ? JSON.stringify(v) : String(v)]);

/**
 * The event test for HASATTR_/EQATTR_ conditions over the elements known: an event passes when, for
 * every condition, its field names an element (of a vocabulary the field consults) whose attributes
 * hold one of the names (HASATTR_) or the attribute with one of the values (EQATTR_). Elements
 * declared by several organisations answer with any of their declarations.
 */
export function masterDataFilter(conditions: MasterDataCondition[], elements: VocabularyElement[]): (e: EpcisEvent) => boolean {
  const tests = conditions.map((c) => {
    const field = MASTER_DATA_FIELDS[c.field];
    const matching = masterDataKeys(c, elements);
    return (e: EpcisEvent) => field.keys(e).some((k) => matching.has(k));
  });
  return (e) => tests.every((t) => t(e));
}

/** The keys (`MASTER_DATA_FIELDS[field].key`) of the elements a condition accepts: what the field's value must be. */
export function masterDataKeys(c: MasterDataCondition, elements: VocabularyElement[]): Set<string> {
  const field = MASTER_DATA_FIELDS[c.field];
  return new Set(
    elements
      .filter((el) => field.vocabularies.includes(el.type))
      .filter((el) =>
        c.kind === 'HASATTR'
          ? c.attributes.some((a) => a in el.attributes)
          : c.attribute in el.attributes && asText(el.attributes[c.attribute]).some((v) => c.values.includes(v)),
      )
      .map((el) => field.key(el.id)),
  );
}

/**
 * The keys of `roots` and of every element below them (direct or indirect children, EPCIS 2.0 §6.5) in
 * the field's vocabularies; a hierarchy with a cycle ends where it comes back.
 */
export function descendantKeys(field: string, roots: string[], elements: VocabularyElement[]): Set<string> {
  const f = MASTER_DATA_FIELDS[field];
  const children = new Map<string, string[]>();
  for (const el of elements) {
    if (!f.vocabularies.includes(el.type)) continue;
    const k = f.key(el.id);
    children.set(k, [...(children.get(k) ?? []), ...el.children.map(f.key)]);
  }
  const out = new Set<string>();
  const todo = roots.map(f.key);
  while (todo.length) {
    const k = todo.pop() as string;
    if (out.has(k)) continue;
    out.add(k);
    todo.push(...(children.get(k) ?? []));
  }
  return out;
}
