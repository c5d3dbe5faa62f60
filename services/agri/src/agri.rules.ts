import { categoriesWithRules, parseCategoryList, type BatchStatus, type CategoryEntry, type DomainRules, type Holding, type RuleRefusal } from '@trace/trace-chain';

/**
 * Rules of the agricultural commitment-to-compliance certificate
 * (承诺达标合格证, MARA rule 2025, in force 2026-02-01). Pure: the service
 * passes `facts.certificateNumber` (the batch's own certificate, if any).
 */

/** Categories whose production batches need a certificate before they are sold (DOMAIN.md §5). */
export const DEFAULT_CERTIFICATE_CATEGORIES = ['vegetable', 'fruit', 'tea', 'livestock', 'poultry', 'egg', 'aquatic'] as const;

/** The closed list of agricultural product categories (食用农产品). */
export const AGRI_CATEGORIES: readonly CategoryEntry[] = [
  { code: 'vegetable', name: { zh: '蔬菜', en: 'Vegetables' } },
  { code: 'fruit', name: { zh: '水果', en: 'Fruit' } },
  { code: 'tea', name: { zh: '茶叶', en: 'Tea' } },
  { code: 'livestock', name: { zh: '畜产品', en: 'Livestock products' } },
  { code: 'poultry', name: { zh: '禽类', en: 'Poultry' } },
  { code: 'egg', name: { zh: '鲜禽蛋', en: 'Eggs' } },
  { code: 'aquatic', name: { zh: '养殖水产品', en: 'Aquatic products' } },
  { code: 'grain', name: { zh: '粮食', en: 'Grain' } },
  { code: 'oilseed', name: { zh: '油料', en: 'Oilseeds' } },
  { code: 'edible_fungus', name: { zh: '食用菌', en: 'Edible fungi' } },
  { code: 'nut', name: { zh: '坚果', en: 'Nuts' } },
  { code: 'honey', name: { zh: '蜂产品', en: 'Bee products' } },
];

/** Steps that put a batch on the market: it must carry its certificate by then. */
export const CERTIFIED_MOVEMENTS = ['shipping', 'retail_selling'] as const;

export const CERTIFICATE_BASES = ['self_test', 'entrusted_test', 'internal_control'] as const;
export type CertificateBasis = (typeof CERTIFICATE_BASES)[number];

/** The three commitments the certificate makes; other wording is kept as given. */
export const STANDARD_COMMITMENTS = ['no_banned_substances', 'withdrawal_periods_respected', 'residues_within_limits'] as const;

export interface AgriRulesOptions {
  /** Product categories that need a certificate; `AGRI_CERTIFICATE_CATEGORIES` (comma-separated) in the environment. */
  certificateCategories?: readonly string[];
}

export interface AgriFacts {
  /** The certificate issued for this very batch (a mixed or repacked lot needs its own). */
  certificateNumber?: string | null;
}

export function agriRules(options: AgriRulesOptions = {}): DomainRules & { certificateCategories: readonly string[] } {
  const categories = options.certificateCategories ?? DEFAULT_CERTIFICATE_CATEGORIES;
  return {
    domain: 'agri',
    categories: categoriesWithRules(AGRI_CATEGORIES, { 'certificate-required': { categories, setting: 'AGRI_CERTIFICATE_CATEGORIES' } }),
    certificateCategories: categories,
    onEvent(ctx, facts: AgriFacts) {
      if (!(CERTIFIED_MOVEMENTS as readonly string[]).includes(ctx.event.bizStep)) return undefined;
      if (!categories.includes(ctx.batch.productCategory)) return undefined;
      if (facts.certificateNumber) return undefined;
      return {
        status: 409,
        rule: 'certificate-required',
        message:
          `A ${ctx.batch.productCategory} batch needs its own commitment-to-compliance certificate (承诺达标合格证) before ` +
          `${ctx.event.bizStep}: issue one with POST /v1/agri/batches/${ctx.batch.id}/certificate`,
      };
    },
  };
}

/** Reads the configured category list from the environment (defaults when unset). */
export const agriRulesFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  agriRules({
    certificateCategories: parseCategoryList(env.AGRI_CERTIFICATE_CATEGORIES, DEFAULT_CERTIFICATE_CATEGORIES, 'AGRI_CERTIFICATE_CATEGORIES'),
  });

