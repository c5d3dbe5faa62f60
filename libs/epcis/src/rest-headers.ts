import type { EpcisEvent } from './types';
import { parseLocationId, parseObjectId } from './identifiers';

// ---- GS1-CBV-XML-Format -----------------------------------------------------------------------------

/** The REST binding's values of GS1-CBV-XML-Format (how CBV values are written in XML answers). */
export const CBV_XML_FORMATS = ['No_Preference', 'Always_Web_URI', 'Always_URN', 'Never_Translates'] as const;
export type CbvXmlFormat = (typeof CBV_XML_FORMATS)[number];

/** The CBV vocabularies an event names, by URN kind, with the Web URI prefix of each (CBV 2.0 §8). */
const VOCABULARIES = { bizstep: 'BizStep', disp: 'Disp', btt: 'BTT', sdt: 'SDT', er: 'ER' } as const;
type Vocabulary = keyof typeof VOCABULARIES;
const WEB = 'https://ref.gs1.org/cbv/';
/** A CBV standard value's bare name: lower case words joined by underscores (`in_transit`, `receiving`). */
const BARE = /^[a-z][a-z0-9_]*$/;

/**
 * One CBV value written as the format asks: a standard value (bare, `urn:epcglobal:cbv:{kind}:x` or
 * `https://ref.gs1.org/cbv/{Kind}-x`) as its URN or its Web URI; anything else (a partner's own
 * vocabulary) as it is. No_Preference and Never_Translates keep the value as it was captured.
 */
export function cbvValue(value: string, kind: Vocabulary, format: CbvXmlFormat): string {
  if (format !== 'Always_URN' && format !== 'Always_Web_URI') return value;
  const web = `${WEB}${VOCABULARIES[kind]}-`;
  const urn = `urn:epcglobal:cbv:${kind}:`;
  const name = BARE.test(value) ? value : value.startsWith(urn) ? value.slice(urn.length) : value.startsWith(web) ? value.slice(web.length) : undefined;
  if (name === undefined) return value;
  return format === 'Always_URN' ? urn + name : web + name;
}

/**
 * An event with its CBV values (bizStep, disposition, persistentDisposition, bizTransaction, source and
 * destination types, errorDeclaration reason) written as GS1-CBV-XML-Format asks; a copy, the event is
 * left as it is. Sensor measurement types have no URN form (CBV 2.0 names them `gs1:` Web vocabulary)
 * and stay as captured.
 */
export function withCbvFormat<E extends EpcisEvent>(event: E, format: CbvXmlFormat): E {
  if (format !== 'Always_URN' && format !== 'Always_Web_URI') return event;
  const e = { ...event } as E;
  const members = e as Record<string, unknown>;
  const v = (x: string | undefined, kind: Vocabulary) => (typeof x === 'string' ? cbvValue(x, kind, format) : x);
  if (e.bizStep !== undefined) e.bizStep = v(e.bizStep, 'bizstep');
  if (e.disposition !== undefined) e.disposition = v(e.disposition, 'disp');
  const p = members.persistentDisposition as { set?: string[]; unset?: string[] } | undefined;
  if (p) {
    members.persistentDisposition = {
      ...p,
      ...(p.set ? { set: p.set.map((x) => cbvValue(x, 'disp', format)) } : {}),
      ...(p.unset ? { unset: p.unset.map((x) => cbvValue(x, 'disp', format)) } : {}),
    };
  }
  const typed = <T extends { type?: string }>(list: T[] | undefined, kind: Vocabulary) =>
    list?.map((x) => (typeof x.type === 'string' ? { ...x, type: cbvValue(x.type, kind, format) } : x));
  if (e.bizTransactionList) e.bizTransactionList = typed(e.bizTransactionList, 'btt');
  if (e.sourceList) e.sourceList = typed(e.sourceList as { type?: string }[], 'sdt') as never;
  if (e.destinationList) e.destinationList = typed(e.destinationList as { type?: string }[], 'sdt') as never;
  const d = e.errorDeclaration;
  if (d && typeof d.reason === 'string') e.errorDeclaration = { ...d, reason: cbvValue(d.reason, 'er', format) };
  return e;
}

// ---- Version negotiation (GS1-EPCIS-Version / -Min / -Max, GS1-CBV-…) ------------------------------

/** A version as the binding writes it (`^\d+(\.\d+)*$`), as numbers; undefined when malformed. */
export function parseVersion(text: string): number[] | undefined {
  const t = text.trim();
  return /^\d+(\.\d+)*$/.test(t) ? t.split('.').map(Number) : undefined;
}

/** Compares versions component by component, a missing component being 0 (`2.0` = `2.0.0`). */
export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Same major and minor: a patch is an erratum of the same standard (EPCIS and CBV 2.0.x read alike). */
const sameRelease = (a: number[], b: number[]) => (a[0] ?? 0) === (b[0] ?? 0) && (a[1] ?? 0) === (b[1] ?? 0);

