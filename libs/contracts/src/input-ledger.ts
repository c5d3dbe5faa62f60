import type { ItemKind } from './identity-claims';

/**
 * What one domain service asks another (libs/trace-service BatchRegistry): the
 * ledger of an input batch for a transformation, in-process when embedded,
 * over the owning service's internal routes when distributed.
 */

/** Who asks: the caller's principal, whose custody rules the owning domain applies. */
export interface LedgerCaller {
  clientId: string;
  orgId: string;
  role: string;
}

export interface PublicBatchView {
  domain: string;
  /** `lot` is the lot, or the serial of a serialised item (`kind`). */
  batch: { id: string; gtin: string; lot: string; kind: ItemKind; status: string; producedAt: string; expiresAt: string | null; ownerOrgId: string; attributes: Record<string, unknown> };
  /** `categoryName`: the category's words from the domain's list (GET /v1/{domain}/categories), for readers. */
  product: { gtin: string; name: string; category: string; categoryName?: { zh: string; en: string } } | null;
  origin: { locationId: string; orgId: string; at: string } | null;
  chain: { valid: boolean; length: number };
  certificates: { kind: string; number: string; issuedAt: string; verifyLink?: string }[];
  inspections: { reportNo: string; agency: string; sampledAt: string; conclusion: string; retest: boolean }[];
  history: { seq: number; bizStep: string; disposition: string | null; eventTime: string; locationId: string; inputs?: unknown; recall?: { recallId: string; level: number; reason: string } }[];
}

/** One input taken by a transformation. */
export interface ConsumeRequest {
  batchId: string;
  quantity: number;
  unit: string;
  /** The output batch being made: recorded on the input's chain. */
  outputRef: { domain: string; batchId: string };
  /**
   * When the transformation happened, as written (RFC 3339 with its offset):
   * the output's production time. The input is consumed then, not when the
   * output was recorded, so both chains tell the same time. Absent: now.
   */
  eventTime?: string;
}

export interface ConsumeResult {
  eventId: string;
  gtin: string;
  lot: string;
}

/** What a domain offers other domains: taking input quantity for a transformation, and undoing it. */
export interface InputLedger {
  /** The consumer-safe view of a batch or serialised item (see BatchService.publicView); throws a 404 DomainError when unknown. */
  publicView(gtin: string, lot: string, kind?: ItemKind): Promise<PublicBatchView>;
  consume(req: ConsumeRequest, principal: LedgerCaller): Promise<ConsumeResult>;
  /** Compensation: a new chain event that gives the quantity back (history is never rewritten). */
  restore(req: ConsumeRequest & { correctionOf: string; reason: string }, principal: LedgerCaller): Promise<void>;
}

