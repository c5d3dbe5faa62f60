import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { validateEpcis, validationInParts } from './schema';
import schema from './schema/EPCIS-JSON-Schema.json';
import { epcisValidatorSource, GENERATED_VALIDATORS } from './schema/validator-source';

const EXAMPLES = join(__dirname, '../../../tests/fixtures/epcis/examples');

/** Valid in parts: the document without its events, then every event. */
function validInParts(doc: unknown): boolean | undefined {
  const parts = validationInParts(doc);
  if (!parts) return undefined;
  return parts.envelopeValid && parts.events.every((_, i) => parts.eventValid(i));
}

describe('validationInParts', () => {
  const documents = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.jsonld'))
    .map((f) => [f, JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8'))] as const);

  it('agrees with the whole document\'s validation on GS1\'s examples', () => {
    const epcisDocuments = documents.filter(([, d]) => d.type === 'EPCISDocument');
    expect(epcisDocuments.length).toBeGreaterThan(10);
    for (const [name, doc] of epcisDocuments) {
      expect([name, validInParts(doc)]).toEqual([name, validateEpcis(doc).length === 0]);
    }
  });

  it('finds an invalid event anywhere in the list, and an invalid envelope with valid events', () => {
    for (const [name, doc] of documents.filter(([, d]) => d.type === 'EPCISDocument' && d.epcisBody.eventList.length > 0)) {
      const events = doc.epcisBody.eventList as Record<string, unknown>[];
      const last = events.length - 1;
      const badTime = { ...doc, epcisBody: { ...doc.epcisBody, eventList: events.map((e, i) => (i === last ? { ...e, eventTime: '2020-01-01T00:00:00' } : e)) } };
      const badAction = { ...doc, epcisBody: { ...doc.epcisBody, eventList: events.map((e, i) => (i === last ? { ...e, type: 'ObjectEvent', action: 'OBSERV' } : e)) } };
      const badEnvelope = { ...doc, creationDate: 'yesterday' };
      const noContext = { ...doc, '@context': undefined };
      for (const bad of [badTime, badAction, badEnvelope, JSON.parse(JSON.stringify(noContext))]) {
        expect([name, validateEpcis(bad).length > 0]).toEqual([name, true]);
        expect([name, validInParts(bad)]).toEqual([name, false]);
      }
    }
  });

  it('leaves what is not an EPCISDocument with an event list to the whole validation', () => {
    const query = documents.find(([, d]) => d.type === 'EPCISQueryDocument')?.[1];
    expect(query).toBeDefined();
    for (const other of [query, null, [], 'text', { type: 'EPCISDocument' }, { type: 'EPCISDocument', epcisBody: { eventList: {} } }, { type: 'EPCISDocument', epcisBody: [] }]) {
      expect(validationInParts(other)).toBeUndefined();
    }
  });
});

describe('the validators compiled ahead', () => {
  const documents = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.jsonld'))
    .map((f) => [f, JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8'))] as const);

  it('are what the schema compiles to today (else: npm run epcis:gen)', () => {
    const committed = readFileSync(join(__dirname, 'schema', GENERATED_VALIDATORS), 'utf8');
    expect(committed === epcisValidatorSource()).toBe(true);
  });

  it('give the errors that compiling the schema at run time gives', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    addFormats(ajv);
    const atRunTime = ajv.compile(schema);
    const broken = (doc: Record<string, any>) => {
      const events = (doc.epcisBody?.eventList ?? doc.epcisBody?.queryResults?.resultsBody?.eventList ?? []) as Record<string, unknown>[];
      return [
        { ...doc, creationDate: 'yesterday', schemaVersion: 3 },
        ...events.map((e, i) => ({ ...doc, epcisBody: { eventList: events.map((x, j) => (j === i ? { ...x, eventTime: '2020-01-01T00:00:00', action: 'OBSERV', epcList: 'x' } : x)) } })),
      ];
    };
    let invalid = 0;
    for (const [name, doc] of documents) {
      for (const candidate of [doc, ...broken(doc)]) {
        const valid = atRunTime(candidate);
        const errors = validateEpcis(candidate, 10_000);
        const expected = valid ? [] : (atRunTime.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => e.instancePath || '/');
        expect([name, errors.map((e) => e.field)]).toEqual([name, expected]);
        if (!valid) invalid++;
      }
    }
    expect(invalid).toBeGreaterThan(30);
  });
});
