import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextPrefixes, epcisEventHash } from './event-hash';
import type { EpcisEvent } from './types';
import { epcisDocumentFromXml } from './xml-binding';

/**
 * GS1's reference cases for the CBV 2.0 event hash: the JSON/JSON-LD and XML documents of the
 * reference generator's test suite and the hashes it publishes for them (tests/fixtures/epcis/event-hash,
 * SOURCE.md there). Every event of every document must hash to the published value; an XML document
 * is read through the XML binding (xml-binding.ts) first, so these also show that XML and its JSON
 * translation hash alike.
 */
const dir = join(__dirname, '../../../tests/fixtures/epcis/event-hash');
const expected: Record<string, string[]> = JSON.parse(readFileSync(join(dir, 'expected-CBV2.0.json'), 'utf8'));

function eventsOf(doc: Record<string, any>): EpcisEvent[] {
  const body = doc.epcisBody;
  return body.eventList ?? body.queryResults?.resultsBody?.eventList ?? [body.event];
}

const cases = Object.entries(expected).flatMap(([file, hashes]) => {
  const text = readFileSync(join(dir, 'documents', file), 'utf8');
  const doc = file.endsWith('.xml') ? epcisDocumentFromXml(text).document! : JSON.parse(text);
  const events = eventsOf(doc);
  return hashes.map((hash, i) => ({ name: `${file} #${i + 1}`, event: events[i], context: contextPrefixes(doc['@context']), hash }));
});

describe("CBV 2.0 event hash on GS1's reference cases", () => {
  it('covers every published case', () => {
    expect(cases.length).toBe(43);
    expect(cases.every((c) => c.event !== undefined)).toBe(true);
  });

  it.each(cases)('$name', ({ event, context, hash }) => {
    expect(epcisEventHash(event, context)).toBe(hash);
  });
});