export interface VersionRequest {
  /** The version the client speaks or wants (GS1-EPCIS-Version / GS1-CBV-Version). */
  version?: string;
  /** The range the client accepts (GS1-…-Min / GS1-…-Max), either bound optional. */
  min?: string;
  max?: string;
}

/** `field`: the header (or headers, `GS1-EPCIS-Min/Max`) at fault. */
export type VersionVerdict = { ok: true } | { ok: false; malformed: boolean; field: string; message: string };

/**
 * Whether a request's version headers name something this server serves. `supported` are the
 * releases it can serve for this request (e.g. 2.0.0 for answers; 2.0.0 and 1.2.0 for a capture, which
 * reads EPCIS 1.2 XML). Malformed values (or Min above Max) are the client's error (400); a version or
 * a range holding none of `supported` cannot be served (406).
 */
export function negotiateVersion(header: string, req: VersionRequest, supported: string[]): VersionVerdict {
  const ours = supported.map((s) => parseVersion(s) as number[]);
  const parsed: Record<'version' | 'min' | 'max', number[] | undefined> = { version: undefined, min: undefined, max: undefined };
  for (const k of ['version', 'min', 'max'] as const) {
    const text = req[k];
    if (text === undefined) continue;
    const v = parseVersion(text);
    const name = k === 'version' ? `${header}-Version` : `${header}-${k === 'min' ? 'Min' : 'Max'}`;
    if (!v) return { ok: false, malformed: true, field: name, message: `${name}: ${JSON.stringify(text)} is not a version (digits separated by dots, e.g. 2.0.0)` };
    parsed[k] = v;
  }
  const { version, min, max } = parsed;
  if (min && max && compareVersions(min, max) > 0) return { ok: false, malformed: true, field: `${header}-Min/Max`, message: `${header}-Min ${req.min} is above ${header}-Max ${req.max}` };
  if (version && !ours.some((o) => sameRelease(o, version))) {
    return { ok: false, malformed: false, field: `${header}-Version`, message: `${header}-Version ${req.version}: this repository serves ${supported.join(', ')}` };
  }
  if ((min || max) && !ours.some((o) => (!min || compareVersions(o, min) >= 0 || sameRelease(o, min)) && (!max || compareVersions(o, max) <= 0 || sameRelease(o, max)))) {
    return { ok: false, malformed: false, field: `${header}-Min/Max`, message: `${header}-Min/Max ${req.min ?? '…'} to ${req.max ?? '…'}: this repository serves ${supported.join(', ')}` };
  }
  return { ok: true };
}

// ---- GS1-EPC-Format -----------------------------------------------------------------------------------

/** The REST binding's values of GS1-EPC-Format (how EPCs are written in query answers). */
export const EPC_FORMATS = ['No_Preference', 'Always_GS1_Digital_Link', 'Always_EPC_URN', 'Never_Translates'] as const;
export type EpcFormat = (typeof EPC_FORMATS)[number];

/** The GS1 Company Prefix of an EPC URN (its first dotted component), for the URN schemes that carry one. */
const URN_GCP = /^urn:epc:(?:id|class|idpat):(?:sgtin|lgtin|sscc|sgln|pgln|grai|giai|gdti|gsrn|gsrnp|gcn|sgcn|cpi|itip|upui|gid)?:?(\d{4,12})\./;

/**
 * An identifier as a GS1 Digital Link URI (on id.gs1.org) when it is an EPC URN whose translation is
 * defined without more knowledge (the URN names its company prefix split): SGTIN, LGTIN, SSCC, SGLN,
 * PGLN, GRAI, GIAI, GDTI. Anything else (a pattern, another scheme, a Digital Link already) as it is.
 */
export function epcAsDigitalLink(id: string, location = false): string {
  if (!/^urn:epc:(id|class):/.test(id)) return id;
  const key = location || /^urn:epc:id:(sgln|pgln):/.test(id) ? parseLocationId(id).key : parseObjectId(id).key;
  return /^https:\/\//.test(key) ? key : id;
}

