import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema } from './gen/trace/v1/envelope_pb';
import { Domain } from './gen/trace/v1/common_pb';
import {
  CURRENT_SCHEMA_VERSION,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  EVENT_CASES,
  EVENT_TYPE_NAMES,
  TOPIC_OF,
} from './events';
import { deadLetterTopic, Topics } from './topics';

const payloadOneof = EventEnvelopeSchema.oneofs.find((o) => o.name === 'payload');

describe('EVENT_TYPE_NAMES', () => {
  it('the envelope has a payload oneof with cases', () => {
    expect(payloadOneof).toBeDefined();
    expect(payloadOneof!.fields.length).toBeGreaterThan(0);
  });

  it('has an entry for every oneof case, named by the payload message type', () => {
    const cases = payloadOneof!.fields.map((f) => f.localName).sort();
    expect(Object.keys(EVENT_TYPE_NAMES).sort()).toEqual(cases);
    expect([...EVENT_CASES].sort()).toEqual(cases);
    for (const f of payloadOneof!.fields) {
      expect(f.message).toBeDefined();
      expect(EVENT_TYPE_NAMES[f.localName as keyof typeof EVENT_TYPE_NAMES]).toBe(f.message!.typeName);
      expect(f.message!.typeName).toMatch(/^trace\.v1\./);
    }
    expect(EVENT_TYPE_NAMES.batchRegistered).toBe('trace.v1.BatchRegistered');
  });
});

describe('TOPIC_OF', () => {
  it('maps every oneof case to one of the Topics values', () => {
    const topics = Object.values(Topics) as string[];
    for (const f of payloadOneof!.fields) {
      const topic = TOPIC_OF[f.localName as keyof typeof TOPIC_OF];
      expect(topic).toBeDefined();
      expect(topics).toContain(topic);
    }
    expect(Object.keys(TOPIC_OF).sort()).toEqual([...EVENT_CASES].sort());
  });

  it('routes batch registrations to the batch topic', () => {
    expect(TOPIC_OF.batchRegistered).toBe(Topics.batch);
  });
});

describe('encodeEnvelope / decodeEnvelope', () => {
  const occurred = new Date('2024-05-06T07:08:09.123Z');
  const produced = new Date('2024-05-01T00:00:00.000Z');

  const envelope = () =>
    createEnvelope({
      id: '3f1c2a9e-4b7d-4c1e-9a2b-1234567890ab',
      type: EVENT_TYPE_NAMES.batchRegistered,
      version: CURRENT_SCHEMA_VERSION,
      source: 'agri',
      orgId: 'org-1',
      subject: 'batch-42',
      occurredAt: timestampFromDate(occurred),
      correlationId: 'corr-1',
      causationId: 'cause-1',
      payload: {
        case: 'batchRegistered',
        value: {
          batch: { domain: Domain.AGRI, batchId: 'batch-42' },
          gtin: '09506000134352',
          lot: 'LOT-7',
          quantity: { value: '12.5', unit: 'kg' },
          ownerOrgId: 'org-1',
          producedAt: timestampFromDate(produced),
          inputs: [{ batch: { domain: Domain.AGRI, batchId: 'seed-1' }, quantity: { value: '1', unit: 'kg' } }],
          chainHead: 'ab'.repeat(32),
          productCategory: 'grain',
        },
      },
    });

  it('round-trips an envelope with a batchRegistered payload', () => {
    const original = envelope();
    const bytes = encodeEnvelope(original);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBeGreaterThan(0);

    const decoded = decodeEnvelope(bytes);
    expect(decoded.id).toBe(original.id);
    expect(decoded.type).toBe('trace.v1.BatchRegistered');
    expect(decoded.version).toBe(1);
    expect(decoded.source).toBe('agri');
    expect(decoded.orgId).toBe('org-1');
    expect(decoded.subject).toBe('batch-42');
    expect(decoded.correlationId).toBe('corr-1');
    expect(decoded.causationId).toBe('cause-1');
    expect(decoded.recordedAt).toBeUndefined();
    expect(timestampDate(decoded.occurredAt!).toISOString()).toBe(occurred.toISOString());

    expect(decoded.payload.case).toBe('batchRegistered');
    if (decoded.payload.case !== 'batchRegistered') throw new Error('unreachable');
    const p = decoded.payload.value;
    expect(p.gtin).toBe('09506000134352');
    expect(p.lot).toBe('LOT-7');
    expect(p.batch?.domain).toBe(Domain.AGRI);
    expect(p.batch?.batchId).toBe('batch-42');
    expect(p.quantity).toMatchObject({ value: '12.5', unit: 'kg' });
    expect(timestampDate(p.producedAt!).toISOString()).toBe(produced.toISOString());
    expect(p.expiresAt).toBeUndefined();
    expect(p.inputs).toHaveLength(1);
    expect(p.inputs[0].batch?.batchId).toBe('seed-1');
    expect(p.chainHead).toBe('ab'.repeat(32));
    expect(p.productCategory).toBe('grain');

    // Encoding is stable: re-encoding the decoded message gives the same bytes.
    expect(Buffer.from(encodeEnvelope(decoded)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('decodes Buffer input (what transports hand over)', () => {
    const decoded = decodeEnvelope(Buffer.from(encodeEnvelope(envelope())));
    expect(decoded.payload.case).toBe('batchRegistered');
  });

  it('throws on garbage bytes', () => {
    expect(() => decodeEnvelope(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
    expect(() => decodeEnvelope(Buffer.from('this is not a protobuf message at all'))).toThrow();
  });
});

describe('deadLetterTopic', () => {
  it('appends .dlq', () => {
    expect(deadLetterTopic('x')).toBe('x.dlq');
    expect(deadLetterTopic(Topics.batch)).toBe('trace.batch.v1.dlq');
  });
});
