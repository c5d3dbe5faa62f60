import { cbvName, parseLocationId, parseObjectId, type EpcisEvent, type QuantityElement } from '@trace/epcis';

/**
 * The SimpleEventQuery filters answered on the EPCIS event itself (after the
 * stores' coarse SQL filters): per-field EPC matching with EPC patterns,
 * actions, transformation ids, business transactions, sources and
 * destinations, quantities, error-declaration
 * fields and EXISTS_ of any top-level field. One predicate for events of
 * every store (REST-recorded, captured on a chain, partner events).
 */
export type EventFilter = (e: EpcisEvent) => boolean;

const CANONICAL = 'https://id.gs1.org';

/** An EPC, class or pattern (`urn:epc:idpat:…`) as a test on canonical object keys. */
export function epcMatcher(value: string): (key: string) => boolean {
  const pat = /^urn:epc:idpat:([a-z]+):(.+)$/i.exec(value.trim());
  if (!pat) {
    const key = parseObjectId(value).key;
    return (k) => k === key;
  }
  const [, scheme, body] = pat;
  const parts = body.split('.');
  const digits = (k: string, ai: string) => new RegExp(`^${CANONICAL}/${ai}/(\\d+)`).exec(k)?.[1];
  if (/^(sgtin|lgtin)$/i.test(scheme) && parts.length === 3) {
    const [cp, ir] = parts;
    if (cp === '*') return (k) => digits(k, '01') !== undefined;
    if (ir !== '*') {
      // A whole GTIN: every instance and lot of it.
      const cls = parseObjectId(`urn:epc:idpat:sgtin:${cp}.${ir}.*`).key;
      return (k) => k === cls || k.startsWith(`${cls}/`);
    }
    // Company prefix only: GTIN-14 digits 2.. are the company prefix.
    return (k) => digits(k, '01')?.slice(1, 1 + cp.length) === cp;
  }
  if (/^sscc$/i.test(scheme) && parts.length === 2) {
    const [cp, ref] = parts;
    if (cp === '*') return (k) => digits(k, '00') !== undefined;
    if (ref !== '*') {
      const key = parseObjectId(`urn:epc:id:sscc:${cp}.${ref}`).key;
      return (k) => k === key;
    }
    return (k) => digits(k, '00')?.slice(1, 1 + cp.length) === cp;
  }
  // Other schemes: the pattern over the URN form, `*` a whole field.
  const re = new RegExp(`^urn:epc:id:${scheme}:${parts.map((p) => (p === '*' ? '[^.]*' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\\.')}$`, 'i');
  return (k) => re.test(k);
}

const anyOf = (values: string[]) => {
  const tests = values.map(epcMatcher);
  return (keys: string[]) => keys.some((k) => tests.some((t) => t(k)));
};
const keysOf = (list?: string[]) => (list ?? []).map((id) => parseObjectId(id).key);
const classKeysOf = (list?: QuantityElement[]) => (list ?? []).map((q) => parseObjectId(q.epcClass).key);

/** Fields each MATCH_ parameter looks at (EPCIS 2.0 §8.2.7.1). */
const EPC_FIELDS: Record<string, (e: EpcisEvent) => string[]> = {
  MATCH_epc: (e) => [...keysOf(e.epcList), ...keysOf(e.childEPCs)],
  MATCH_parentID: (e) => (e.parentID ? keysOf([e.parentID]) : []),
  MATCH_inputEPC: (e) => keysOf(e.inputEPCList),
  MATCH_outputEPC: (e) => keysOf(e.outputEPCList),
  MATCH_anyEPC: (e) => [...keysOf(e.epcList), ...keysOf(e.childEPCs), ...(e.parentID ? keysOf([e.parentID]) : []), ...keysOf(e.inputEPCList), ...keysOf(e.outputEPCList)],
  MATCH_epcClass: (e) => [...classKeysOf(e.quantityList), ...classKeysOf(e.childQuantityList)],
  MATCH_inputEPCClass: (e) => classKeysOf(e.inputQuantityList),
  MATCH_outputEPCClass: (e) => classKeysOf(e.outputQuantityList),
  MATCH_anyEPCClass: (e) => [...classKeysOf(e.quantityList), ...classKeysOf(e.childQuantityList), ...classKeysOf(e.inputQuantityList), ...classKeysOf(e.outputQuantityList)],
};
export const EPC_PARAMETERS = Object.keys(EPC_FIELDS);

/** CBV vocabulary values in any of their forms (bare, URN, Web URI) as the bare name. */
function vocab(value: string, kind: 'btt' | 'sdt'): string {
  return value
    .replace(new RegExp(`^urn:epcglobal:cbv:${kind}:`), '')
    .replace(new RegExp(`^https?://ref\\.gs1\\.org/cbv/${kind === 'btt' ? 'BTT' : 'SDT'}-`), '');
}

/**
 * WD_ on a location: the location itself, its sub-locations (GLN extensions of a GLN asked for), and
 * `descendants`, the keys master data places below it (children, at any depth).
 */