/** An EPC URN component: the characters TDS allows as they are, the others %-escaped. */
const urnPart = (s: string) => s.replace(/[^A-Za-z0-9!'()*+,\-.:;=_]/g, (c) => [...new TextEncoder().encode(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));

/**
 * A GS1 Digital Link URI as its EPC URN when one of the company prefixes known splits its key (EPC URNs
 * name the prefix; a Digital Link does not, and its length depends on GS1's allocation): GTIN + serial
 * (SGTIN), GTIN + lot (LGTIN), SSCC, GLN (+ extension: SGLN), party GLN (PGLN). Otherwise as it is: the
 * binding's rule when no translation is made, the original format kept.
 */
export function epcAsUrn(id: string, prefixes: ReadonlySet<string>, location = false): string {
  if (!/^https?:\/\//i.test(id)) return id;
  const split = (digits: string): [string, string] | undefined => {
    for (let n = 12; n >= 4; n--) if (prefixes.has(digits.slice(0, n))) return [digits.slice(0, n), digits.slice(n)];
    return undefined;
  };
  const party = /^https?:\/\/[^/]+\/417\/(\d{13})(?:[?#].*)?$/i.exec(id);
  if (party) {
    const s = split(party[1].slice(0, 12));
    return s ? `urn:epc:id:pgln:${s[0]}.${s[1]}` : id;
  }
  const loc = location || /\/414\//.test(id) ? parseLocationId(id) : undefined;
  if (loc?.gln) {
    const s = split(loc.gln.slice(0, 12));
    if (!s) return id;
    return `urn:epc:id:sgln:${s[0]}.${s[1]}.${loc.extension === undefined ? '0' : urnPart(loc.extension)}`;
  }
  const ref = parseObjectId(id);
  if (ref.kind === 'trade-item') {
    const s = split(ref.gtin.slice(1, 13));
    if (!s) return id;
    const item = `${ref.gtin[0]}${s[1]}`;
    if (ref.serial !== undefined) return `urn:epc:id:sgtin:${s[0]}.${item}.${urnPart(ref.serial)}`;
    if (ref.lot !== undefined) return `urn:epc:class:lgtin:${s[0]}.${item}.${urnPart(ref.lot)}`;
    return id;
  }
  const sscc = /^https:\/\/id\.gs1\.org\/00\/(\d{18})$/.exec(ref.key);
  if (sscc) {
    const s = split(sscc[1].slice(1, 17));
    return s ? `urn:epc:id:sscc:${s[0]}.${sscc[1][0]}${s[1]}` : id;
  }
  return id;
}

type Located = { id: string } | undefined;
const EPC_LISTS = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'] as const;
const CLASS_LISTS = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'] as const;

/** Every identifier of an event GS1-EPC-Format applies to, with whether it names a location. */
function identifiersOf(e: EpcisEvent): { id: string; location: boolean }[] {
  const m = e as Record<string, unknown>;
  return [
    ...EPC_LISTS.flatMap((f) => ((m[f] as string[] | undefined) ?? []).map((id) => ({ id, location: false }))),
    ...(e.parentID ? [{ id: e.parentID, location: false }] : []),
    ...CLASS_LISTS.flatMap((f) => ((m[f] as { epcClass: string }[] | undefined) ?? []).map((q) => ({ id: q.epcClass, location: false }))),
    ...[e.readPoint, e.bizLocation].flatMap((l: Located) => (l ? [{ id: l.id, location: true }] : [])),
    ...(e.sourceList ?? []).map((s) => ({ id: s.source, location: true })),
    ...(e.destinationList ?? []).map((d) => ({ id: d.destination, location: true })),
  ];
}

/** The company prefixes the EPC URNs of these events name (the only prefix lengths this repository knows). */
export function companyPrefixesOf(events: EpcisEvent[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) for (const { id } of identifiersOf(e)) {
    const m = URN_GCP.exec(id);
    if (m) out.add(m[1]);
  }
  return out;
}

/**
 * An event with its EPCs, EPC classes, locations, sources and destinations written as GS1-EPC-Format
 * asks (a copy): Always_GS1_Digital_Link translates every EPC URN with a Digital Link form;
 * Always_EPC_URN translates a Digital Link when one of `prefixes` splits its key (else it stays as it
 * is); No_Preference and Never_Translates keep what was captured. Extensions and ILMD are left alone.
 */
export function withEpcFormat<E extends EpcisEvent>(event: E, format: EpcFormat, prefixes: ReadonlySet<string> = new Set()): E {
  if (format !== 'Always_GS1_Digital_Link' && format !== 'Always_EPC_URN') return event;
  const t = (id: string, location = false) => (format === 'Always_GS1_Digital_Link' ? epcAsDigitalLink(id, location) : epcAsUrn(id, prefixes, location));
  const e = { ...event } as E;
  const m = e as Record<string, unknown>;
  for (const f of EPC_LISTS) if (Array.isArray(m[f])) m[f] = (m[f] as string[]).map((id) => t(id));
  if (e.parentID) e.parentID = t(e.parentID);
  for (const f of CLASS_LISTS) if (Array.isArray(m[f])) m[f] = (m[f] as { epcClass: string }[]).map((q) => ({ ...q, epcClass: t(q.epcClass) }));
  if (e.readPoint) e.readPoint = { ...e.readPoint, id: t(e.readPoint.id, true) };
  if (e.bizLocation) e.bizLocation = { ...e.bizLocation, id: t(e.bizLocation.id, true) };
  if (e.sourceList) e.sourceList = e.sourceList.map((s) => ({ ...s, source: t(s.source, true) }));
  if (e.destinationList) e.destinationList = e.destinationList.map((d) => ({ ...d, destination: t(d.destination, true) }));
  return e;
}
