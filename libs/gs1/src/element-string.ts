import { type AiDefinition, getAiDefinition, hasPredefinedLength, validateAiValue } from './ai';
import { Gs1Error } from './errors';

/** ASCII GS, which scanners emit for FNC1 separators inside GS1 data. */
export const GS = '\u001d';

/** Symbology identifiers that announce GS1 data (Data Matrix, GS1-128, QR, DataBar, DotCode). */
const GS1_SYMBOLOGY_IDS = new Set([']d2', ']C1', ']Q3', ']e0', ']J1']);

function addElement(out: Record<string, string>, ai: string, value: string): void {
  // A repeated AI is either redundant or contradictory; refusing both keeps the result a plain map.
  if (Object.prototype.hasOwnProperty.call(out, ai)) throw new Gs1Error('es.duplicate', `AI (${ai}) appears more than once`, ai);
  validateAiValue(ai, value);
  out[ai] = value;
}

function parseBracketed(input: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < input.length) {
    const m = /^\((\d{2,4})\)/.exec(input.slice(pos, pos + 6));
    if (!m) throw new Gs1Error('es.format', `Expected "(AI)" at position ${pos}`);
    const ai = m[1];
    if (!getAiDefinition(ai)) throw new Gs1Error('ai.unknown', `Unknown or unsupported AI (${ai})`, ai);
    pos += m[0].length;
    // A literal "(" in data is written "\(" (the GS1 Barcode Syntax Engine convention).
    let value = '';
    while (pos < input.length && input[pos] !== '(') {
      if (input[pos] === '\\') {
        if (input[pos + 1] !== '(') throw new Gs1Error('es.format', `Stray "\\" at position ${pos}`, ai);
        value += '(';
        pos += 2;
      } else {
        value += input[pos++];
      }
    }
    addElement(out, ai, value);
  }
  return out;
}

function parseUnbracketed(input: string): Record<string, string> {
  let data = input;
  if (data.startsWith(']')) {
    const id = data.slice(0, 3);
    if (!GS1_SYMBOLOGY_IDS.has(id)) throw new Gs1Error('es.symbology', `Symbology identifier "${id}" does not announce GS1 data`);
    data = data.slice(3);
  }
  // Some scanners transmit the leading FNC1 as GS.
  if (data.startsWith(GS)) data = data.slice(1);
  if (data === '') throw new Gs1Error('es.empty', 'Element string has no data');

  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    // GS1 AIs are prefix-free, so the first length that names a known AI is the AI.
    let d: AiDefinition | undefined;
    for (let len = 2; len <= 4 && !d; len++) {
      const candidate = data.slice(pos, pos + len);
      if (/^\d+$/.test(candidate) && candidate.length === len) d = getAiDefinition(candidate);
    }
    if (!d) throw new Gs1Error('ai.unknown', `No known AI at position ${pos}`);
    const ai = d.ai;
    pos += ai.length;
    let value: string;
    if (hasPredefinedLength(ai)) {
      value = data.slice(pos, pos + d.maxLength);
      pos += value.length;
      if (data[pos] === GS) pos++; // tolerated, though not needed
    } else {
      const end = data.indexOf(GS, pos);
      value = end < 0 ? data.slice(pos) : data.slice(pos, end);
      pos = end < 0 ? data.length : end + 1;
      if (end >= 0 && pos === data.length) throw new Gs1Error('es.format', 'Element string ends with a separator', ai);
    }
    addElement(out, ai, value);
  }
  return out;
}

/**
 * Parses GS1 element strings as printed under a barcode, "(01)…(17)…(10)…",
 * or as a scanner transmits them: AIs run together, variable-length fields
 * ended by GS (\u001d), optionally led by a symbology identifier such as "]d2".
 * Returns AI → value; every value is checked against its AI's format.
 */
export function parseGs1ElementString(input: string): Record<string, string> {
  if (typeof input !== 'string' || input === '') throw new Gs1Error('es.empty', 'Element string is empty');
  return input.startsWith('(') ? parseBracketed(input) : parseUnbracketed(input);
}

export interface FormatElementStringOptions {
  /** 'hri' (default): "(01)…(10)…"; 'raw': barcode data with GS separators. */
  form?: 'hri' | 'raw';
}

/**
 * Formats AIs as an element string. Keys (01, 00, 414) come first, then the
 * other predefined-length AIs (17, …), then variable-length ones: the
 * conventional order, and the one that needs the fewest GS separators.
 * Within each group the map's order is kept.
 */
export function formatGs1ElementString(ais: Readonly<Record<string, string>>, options: FormatElementStringOptions = {}): string {
  const entries = Object.entries(ais);
  if (entries.length === 0) throw new Gs1Error('es.empty', 'No AIs to format');
  for (const [ai, value] of entries) validateAiValue(ai, value);
  const isKey = (ai: string) => getAiDefinition(ai)?.role === 'key';
  const ordered = [
    ...entries.filter(([ai]) => isKey(ai)),
    ...entries.filter(([ai]) => !isKey(ai) && hasPredefinedLength(ai)),
    ...entries.filter(([ai]) => !isKey(ai) && !hasPredefinedLength(ai)),
  ];
  if (options.form === 'raw') {
    return ordered
      .map(([ai, value], i) => ai + value + (hasPredefinedLength(ai) || i === ordered.length - 1 ? '' : GS))
      .join('');
  }
  return ordered.map(([ai, value]) => `(${ai})${value.replace(/\(/g, '\\(')}`).join('');
}
