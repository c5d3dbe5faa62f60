import { TRACE_NS } from '@trace/epcis';
import type { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg } from '../support/world';

/**
 * The REST binding's GS1-Extensions header and its page-token endpoint (issue 15): every answer names
 * the extensions this repository implements; a client requiring another one is refused with the
 * binding's 406 (NotAcceptableException) before anything is read or stored, a malformed header with
 * a 400; DELETE /nextPageToken/{token} answers the binding's 501, page tokens being stateless.
 */
const EXT = `trace=${TRACE_NS}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 9, minute)).toISOString();
// GTIN 0761234500402 is no product of any domain: a partner event.
const event = {
  type: 'ObjectEvent', eventTime: at(0), eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:7612345.000402.H-1'], action: 'OBSERVE', bizStep: 'shipping',
};
const WINDOW = `GE_eventTime=${at(0)}&LT_eventTime=${at(10)}`;

describe('EPCIS GS1-Extensions and page tokens', () => {
  let t: EmbeddedTestApp;
  let api: Api;

  const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const r = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: { ...(await api.headers()), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const stored = async () => {
    const r = await send('GET', `/v1/epcis/events?${WINDOW}`);
    expect(r.status).toBe(200);
    return (r.body as { epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } }).epcisBody.queryResults.resultsBody.eventList;
  };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    api = (await anOrg(t, 'EPCIS Headers Partner', 'processor', ['factory'])).api;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('names the extensions it implements on answers, refusals and OPTIONS discovery', async () => {
    const answer = await send('GET', `/v1/epcis/events?${WINDOW}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('gs1-extensions')).toBe(EXT);
    const refused = await send('GET', '/v1/epcis/events?EQ_nothing=1');
    expect(refused.status).toBe(400);
    expect(refused.headers.get('gs1-extensions')).toBe(EXT);
    for (const path of ['/v1/epcis', '/v1/epcis/capture', '/v1/epcis/events', '/v1/epcis/queries']) {
      const options = await send('OPTIONS', path);
      expect({ path, status: options.status, extensions: options.headers.get('gs1-extensions') }).toEqual({ path, status: 204, extensions: EXT });
    }
  }, 60_000);

  it('answers a client requiring only what it implements (under any prefix), and refuses one requiring another extension with a 406', async () => {
    expect((await send('GET', `/v1/epcis/events?${WINDOW}`, { 'GS1-Extensions': EXT })).status).toBe(200);
    expect((await send('GET', `/v1/epcis/events?${WINDOW}`, { 'GS1-Extensions': `tr=${TRACE_NS}` })).status).toBe(200);
    const required = { 'GS1-Extensions': `${EXT}, fit=https://ns.example.com/fit/` };
    const query = await send('GET', `/v1/epcis/events?${WINDOW}`, required);
    expect(query.status).toBe(406);
    expect(query.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(query.body).toMatchObject({
      status: 406,
      epcisException: 'epcisException:NotAcceptableException',
      errors: [{ field: 'GS1-Extensions', message: expect.stringContaining('https://ns.example.com/fit/') }],
    });
    expect(query.headers.get('gs1-extensions')).toBe(EXT);
    // A capture requiring it is refused before anything is stored; without the header the same event is stored.
    expect((await send('POST', '/v1/epcis/events', required, event)).status).toBe(406);
    expect(await stored()).toHaveLength(0);
    expect((await send('POST', '/v1/epcis/events', {}, event)).status).toBe(201);
    expect(await stored()).toHaveLength(1);
  }, 60_000);

  it('refuses a GS1-Extensions header that is not prefix=namespace pairs with a 400', async () => {
    for (const bad of ['fit', 'fit=not an iri', '=https://ns.example.com/fit/']) {
      const r = await send('GET', `/v1/epcis/events?${WINDOW}`, { 'GS1-Extensions': bad });
      expect({ bad, status: r.status, field: (r.body?.errors as { field: string }[] | undefined)?.[0]?.field }).toEqual({ bad, status: 400, field: 'GS1-Extensions' });
    }
  }, 60_000);

  it('answers DELETE /nextPageToken/{token} with the binding\'s 501: page tokens are stateless', async () => {
    const r = await send('DELETE', '/v1/epcis/nextPageToken/eyJvZmZzZXQiOjMwfQ');
    expect(r.status).toBe(501);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 501, epcisException: 'epcisException:ImplementationException' });
  }, 60_000);
});
