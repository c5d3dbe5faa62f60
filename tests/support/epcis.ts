/** GS1's EPCIS 2.0 JSON-LD context, as every captured document names it. */
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

/** An EPCIS 2.0 document carrying `events`, created at a fixed time (tests compare what comes back). */
export const epcisDocument = (events: unknown[], creationDate = '2026-11-20T08:00:00.000Z') => ({
  '@context': [EPCIS_CONTEXT],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate,
  epcisBody: { eventList: events },
});
