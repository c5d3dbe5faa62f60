import { createHash } from 'node:crypto';
import { gs1CheckDigit, parseDigitalLink, formatDigitalLink } from '@trace/gs1';

/**
 * EPCIS identifiers come as EPC URNs (`urn:epc:id:sgtin:…`) or as GS1 Digital
 * Link URIs (`https://id.gs1.org/01/…`). Both name the same things, so every
 * comparison (batch look-up, de-duplication, query matching) goes through one
 * canonical form: the Digital Link on id.gs1.org, the form GS1's event hash
 * algorithm also normalises to.
 */
export const CANONICAL_DL_HOST = 'https://id.gs1.org';

/** An object of an event, as the trace chain sees it. */
export type ObjectRef =
  | { kind: 'trade-item'; gtin: string; lot?: string; serial?: string; key: string }
  /** A GS1 key that is not a batch of ours (SSCC, GRAI, GIAI, an idpat class…): kept, matched, never a chain. */
  | { kind: 'other'; key: string };

export interface LocationRef {
  /** GLN-13 when the location is a GS1 location. */
  gln?: string;
  extension?: string;
  key: string;
}

const withCheck = (digits: string) => `${digits}${gs1CheckDigit(digits)}`;
const urnDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** GTIN-14 from an SGTIN/LGTIN company prefix and item reference (indicator digit first). */
function gtinFromParts(companyPrefix: string, itemRef: string): string | undefined {
  if (!/^\d+$/.test(companyPrefix) || !/^\d+$/.test(itemRef) || companyPrefix.length + itemRef.length !== 13) return undefined;
  return withCheck(`${itemRef[0]}${companyPrefix}${itemRef.slice(1)}`);
}

function tradeItem(gtin: string, lot?: string, serial?: string): ObjectRef {
  return { kind: 'trade-item', gtin, lot, serial, key: formatDigitalLink({ gtin, lot, serial }, CANONICAL_DL_HOST) };
}

/** Parses an EPC (instance or class, URN or Digital Link) into its canonical reference. */
export function parseObjectId(uri: string): ObjectRef {
  let ref = objectMemo.get(uri);
  if (ref === undefined) {
    try {
      ref = parseObject(uri.trim());
    } catch {
      // A value our GS1 rules refuse (bad check digit, characters outside the set) is still a name: match it as given.
      ref = { kind: 'other', key: uri.trim() };
    }
    remember(objectMemo, uri, Object.freeze(ref));
  }
  return ref;
}

/**
 * parseObjectId and parseLocationId are pure and a captured document names the same lots and places
 * in thousands of events: answers are kept (frozen, shared) in bounded memos.
 */
const objectMemo = new Map<string, ObjectRef>();
const locationMemo = new Map<string, LocationRef>();
const MEMO_SIZE = 50_000;
function remember<T>(memo: Map<string, T>, key: string, value: T): void {
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(key, value);
}

