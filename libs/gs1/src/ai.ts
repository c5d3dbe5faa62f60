import { checkDigitHint, isValidGs1Key } from './check-digit';
import { isGs1DateAi, parseGs1Date } from './date';
import { Gs1Error } from './errors';

/**
 * How an AI is used in GS1 Digital Link: a primary key, a key qualifier (only
 * in the path) or a data attribute (only in the query string).
 */
export type AiRole = 'key' | 'qualifier' | 'attribute';

export interface AiDefinition {
  readonly ai: string;
  readonly title: string;
  /** N = digits, X = GS1 AI encodable character set 82. */
  readonly charset: 'N' | 'X';
  readonly minLength: number;
  readonly maxLength: number;
  /** Last digit is a GS1 mod-10 check digit. */
  readonly checkDigit: boolean;
  readonly role: AiRole;
}

const def = (
  ai: string,
  title: string,
  format: string,
  opts: { checkDigit?: boolean; role?: AiRole } = {},
): AiDefinition => {
  // format is GS1 notation: N14 (fixed) or X..20 (variable, 1..20)
  const m = /^([NX])(\.\.)?(\d+)$/.exec(format);
  if (!m) throw new Error(`bad AI format ${format}`);
  const max = Number(m[3]);
  return {
    ai,
    title,
    charset: m[1] as 'N' | 'X',
    minLength: m[2] ? 1 : max,
    maxLength: max,
    checkDigit: opts.checkDigit ?? false,
    role: opts.role ?? 'attribute',
  };
};

/**
 * The AIs this library understands: keys and attributes met in product
 * traceability (food, drugs, logistics). Deliberately not the whole GS1 list;
 * anything else is refused rather than passed through unchecked.
 */
const DEFINITIONS: AiDefinition[] = [
  def('00', 'SSCC', 'N18', { checkDigit: true, role: 'key' }),
  def('01', 'GTIN', 'N14', { checkDigit: true, role: 'key' }),
  def('02', 'CONTENT', 'N14', { checkDigit: true }),
  def('10', 'BATCH/LOT', 'X..20', { role: 'qualifier' }),
  def('11', 'PROD DATE', 'N6'),
  def('12', 'DUE DATE', 'N6'),
  def('13', 'PACK DATE', 'N6'),
  def('15', 'BEST BEFORE', 'N6'),
  def('16', 'SELL BY', 'N6'),
  def('17', 'USE BY OR EXPIRY', 'N6'),
  def('20', 'VARIANT', 'N2'),
  def('21', 'SERIAL', 'X..20', { role: 'qualifier' }),
  def('22', 'CPV', 'X..20', { role: 'qualifier' }),
  def('30', 'VAR. COUNT', 'N..8'),
  def('37', 'COUNT', 'N..8'),
  def('240', 'ADDITIONAL ID', 'X..30'),
  def('241', 'CUST. PART No.', 'X..30'),
  def('250', 'SECONDARY SERIAL', 'X..30'),
  def('400', 'ORDER NUMBER', 'X..30'),
  def('410', 'SHIP TO LOC', 'N13', { checkDigit: true }),
  def('411', 'BILL TO', 'N13', { checkDigit: true }),
  def('412', 'PURCHASE FROM', 'N13', { checkDigit: true }),
  def('413', 'SHIP FOR LOC', 'N13', { checkDigit: true }),
  def('414', 'LOC No.', 'N13', { checkDigit: true, role: 'key' }),
  def('415', 'PAY TO', 'N13', { checkDigit: true }),
  def('416', 'PROD/SERV LOC', 'N13', { checkDigit: true }),
  def('422', 'ORIGIN', 'N3'),
  ...[0, 1, 2, 3, 4, 5].map((d) => def(`310${d}`, `NET WEIGHT (kg), ${d} decimals`, 'N6')),
  def('90', 'INTERNAL', 'X..30'),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => def(`9${d}`, 'INTERNAL', 'X..90')),
];

export const AI_DEFINITIONS: ReadonlyMap<string, AiDefinition> = new Map(DEFINITIONS.map((d) => [d.ai, d]));

export function getAiDefinition(ai: string): AiDefinition | undefined {
  return AI_DEFINITIONS.get(ai);
}

/**
 * Two-digit AI prefixes whose element strings have a predefined length and so
 * need no FNC1/GS separator in a barcode (GS1 General Specifications, figure
 * 5.10.1-2). Fixed-length AIs outside this list (e.g. 422) still need one.
 */
const PREDEFINED_LENGTH_PREFIXES = new Set([
  '00', '01', '02', '03', '04', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20',
  '31', '32', '33', '34', '35', '36', '41',
]);

export function hasPredefinedLength(ai: string): boolean {
  return PREDEFINED_LENGTH_PREFIXES.has(ai.slice(0, 2));
}

/** GS1 AI encodable character set 82 (General Specifications figure 7.11-1). */
const CSET82 = /^[!"%-?A-Z_a-z]*$/;

export function isCset82(value: string): boolean {
  return CSET82.test(value);
}

/**
 * Checks `value` against the definition of `ai`: charset, length, check digit
 * and, for date AIs, that the date exists. Throws Gs1Error; returns nothing.
 */
export function validateAiValue(ai: string, value: string, now?: Date): void {
  const d = AI_DEFINITIONS.get(ai);
  if (!d) throw new Gs1Error('ai.unknown', `Unknown or unsupported AI (${ai})`, ai);
  if (typeof value !== 'string') throw new Gs1Error('ai.charset', `AI (${ai}) value must be a string`, ai);
  const okChars = d.charset === 'N' ? /^\d*$/.test(value) : isCset82(value);
  if (!okChars) {
    const what = d.charset === 'N' ? 'digits only' : 'characters of GS1 set 82 only';
    throw new Gs1Error('ai.charset', `AI (${ai}) ${d.title} must contain ${what}`, ai);
  }
  if (value.length < d.minLength || value.length > d.maxLength) {
    const want = d.minLength === d.maxLength ? `${d.maxLength}` : `${d.minLength} to ${d.maxLength}`;
    throw new Gs1Error('ai.length', `AI (${ai}) ${d.title} must be ${want} characters, got ${value.length}`, ai);
  }
  if (d.checkDigit && !isValidGs1Key(value)) {
    throw new Gs1Error('ai.check_digit', `AI (${ai}) ${d.title} has a wrong check digit: ${checkDigitHint(value)}`, ai);
  }
  if (isGs1DateAi(ai)) parseGs1Date(ai, value, now);
}
