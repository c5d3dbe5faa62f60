import { gs1CheckDigit } from '@trace/gs1';
import { validateEpcis } from '@trace/epcis';
import { eventually } from '@trace/testing';
import type { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg } from '../support/world';

/**
 * Named queries of the EPCIS REST binding (/queries): created, listed, read, run and deleted per
 * organisation; a query is checked when it is created and runs as the same parameters on /events.
 */
const gtin = (body13: string) => `${body13}${gs1CheckDigit(body13)}`;
const G = gtin('0761234500202'); // no product of any domain: partner events
const sgtin = (serial: string) => `https://id.gs1.org/01/${G}/21/${serial}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 10, minute)).toISOString();

describe('EPCIS named queries', () => {
  let t: EmbeddedTestApp;
  let api: Api;
  let other: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    api = (await anOrg(t, 'EPCIS Named Queries', 'processor', ['factory'])).api;
    other = (await anOrg(t, 'EPCIS Named Queries Other', 'processor', ['factory'])).api;
    const events = [0, 1, 2, 3].map((i) => ({
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: i % 2 ? 'receiving' : 'shipping', eventTime: at(i), eventTimeZoneOffset: '+00:00',
      epcList: [sgtin(`N-${i}`)],
    }));
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument', schemaVersion: '2.0', creationDate: at(0), epcisBody: { eventList: events },
    };
    const r = await api.request('POST', '/v1/epcis/capture', doc);
    expect(r.status).toBe(202);
    const job = await eventually(async () => {
      const j = await api.get(`/v1/epcis/capture/${r.body.captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
  });

  const definition = { name: 'shipped-N', query: { EQ_bizStep: ['shipping'], GE_eventTime: at(0), LT_eventTime: at(10), MATCH_epc: [sgtin('N-0'), sgtin('N-2')] } };

  it('creates a named query (201, Location), refuses the same name again (409) and a bad definition (400)', async () => {
    const created = await api.request('POST', '/v1/epcis/queries', definition);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/epcis/queries/shipped-N');
    expect(created.headers.get('gs1-epcis-version')).toBe('2.0.0');
    expect(created.body).toEqual(definition);
    const again = await api.request('POST', '/v1/epcis/queries', definition);
    expect([again.status, again.body.type]).toEqual([409, expect.stringMatching(/epcis-query-exists$/)]);
    for (const [bad, field] of [
      [{ name: 'x', query: { EQ_colour: ['red'] } }, '/query/EQ_colour'],
      [{ name: 'x', query: { GE_eventTime: 'yesterday' } }, '/query/GE_eventTime'],
      [{ name: 'x', query: { perPage: 2 } }, '/query/perPage'],
      [{ name: 'a b', query: {} }, '/name'],
      [{ name: 'x', query: { EQ_bizStep: [{ a: 1 }] } }, '/query/EQ_bizStep'],
      [{ name: 'x' }, '/query'],
    ] as const) {
      const r = await api.request('POST', '/v1/epcis/queries', bad);
      expect({ bad, status: r.status, fields: r.body.errors?.map((e: { field: string }) => e.field) }).toEqual({ bad, status: 400, fields: [field] });
    }
  }, 60_000);

  it('lists, reads and runs it as /events would, paged, for the organisation that made it only', async () => {
    const list = await api.get('/v1/epcis/queries');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([definition]);
    expect((await api.get('/v1/epcis/queries/shipped-N')).body).toEqual(definition);
    const run = await api.get('/v1/epcis/queries/shipped-N/events');
    expect(run.status).toBe(200);
    expect(validateEpcis(run.body)).toEqual([]);
    const times = (b: any) => (b.epcisBody.queryResults.resultsBody.eventList as { eventTime: string }[]).map((e) => e.eventTime);
    expect(times(run.body)).toEqual([at(0), at(2)]);
    const adHoc = await api.get(`/v1/epcis/events?EQ_bizStep=shipping&GE_eventTime=${at(0)}&LT_eventTime=${at(10)}&MATCH_epc=${encodeURIComponent(`${sgtin('N-0')}|${sgtin('N-2')}`)}`);
    expect(times(adHoc.body)).toEqual(times(run.body));
    const first = await api.get('/v1/epcis/queries/shipped-N/events?perPage=1');
    expect(times(first.body)).toEqual([at(0)]);
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link')!)![1];
    expect(next).toMatch(/^\/v1\/epcis\/queries\/shipped-N\/events\?/);
    expect(times((await api.get(next)).body)).toEqual([at(2)]);
    expect((await api.get('/v1/epcis/queries/shipped-N/events?EQ_bizStep=receiving')).status).toBe(400);
    // Another organisation: not listed, not found, and free to use the name for its own query.
    expect((await other.get('/v1/epcis/queries')).body).toEqual([]);
    expect((await other.get('/v1/epcis/queries/shipped-N')).status).toBe(404);
    expect((await other.get('/v1/epcis/queries/shipped-N/events')).status).toBe(404);
    expect((await other.request('DELETE', '/v1/epcis/queries/shipped-N')).status).toBe(404);
    expect((await other.request('POST', '/v1/epcis/queries', { name: 'shipped-N', query: { EQ_bizStep: ['receiving'] } })).status).toBe(201);
    // Pages of the list itself.
    expect((await api.request('POST', '/v1/epcis/queries', { name: 'received', query: { EQ_bizStep: ['receiving'], EXISTS_errorDeclaration: null } })).status).toBe(201);
    const page = await api.get('/v1/epcis/queries?perPage=1');
    expect(page.body.map((q: { name: string }) => q.name)).toEqual(['received']);
    expect((await api.get(/<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link')!)![1])).body.map((q: { name: string }) => q.name)).toEqual(['shipped-N']);
    const options = await api.request('OPTIONS', '/v1/epcis/queries/shipped-N');
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'OPTIONS, GET, DELETE']);
  }, 60_000);

  it('deletes it (204), after which it is gone', async () => {
    expect((await api.request('DELETE', '/v1/epcis/queries/shipped-N')).status).toBe(204);
    expect((await api.get('/v1/epcis/queries/shipped-N')).status).toBe(404);
    expect((await api.get('/v1/epcis/queries/shipped-N/events')).status).toBe(404);
    expect((await api.request('DELETE', '/v1/epcis/queries/shipped-N')).status).toBe(404);
    expect((await other.get('/v1/epcis/queries/shipped-N')).status).toBe(200);
  }, 60_000);
});
