import type { ErrorObject, ValidateFunction } from 'ajv';
import { doc as compiledDocument, event as compiledEvent } from './schema/epcis-validators.generated';

export interface SchemaError {
  /** JSON pointer into the document, e.g. /epcisBody/eventList/3/eventTime */
  field: string;
  message: string;
}

/**
 * GS1's EPCIS 2.0 JSON Schema, compiled ahead by Ajv (validator-source.ts; `npm run epcis:gen`):
 * compiling it at run time blocked the event loop for 150-300 ms on the first capture after a
 * start. Formats (date-time, uri) are checked too, as the schema asks.
 */
const validate = compiledDocument as ValidateFunction;
/** What the document's schema asks of each item of its event list. */
const event = compiledEvent as ValidateFunction;

/** Validates an EPCISDocument or EPCISQueryDocument; returns the first errors (at most `max`), empty when valid. */
export function validateEpcis(doc: unknown, max = 50): SchemaError[] {
  if (validate(doc)) return [];
  return (validate.errors ?? [])
    // `if/then` wrappers repeat the real error one level up; they say nothing on their own.
    .filter((e: ErrorObject) => e.keyword !== 'if')
    .slice(0, max)
    .map((e: ErrorObject) => ({ field: e.instancePath || '/', message: `${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? `: ${(e.params.allowedValues as unknown[]).join(', ')}` : ''}` }));
}

/**
 * An EPCISDocument's validity decided in parts: the document without its events, then each event
 * on its own, so that a long list can be checked a slice at a time (the capture yields the event
 * loop between slices; one call over a 10,000-event document holds it for about 100 ms). The parts
 * are what the whole document's schema asks (its event list is `EPCIS-Document-Event` items and
 * nothing else looks into them), so the document is valid exactly when every part is. They say
 * only whether: for the errors of an invalid document, validate it whole (`validateEpcis`).
 * Undefined when the document is not an EPCISDocument with an event list (it is validated whole).
 */
export function validationInParts(doc: unknown): { envelopeValid: boolean; events: readonly unknown[]; eventValid(index: number): boolean } | undefined {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const d = doc as { type?: unknown; epcisBody?: unknown };
  const body = d.epcisBody as { eventList?: unknown } | undefined;
  if (d.type !== 'EPCISDocument' || !body || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.eventList)) return undefined;
  const events = body.eventList as unknown[];
  return {
    envelopeValid: validate({ ...d, epcisBody: { ...body, eventList: [] } }) as boolean,
    events,
    eventValid: (index) => event(events[index]) as boolean,
  };
}
