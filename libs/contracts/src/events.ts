import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/trace/v1/envelope_pb';
import { Topics, type Topic } from './topics';
import { decodeMessage, encodeMessage } from './wire-codec';

/** The payload union of the envelope, generated from proto/trace/v1/envelope.proto. */
export type EventPayload = EventEnvelope['payload'];
/** The name of an event, e.g. "batchRegistered": the envelope's oneof case. */
export type EventCase = NonNullable<EventPayload['case']>;
/** The payload message of one event case. */
export type PayloadOf<C extends EventCase> = Extract<EventPayload, { case: C }>['value'];
/** What may be passed to build a payload of one event case. */
export type PayloadInit<C extends EventCase> = Extract<
  NonNullable<MessageInitShape<typeof EventEnvelopeSchema>['payload']>,
  { case: C }
>['value'];

const payloadOneof = EventEnvelopeSchema.oneofs.find((o) => o.name === 'payload');
if (!payloadOneof) throw new Error('EventEnvelope has no payload oneof');

/** Fully qualified proto type name per case, read from the descriptor (never typed by hand). */
export const EVENT_TYPE_NAMES: Readonly<Record<EventCase, string>> = Object.fromEntries(
  payloadOneof.fields.map((f) => [f.localName, f.message?.typeName ?? f.name]),
) as Record<EventCase, string>;

export const EVENT_CASES = Object.keys(EVENT_TYPE_NAMES) as EventCase[];

/** Which topic each event travels on. Adding an event to the envelope without a topic fails type-checking. */
export const TOPIC_OF: Readonly<Record<EventCase, Topic>> = {
  batchRegistered: Topics.batch,
  traceEventRecorded: Topics.event,
  transformationRecorded: Topics.event,
  inspectionRecorded: Topics.inspection,
  certificateIssued: Topics.certificate,
  recallInitiated: Topics.recall,
  recallClosed: Topics.recall,
  incidentOpened: Topics.incident,
  incidentReported: Topics.incident,
  incidentOverdue: Topics.incident,
};

export const CURRENT_SCHEMA_VERSION = 1;

/** The envelope's protobuf bytes (wire-codec.ts: toBinary's bytes, written faster). */
export function encodeEnvelope(envelope: EventEnvelope | EnvelopeInit): Buffer {
  return encodeMessage(EventEnvelopeSchema, envelope);
}

/** The envelope of protobuf bytes (wire-codec.ts: fromBinary's message, read faster). */
export function decodeEnvelope(bytes: Uint8Array): EventEnvelope {
  return decodeMessage(EventEnvelopeSchema, bytes);
}

/** What an envelope may be built (or encoded) from without building it first. */
export type EnvelopeInit = MessageInitShape<typeof EventEnvelopeSchema>;

export function createEnvelope(init: MessageInitShape<typeof EventEnvelopeSchema>): EventEnvelope {
  return create(EventEnvelopeSchema, init);
}

export type { EventEnvelope };
