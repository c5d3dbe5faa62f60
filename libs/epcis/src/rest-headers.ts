import type { EpcisEvent } from './types';

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
