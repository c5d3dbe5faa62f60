import {
  Gs1Error,
  defaultDrugCodeCheck,
  generateDrugTraceCode,
  parseDigitalLink,
  parseDrugTraceCode,
  parseGs1ElementString,
  type DrugCodeCheck,
} from '@trace/gs1';
import { categoriesWithRules, parseCategoryList, type CategoryEntry, type DomainRules, type RuleRefusal } from '@trace/trace-chain';

/**
 * Drug and vaccine rules: batch release (批签发) before a vaccine batch is
 * sold, no sale of expired stock, unit codes verified and dispensed once.
 * Pure: the service passes `facts.releasedAt` (the batch's release, if any).
 */

/** Categories whose batches need a batch release before they move to market; `DRUG_RELEASE_CATEGORIES`. */
export const DEFAULT_RELEASE_CATEGORIES = ['vaccine'] as const;
/** The closed list of drug categories. */
export const DRUG_CATEGORIES: readonly CategoryEntry[] = [
  { code: 'vaccine', name: { zh: '疫苗', en: 'Vaccines' } },
  { code: 'blood_product', name: { zh: '血液制品', en: 'Blood products' } },
  { code: 'biological', name: { zh: '生物制品', en: 'Biological products' } },
  { code: 'tablet', name: { zh: '片剂', en: 'Tablets' } },
  { code: 'capsule', name: { zh: '胶囊剂', en: 'Capsules' } },
  { code: 'granule', name: { zh: '颗粒剂', en: 'Granules' } },
  { code: 'injection', name: { zh: '注射剂', en: 'Injections' } },
  { code: 'oral_liquid', name: { zh: '口服液体制剂', en: 'Oral liquids' } },
  { code: 'ointment', name: { zh: '软膏剂', en: 'Ointments' } },
  { code: 'tcm', name: { zh: '中成药', en: 'Traditional Chinese medicines' } },
  { code: 'api', name: { zh: '原料药', en: 'Active pharmaceutical ingredients' } },
];

/** Steps that put a batch on the market. */
export const MARKET_STEPS = ['shipping', 'retail_selling', 'dispensing'] as const;
/** Steps that hand a drug to a patient or consumer: never after expiry. */
export const SALE_STEPS = ['retail_selling', 'dispensing'] as const;
/** Organisations that dispense to patients. */
export const DISPENSER_KINDS = ['pharmacy', 'hospital'] as const;

export interface DrugRulesOptions {
  releaseCategories?: readonly string[];
}

export interface DrugFacts {
  releasedAt?: string | null;
}

export function drugRules(options: DrugRulesOptions = {}): DomainRules & { releaseCategories: readonly string[] } {
  const categories = options.releaseCategories ?? DEFAULT_RELEASE_CATEGORIES;
  return {
    domain: 'drug',
    categories: categoriesWithRules(DRUG_CATEGORIES, { 'batch-release-required': { categories, setting: 'DRUG_RELEASE_CATEGORIES' } }, ['batch-expired']),
    releaseCategories: categories,
    onEvent(ctx, facts: DrugFacts) {
      const step = ctx.event.bizStep as string;
      if ((MARKET_STEPS as readonly string[]).includes(step) && categories.includes(ctx.batch.productCategory) && !facts.releasedAt) {
        return {
          status: 409,
          rule: 'batch-release-required',
          message: `A ${ctx.batch.productCategory} batch needs its batch release (批签发) by the regulator before ${step}`,
        };
      }
      if ((SALE_STEPS as readonly string[]).includes(step) && ctx.batch.expiresAt) {
        const at = ctx.event.eventTime ? new Date(ctx.event.eventTime) : new Date();
        if (at.getTime() >= new Date(ctx.batch.expiresAt).getTime()) {
          return { status: 409, rule: 'batch-expired', message: `The batch expired at ${ctx.batch.expiresAt}: it cannot be ${step === 'dispensing' ? 'dispensed' : 'sold'}` };
        }
      }
      return undefined;
    },
  };
}

export const drugRulesFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  drugRules({ releaseCategories: parseCategoryList(env.DRUG_RELEASE_CATEGORIES, DEFAULT_RELEASE_CATEGORIES, 'DRUG_RELEASE_CATEGORIES') });

/** Only a pharmacy or a hospital dispenses to patients. */
export function dispenserRefusal(orgKind: string | undefined): RuleRefusal | undefined {
  if (orgKind && (DISPENSER_KINDS as readonly string[]).includes(orgKind)) return undefined;
  return { status: 403, rule: 'dispenser-kind', message: `Only a pharmacy or a hospital dispenses; this organisation is a ${orgKind ?? 'unknown kind'}` };
}

/** Who may record a batch release: any time before the batch is finished or recalled, once. */
export function releaseRefusal(batchStatus: string, existing: string | null | undefined): RuleRefusal | undefined {
  if (existing) return { status: 409, rule: 'already-released', message: `The batch was released already (${existing})` };
  if (['recalled', 'destroyed', 'dispensed'].includes(batchStatus)) {
    return { status: 409, rule: `batch-${batchStatus}`, message: `The batch is ${batchStatus}: it cannot be released` };
  }
  return undefined;
}

// ----------------------------------------------------------------- unit codes

/**
 * A unit (pack) code in its canonical stored form. Two forms are accepted:
 * - `cn`: the 20-digit Chinese drug trace code (药品追溯码): 7-digit product
 *   identification code + 9-digit serial + 4-digit check, checked with
 *   libs/gs1's drug-code check (a documented STAND-IN until the official
 *   algorithm is known; see libs/gs1/src/drug-code.ts). Exactly 20 digits
 *   always means this form.
 * - `gs1`: GTIN + serial from a GS1 Data Matrix element string
 *   `(01)…(17)…(10)…(21)…` (or its raw form) or a Digital Link
 *   `/01/…/10/…/21/…`; stored as `(01)<gtin14>(21)<serial>`.
 */