function parseObject(id: string): ObjectRef {
  let m = /^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$/.exec(id);
  if (m) {
    const gtin = gtinFromParts(m[1], m[2]);
    if (gtin) return tradeItem(gtin, undefined, urnDecode(m[3]));
  }
  m = /^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$/.exec(id);
  if (m) {
    const gtin = gtinFromParts(m[1], m[2]);
    if (gtin) return tradeItem(gtin, urnDecode(m[3]));
  }
  m = /^urn:epc:idpat:sgtin:(\d+)\.(\d+)\.\*$/.exec(id);
  if (m) {
    const gtin = gtinFromParts(m[1], m[2]);
    if (gtin) return { kind: 'other', key: `${CANONICAL_DL_HOST}/01/${gtin}` };
  }
  m = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(id);
  if (m && m[1].length + m[2].length === 17) return { kind: 'other', key: `${CANONICAL_DL_HOST}/00/${withCheck(`${m[2][0]}${m[1]}${m[2].slice(1)}`)}` };
  // Other GS1 keys in their Digital Link form on id.gs1.org, as GS1's event hash normalises them.
  m = /^urn:epc:id:grai:(\d+)\.(\d*)\.(.*)$/.exec(id);
  if (m && m[1].length + m[2].length === 12) return { kind: 'other', key: `${CANONICAL_DL_HOST}/8003/0${withCheck(`${m[1]}${m[2]}`)}${encodeURIComponent(urnDecode(m[3]))}` };
  m = /^urn:epc:id:giai:(\d+)\.(.+)$/.exec(id);
  if (m) return { kind: 'other', key: `${CANONICAL_DL_HOST}/8004/${m[1]}${encodeURIComponent(urnDecode(m[2]))}` };
  m = /^urn:epc:id:gdti:(\d+)\.(\d*)\.(.*)$/.exec(id);
  if (m && m[1].length + m[2].length === 12) return { kind: 'other', key: `${CANONICAL_DL_HOST}/253/${withCheck(`${m[1]}${m[2]}`)}${encodeURIComponent(urnDecode(m[3]))}` };
  if (/^urn:epc:id:(sgln|pgln):/.test(id)) {
    const loc = parseLocationId(id);
    if (loc.gln) return { kind: 'other', key: loc.key };
  }
  m = /^https?:\/\/[^/]+(\/(?:00|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018)\/[^?#]*)(?:[?#].*)?$/i.exec(id);
  if (m) return { kind: 'other', key: `${CANONICAL_DL_HOST}${m[1]}` };
  if (/^https?:\/\/[^/]+\/01\//i.test(id)) {
    try {
      const dl = parseDigitalLink(id);
      // A GTIN alone (no lot, no serial) is a product class, not a batch.
      if (dl.lot === undefined && dl.serial === undefined) return { kind: 'other', key: `${CANONICAL_DL_HOST}/01/${dl.gtin}` };
      return tradeItem(dl.gtin, dl.lot, dl.serial);
    } catch {
      return { kind: 'other', key: id };
    }
  }
  return { kind: 'other', key: id };
}

/** Parses a readPoint / bizLocation id (SGLN URN or Digital Link with AI 414). */
export function parseLocationId(uri: string): LocationRef {
  let ref = locationMemo.get(uri);
  if (ref === undefined) {
    ref = Object.freeze(parseLocation(uri));
    remember(locationMemo, uri, ref);
  }
  return ref;
}

function parseLocation(uri: string): LocationRef {
  const id = uri.trim();
  let m = /^urn:epc:id:sgln:(\d+)\.(\d*)\.(.+)$/.exec(id);
  if (m && m[1].length + m[2].length === 12) {
    const gln = withCheck(`${m[1]}${m[2]}`);
    const extension = m[3] === '0' ? undefined : urnDecode(m[3]);
    return { gln, extension, key: locationKey(gln, extension) };
  }
  m = /^urn:epc:id:pgln:(\d+)\.(\d*)$/.exec(id);
  if (m && m[1].length + m[2].length === 12) return { gln: withCheck(`${m[1]}${m[2]}`), key: `${CANONICAL_DL_HOST}/417/${withCheck(`${m[1]}${m[2]}`)}` };
  m = /^https?:\/\/[^/]+\/414\/(\d{13})(?:\/254\/([^/?#]+))?(?:[?#].*)?$/i.exec(id);
  if (m) {
    const extension = m[2] ? urnDecode(m[2]) : undefined;
    return { gln: m[1], extension, key: locationKey(m[1], extension) };
  }
  return { key: id };
}

export const locationKey = (gln: string, extension?: string) =>
  `${CANONICAL_DL_HOST}/414/${gln}${extension ? `/254/${encodeURIComponent(extension)}` : ''}`;

/** A party (an organisation) by its party GLN: the PGLN as a GS1 Digital Link on id.gs1.org, as locations are SGLNs (GS1-EPC-Format turns either into its EPC URN). */
export const partyKey = (gln: string) => `${CANONICAL_DL_HOST}/417/${gln}`;

/** The party GLN a source/destination names: a PGLN EPC URN or a Digital Link with AI 417 (any host); else undefined. */
export function partyGlnOf(uri: string): string | undefined {
  const id = uri.trim();
  const urn = /^urn:epc:id:pgln:(\d+)\.(\d*)$/.exec(id);
  if (urn) return urn[1].length + urn[2].length === 12 ? withCheck(`${urn[1]}${urn[2]}`) : undefined;
  return /^https?:\/\/[^/]+\/417\/(\d{13})(?:[?#].*)?$/i.exec(id)?.[1];
}

/**
 * What a partner export names an organisation or location of ours by when it has no GLN: a stable
 * opaque URN (SHA-256 of the kind and the internal id, 128 bits shown), the same in every export, so a
 * partner can tell one party or place from another, but neither our id nor anything our API accepts as
 * one. Its hashes depend on it: never change this rule (old events' stored hashes would stop matching).
 */
export const opaqueName = (kind: 'party' | 'location', id: string) =>
  `urn:trace:${kind}:${createHash('sha256').update(`${kind}:${id.toLowerCase()}`).digest('hex').slice(0, 32)}`;

/** The canonical id of a batch of ours (a class: GTIN + lot) or a serialised item (GTIN + serial). */
export const batchKey = (gtin: string, lot: string, instance = false) =>
  formatDigitalLink(instance ? { gtin, serial: lot } : { gtin, lot }, CANONICAL_DL_HOST);
