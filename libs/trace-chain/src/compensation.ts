import type { Refusal } from './custody';

/** The input-taking event a compensation names, as stored on the input's chain. */
export interface NamedConsume {
  bizStep: string;
  /** The organisation that took the input. */
  orgId: string;
  content: Record<string, unknown>;
}

/** What a compensation asks to give back. */
export interface CompensationRequest {
  quantity: number;
  unit: string;
  outputRef: { domain: string; batchId: string };
  actorOrgId: string;
  batchStatus: string;
}

/**
 * A transformation's input may be given back only as the compensation of the
 * consume it names: that event must be an input taken for a transformation
 * (a `transforming` link naming its output, not itself a correction), taken
 * by the organisation giving it back, for the same output, quantity and unit,
 * and not given back already; a finished chain (destroyed, dispensed) takes
 * nothing back. Anything else would let a caller raise a batch's quantity at will.
 */
export function compensationRefusal(consume: NamedConsume | undefined, req: CompensationRequest, alreadyRestored: boolean): Refusal | undefined {
  if (!consume || consume.bizStep !== 'transforming' || consume.content.correctionOf !== undefined || !isRef(consume.content.output)) {
    return { status: 422, rule: 'not-a-consume', message: 'A restore must name an input taken for a transformation on this batch' };
  }
  if (consume.orgId !== req.actorOrgId) {
    return { status: 403, rule: 'not-the-consumer', message: 'Only the organisation that took the input may give it back' };
  }
  const taken = consume.content.quantity as { value?: unknown; unit?: unknown } | undefined;
  const output = consume.content.output;
  if (
    output.domain !== req.outputRef.domain ||
    output.batchId !== req.outputRef.batchId ||
    taken?.value !== req.quantity ||
    taken?.unit !== req.unit
  ) {
    return { status: 422, rule: 'compensation-mismatch', message: 'A restore gives back exactly what the named consume took, for the same output' };
  }
  if (alreadyRestored) return { status: 409, rule: 'already-restored', message: 'This input was given back already' };
  if (req.batchStatus === 'destroyed' || req.batchStatus === 'dispensed') {
    return { status: 409, rule: `batch-${req.batchStatus}`, message: `The batch is ${req.batchStatus}: its chain is closed` };
  }
  return undefined;
}

const isRef = (v: unknown): v is { domain: string; batchId: string } =>
  typeof v === 'object' && v !== null && typeof (v as { domain?: unknown }).domain === 'string' && typeof (v as { batchId?: unknown }).batchId === 'string';