export const locationWithDescendants = (values: string[], descendants: ReadonlySet<string> = new Set()) => {
  const wanted = values.map((v) => parseLocationId(v));
  return (id?: string) => {
    if (!id) return false;
    const loc = parseLocationId(id);
    return descendants.has(loc.key) || wanted.some((w) => w.key === loc.key || (w.gln !== undefined && w.extension === undefined && w.gln === loc.gln));
  };
};

const quantities = (e: EpcisEvent) =>
  [...(e.quantityList ?? []), ...(e.childQuantityList ?? []), ...(e.inputQuantityList ?? []), ...(e.outputQuantityList ?? [])]
    .map((q) => q.quantity)
    .filter((n): n is number => typeof n === 'number');

export interface FilterParams {
  epc: Record<string, string[]>;
  actions?: string[];
  transformationIds?: string[];
  bizTransactions: { type: string; values: string[] }[];
  sources: { type: string; values: string[] }[];
  destinations: { type: string; values: string[] }[];
  quantity: { op: 'EQ' | 'GT' | 'GE' | 'LT' | 'LE'; value: number }[];
  errorReasons?: string[];
  correctiveEventIds?: string[];
  geErrorDeclarationTime?: number;
  ltErrorDeclarationTime?: number;
  exists: string[];
  persistentDispositions?: string[];
  /** Tests on sensor data, ILMD, error declarations and extension fields (field-filters.ts). */
  extra: EventFilter[];
}

export const emptyFilterParams = (): FilterParams => ({ epc: {}, bizTransactions: [], sources: [], destinations: [], quantity: [], exists: [], extra: [] });

/** Whether any filter must be answered on the event itself. */
export const needsEventFilter = (f: FilterParams) =>
  Object.keys(f.epc).length > 0 ||
  !!(f.actions || f.transformationIds || f.errorReasons || f.correctiveEventIds || f.persistentDispositions) ||
  f.geErrorDeclarationTime !== undefined ||
  f.ltErrorDeclarationTime !== undefined ||
  f.bizTransactions.length + f.sources.length + f.destinations.length + f.quantity.length + f.exists.length + f.extra.length > 0;

export function eventFilter(f: FilterParams): EventFilter {
  const tests: EventFilter[] = [];
  for (const [param, values] of Object.entries(f.epc)) {
    const match = anyOf(values);
    const fields = EPC_FIELDS[param];
    tests.push((e) => match(fields(e)));
  }
  if (f.actions) tests.push((e) => e.action !== undefined && (f.actions as string[]).includes(e.action));
  if (f.transformationIds) tests.push((e) => typeof e.transformationID === 'string' && (f.transformationIds as string[]).includes(e.transformationID));
  for (const b of f.bizTransactions) {
    tests.push((e) => (e.bizTransactionList ?? []).some((t) => vocab(t.type ?? '', 'btt') === vocab(b.type, 'btt') && b.values.includes(t.bizTransaction)));
  }
  for (const s of f.sources) tests.push((e) => (e.sourceList ?? []).some((t) => vocab(t.type, 'sdt') === vocab(s.type, 'sdt') && s.values.includes(t.source)));
  for (const d of f.destinations) {
    tests.push((e) => (e.destinationList ?? []).some((t) => vocab(t.type, 'sdt') === vocab(d.type, 'sdt') && d.values.includes(t.destination)));
  }
  for (const { op, value } of f.quantity) {
    const cmp = { EQ: (n: number) => n === value, GT: (n: number) => n > value, GE: (n: number) => n >= value, LT: (n: number) => n < value, LE: (n: number) => n <= value }[op];
    tests.push((e) => quantities(e).some(cmp));
  }
  if (f.errorReasons) {
    const reasons = f.errorReasons.map((r) => cbvName(r.replace(/^urn:epcglobal:cbv:er:/, '').replace(/^https?:\/\/ref\.gs1\.org\/cbv\/ER-/, ''), 'disp'));
    tests.push((e) => {
      const r = e.errorDeclaration?.reason;
      return r !== undefined && reasons.includes(r.replace(/^urn:epcglobal:cbv:er:/, '').replace(/^https?:\/\/ref\.gs1\.org\/cbv\/ER-/, ''));
    });
  }
  if (f.correctiveEventIds) tests.push((e) => (e.errorDeclaration?.correctiveEventIDs ?? []).some((id) => (f.correctiveEventIds as string[]).includes(id)));
  if (f.geErrorDeclarationTime !== undefined) {
    tests.push((e) => e.errorDeclaration !== undefined && Date.parse(e.errorDeclaration.declarationTime) >= (f.geErrorDeclarationTime as number));
  }
  if (f.ltErrorDeclarationTime !== undefined) {
    tests.push((e) => e.errorDeclaration !== undefined && Date.parse(e.errorDeclaration.declarationTime) < (f.ltErrorDeclarationTime as number));
  }
  if (f.persistentDispositions) {
    const wanted = f.persistentDispositions.map((d) => cbvName(d, 'disp'));
    tests.push((e) => {
      const p = e.persistentDisposition as { set?: string[] } | undefined;
      return (p?.set ?? []).some((d) => wanted.includes(cbvName(d, 'disp')));
    });
  }
  for (const field of f.exists) tests.push((e) => e[field] !== undefined && e[field] !== null);
  tests.push(...f.extra);
  return (e) => tests.every((t) => t(e));
}