export interface UnitCode {
  kind: 'cn' | 'gs1';
  code: string;
  serial: string;
  productCode?: string;
  gtin?: string;
  lot?: string;
}

export class UnitCodeError extends Error {
  constructor(
    public readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

export function parseUnitCode(input: string, check: DrugCodeCheck = defaultDrugCodeCheck): UnitCode {
  if (typeof input !== 'string' || input.trim() === '') throw new UnitCodeError('unit-code', 'A code is required');
  const s = input.trim();
  try {
    if (/^\d{20}$/.test(s)) {
      const p = parseDrugTraceCode(s, check);
      return { kind: 'cn', code: s, serial: p.serial, productCode: p.productCode };
    }
    let gtin: string | undefined;
    let serial: string | undefined;
    let lot: string | undefined;
    if (s.startsWith('/') || /^https?:\/\//i.test(s)) {
      const dl = parseDigitalLink(s);
      ({ gtin, serial, lot } = dl);
    } else if (/^(\(|\]|01)/.test(s)) {
      const ais = parseGs1ElementString(s);
      gtin = ais['01'];
      serial = ais['21'];
      lot = ais['10'];
    } else if (/^\d+$/.test(s)) {
      throw new UnitCodeError('unit-code', `A Chinese drug trace code has 20 digits, got ${s.length}`);
    } else {
      throw new UnitCodeError('unit-code', 'Not a drug trace code (20 digits) nor a GS1 element string or Digital Link');
    }
    if (!gtin || !serial) throw new UnitCodeError('unit-code', 'A GS1 unit code needs a GTIN (01) and a serial (21)');
    return { kind: 'gs1', code: `(01)${gtin}(21)${serial}`, serial, gtin, ...(lot ? { lot } : {}) };
  } catch (err) {
    if (err instanceof Gs1Error) throw new UnitCodeError(err.code === 'drug.check_digit' ? 'unit-code-check' : 'unit-code', err.message);
    throw err;
  }
}

/** A parsed code must belong to the batch it is registered for. */
export function codeFitsBatch(
  c: UnitCode,
  batch: { gtin: string; lot: string; productCode?: string },
): RuleRefusal | undefined {
  if (c.kind === 'gs1') {
    if (c.gtin !== batch.gtin) {
      return { status: 422, rule: 'code-gtin-mismatch', message: `Code ${c.code} carries GTIN ${c.gtin}, the batch is GTIN ${batch.gtin}` };
    }
    if (c.lot !== undefined && c.lot !== batch.lot) {
      return { status: 422, rule: 'code-lot-mismatch', message: `Code ${c.code} carries lot ${c.lot}, the batch is lot ${batch.lot}` };
    }
  } else if (batch.productCode && c.productCode !== batch.productCode) {
    return {
      status: 422,
      rule: 'code-product-mismatch',
      message: `Code ${c.code} is of product identification code ${c.productCode}; the product's is ${batch.productCode}`,
    };
  }
  return undefined;
}

/** The product's 7-digit identification code, when its attributes name one (`drugProductCode`). */
export function productCodeOf(attributes: Record<string, unknown> | null | undefined): string | undefined {
  const v = attributes?.drugProductCode;
  return typeof v === 'string' && /^\d{7}$/.test(v) ? v : undefined;
}

const SERIAL_CHARS = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * Generates a unit code from random bytes (at least 12): a 20-digit Chinese
 * trace code when the product has a 7-digit identification code, else a GS1
 * GTIN + 12-character serial. Random serials cannot be guessed by a
 * counterfeiter.
 */
export function generateUnitCode(batch: { gtin: string; productCode?: string }, random: Uint8Array): string {
  if (random.length < 12) throw new Error('generateUnitCode needs 12 random bytes');
  if (batch.productCode) {
    let serial = '';
    for (let i = 0; i < 9; i++) serial += String(random[i] % 10);
    return generateDrugTraceCode(batch.productCode, serial);
  }
  let serial = '';
  for (let i = 0; i < 12; i++) serial += SERIAL_CHARS[random[i] % SERIAL_CHARS.length];
  return `(01)${batch.gtin}(21)${serial}`;
}

export const VERIFICATION_STATUSES = ['VERIFIED', 'UNKNOWN', 'RECALLED', 'DISPENSED', 'EXPIRED'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/**
 * What a verification answers, most serious first: a recalled batch, a code
 * already dispensed (a second pack with it is a copy), an expired batch;
 * a code of a destroyed batch should not exist in the market: UNKNOWN.
 */
export function verificationStatus(
  code: { status: string } | undefined,
  batch: { status: string; expiresAt: Date | null } | undefined,
  now: Date,
): VerificationStatus {
  if (!code || !batch) return 'UNKNOWN';
  if (batch.status === 'recalled') return 'RECALLED';
  if (code.status === 'dispensed' || batch.status === 'dispensed') return 'DISPENSED';
  if (batch.status === 'destroyed') return 'UNKNOWN';
  if (batch.expiresAt && batch.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return 'VERIFIED';
}

/** A code may be dispensed once. */
export function codeDispensable(code: { code: string; status: string }): RuleRefusal | undefined {
  if (code.status === 'dispensed') return { status: 409, rule: 'code-dispensed', message: `Code ${code.code} was dispensed already` };
  return undefined;
}