/**
 * Who may issue a batch's certificate, and when: an organisation holding some
 * of it now (its producer, whoever mixed or repacked it into this lot, or
 * took part of it on), while the batch is active, once. One that shipped all
 * it held is told it shipped already; one that holds none of it otherwise
 * (never did, or passed it all on) is no holder.
 */
export function certificateIssuable(
  batch: { id: string; status: BatchStatus },
  actorOrgId: string,
  holdings: readonly Holding[],
  existingNumber: string | null | undefined,
): RuleRefusal | undefined {
  const mine = holdings.find((h) => h.orgId === actorOrgId);
  if (!mine || mine.quantity <= 0) {
    const shippedAll = !!mine && mine.received > 0 && holdings.some((h) => h.orgId !== actorOrgId && h.inTransit > 0);
    return shippedAll
      ? { status: 409, rule: 'in-transit', message: 'The batch is in transit: your organisation shipped all it held of it already' }
      : { status: 403, rule: 'not-the-holder', message: 'Only an organisation holding some of the batch may issue its certificate' };
  }
  if (batch.status !== 'active') {
    return { status: 409, rule: `batch-${batch.status}`, message: `The batch is ${batch.status}: no certificate can be issued for it` };
  }
  if (existingNumber) {
    return {
      status: 409,
      rule: 'certificate-exists',
      message: `Batch ${batch.id} already has certificate ${existingNumber}; a new lot (mixed or repacked) gets its own`,
    };
  }
  return undefined;
}

/**
 * Checks what the issuer states on the certificate: at least one commitment,
 * each a short text (the standard ones are STANDARD_COMMITMENTS), a basis,
 * a phone number to reach the producer and the origin.
 */
export function validateCertificateRequest(req: {
  commitments: string[];
  basis: string;
  contact: string;
  origin: string;
}): RuleRefusal | undefined {
  if (!Array.isArray(req.commitments) || req.commitments.length === 0) {
    return { status: 400, rule: 'certificate-commitments', field: 'commitments', message: 'The certificate must state at least one commitment' };
  }
  const seen = new Set<string>();
  for (const c of req.commitments) {
    const key = String(c).trim();
    if (key === '' || key.length > 200) {
      return { status: 400, rule: 'certificate-commitments', field: 'commitments', message: 'Each commitment is a text of 1-200 characters' };
    }
    if (seen.has(key)) return { status: 400, rule: 'certificate-commitments', field: 'commitments', message: `Commitment "${key}" is listed twice` };
    seen.add(key);
  }
  if (!(CERTIFICATE_BASES as readonly string[]).includes(req.basis)) {
    return { status: 400, rule: 'certificate-basis', field: 'basis', message: `basis must be one of ${CERTIFICATE_BASES.join(', ')}` };
  }
  if (!isPhoneNumber(req.contact)) {
    return {
      status: 400,
      rule: 'certificate-contact',
      field: 'contact',
      message: 'contact must be a phone number: 6-15 digits, optionally with +, spaces, dashes or parentheses',
    };
  }
  if (typeof req.origin !== 'string' || req.origin.trim() === '') {
    return { status: 400, rule: 'certificate-origin', field: 'origin', message: 'origin (where the product was grown or raised) is required' };
  }
  return undefined;
}

export function isPhoneNumber(s: string): boolean {
  if (typeof s !== 'string' || !/^\+?[0-9 ()-]{6,24}$/.test(s.trim())) return false;
  const digits = s.replace(/\D/g, '');
  return digits.length >= 6 && digits.length <= 15;
}

// Crockford base32: no I, L, O, U, so a number read off paper is not misread.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Certificate numbers: `AC` + issue date (YYYYMMDD, UTC+8, the date printed on
 * the certificate) + `-` + 8 random Crockford base32 characters (40 bits),
 * e.g. `AC20261120-7K3QX9PM`. Unique (enforced by the table); random rather
 * than sequential so numbers cannot be guessed to forge a certificate.
 */
export function certificateNumber(issuedAt: Date, random: Uint8Array): string {
  if (random.length < 5) throw new Error('certificateNumber needs 5 random bytes');
  const day = new Date(issuedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 10).replace(/-/g, '');
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(random[i]);
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix = ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)] + suffix;
  return `AC${day}-${suffix}`;
}

export const CERTIFICATE_NUMBER = /^AC\d{8}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/;
export const isCertificateNumber = (s: string) => CERTIFICATE_NUMBER.test(s);
