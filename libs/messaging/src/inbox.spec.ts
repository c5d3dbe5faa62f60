import { createEnvelope, EVENT_TYPE_NAMES, Topics, timestampFromDate, type EventEnvelope } from '@trace/contracts';
import { envelopeProblem } from './inbox';

const ID = '3f1c2a9e-4b7d-4c1e-9a2b-1234567890ab';

function goodEnvelope(): EventEnvelope {
  return createEnvelope({
    id: ID,
    type: EVENT_TYPE_NAMES.batchRegistered,
    version: 1,
    source: 'agri',
    orgId: 'org-1',
    subject: 'batch-1',
    occurredAt: timestampFromDate(new Date('2024-01-01T00:00:00Z')),
    payload: { case: 'batchRegistered', value: { gtin: '09506000134352', lot: 'L1' } },
  });
}

/** A good envelope with one thing changed. */
function withChange(change: (e: EventEnvelope) => void): EventEnvelope {
  const e = goodEnvelope();
  change(e);
  return e;
}

describe('envelopeProblem', () => {
  it('accepts a good envelope on its topic', () => {
    expect(envelopeProblem(goodEnvelope(), Topics.batch)).toBeUndefined();
  });

  it('accepts a traceEventRecorded envelope on the event topic', () => {
    const e = createEnvelope({
      id: ID,
      type: EVENT_TYPE_NAMES.traceEventRecorded,
      version: 1,
      source: 'food',
      subject: 'batch-2',
      occurredAt: timestampFromDate(new Date()),
      payload: { case: 'traceEventRecorded', value: { eventId: 'e1', seq: 1n } },
    });
    expect(envelopeProblem(e, Topics.event)).toBeUndefined();
  });

  it('accepts upper-case UUIDs', () => {
    expect(envelopeProblem(withChange((e) => (e.id = ID.toUpperCase())), Topics.batch)).toBeUndefined();
  });

  const cases: [string, (e: EventEnvelope) => void, string, RegExp][] = [
    ['missing payload', (e) => (e.payload = { case: undefined }), Topics.batch, /no payload/],
    ['a non-UUID id', (e) => (e.id = 'not-a-uuid'), Topics.batch, /not a UUID/],
    ['an empty id', (e) => (e.id = ''), Topics.batch, /not a UUID/],
    ['a UUID with trailing junk', (e) => (e.id = `${ID}x`), Topics.batch, /not a UUID/],
    ['a type that does not match the case', (e) => (e.type = EVENT_TYPE_NAMES.traceEventRecorded), Topics.batch, /does not match payload batchRegistered/],
    ['an empty type', (e) => (e.type = ''), Topics.batch, /does not match/],
    ['the wrong topic', () => undefined, Topics.event, /does not belong on topic trace\.event\.v1/],
    ['an unknown topic', () => undefined, 'elsewhere', /does not belong on topic elsewhere/],
    ['version 0', (e) => (e.version = 0), Topics.batch, /unsupported schema version 0/],
    ['version 99', (e) => (e.version = 99), Topics.batch, /unsupported schema version 99/],
    ['an empty subject', (e) => (e.subject = ''), Topics.batch, /no subject/],
    ['an empty source', (e) => (e.source = ''), Topics.batch, /no source/],
    ['no occurredAt', (e) => (e.occurredAt = undefined), Topics.batch, /no occurredAt/],
  ];

  it.each(cases)('refuses an envelope with %s', (_label, change, topic, expected) => {
    const problem = envelopeProblem(withChange(change), topic);
    expect(typeof problem).toBe('string');
    expect(problem).toMatch(expected);
  });
});
