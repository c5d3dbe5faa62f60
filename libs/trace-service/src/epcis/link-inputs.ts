import { timestampFromDate } from '@trace/contracts';
import type { OutboxItem } from '@trace/messaging';
import { DOMAIN_ENUM, type DomainName } from '../domains';
import type { PlannedTarget } from './contract';

/** A lineage edge of a captured transformation (batch_inputs). */
export interface InputEdge {
  output: string;
  domain: string;
  input: string;
  value: number;
  unit: string;
}

/**
 * The edges and the transformationRecorded announcement of a captured
 * transformation's output: only from the inputs the plan resolved here and
 * the writer checked, never from a carried content's inputs (ids of the
 * system it came from, or of anyone's batch).
 */
export function linkInputs(
  domain: DomainName,
  outputId: string,
  inputs: NonNullable<PlannedTarget['inputs']>,
  e: { eventId: string; eventTime: Date; orgId: string },
): { edges: InputEdge[]; announcement: OutboxItem } {
  return {
    edges: inputs.map((i) => ({ output: outputId, domain: i.domain, input: i.batchId, value: i.quantity.value > 0 ? i.quantity.value : 1, unit: i.quantity.unit })),
    announcement: {
      eventCase: 'transformationRecorded',
      payload: {
        output: { domain: DOMAIN_ENUM[domain], batchId: outputId },
        inputs: inputs.map((i) => ({
          batch: { domain: DOMAIN_ENUM[i.domain as DomainName], batchId: i.batchId },
          quantity: { value: String(i.quantity.value), unit: i.quantity.unit },
        })),
        eventId: e.eventId,
        eventTime: timestampFromDate(e.eventTime),
      },
      opts: { subject: outputId, orgId: e.orgId, occurredAt: e.eventTime },
    },
  };
}
