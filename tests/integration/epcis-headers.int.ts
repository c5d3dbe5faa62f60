import { epcAsDigitalLink, TRACE_NS } from '@trace/epcis';
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

  // Events of their own hour, so the tests above count theirs alone.
  const later = (minute: number) => new Date(Date.UTC(2026, 10, 24, 11, minute)).toISOString();
  const LATER = `GE_eventTime=${later(0)}&LT_eventTime=${later(30)}`;
  const laterEvent = (minute: number) => ({
    ...event, eventTime: later(minute), epcList: [`urn:epc:id:sgtin:7612345.000402.V-${minute}`], disposition: 'in_transit',
    bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:7612345000002:PO-${minute}` }],
  });

  it('names its vendor version on every answer, refusal and OPTIONS (GS1-Vendor-Version)', async () => {
    for (const r of [await send('GET', `/v1/epcis/events?${WINDOW}`), await send('GET', '/v1/epcis/events?EQ_nothing=1'), await send('OPTIONS', '/v1/epcis/capture'), await send('GET', '/v1/epcis')]) {
      expect(r.headers.get('gs1-vendor-version')).toBe('product-trace/0.1.0');
    }
  }, 60_000);

  it('negotiates versions: serves a request naming 2.0 (or a range holding it), refuses one it cannot serve with a 406, a malformed one with a 400', async () => {
    const query = `/v1/epcis/events?${WINDOW}`;
    for (const ok of <Record<string, string>[]>[
      { 'GS1-EPCIS-Version': '2.0.0' }, { 'GS1-EPCIS-Version': '2.0', 'GS1-CBV-Version': '2.0.0' },
      { 'GS1-EPCIS-Min': '1.0.0', 'GS1-EPCIS-Max': '2.0.0' }, { 'GS1-CBV-Min': '1.2.0' }, { 'GS1-CBV-Max': '3.0' },
    ]) {
      const r = await send('GET', query, ok);
      expect({ ok, status: r.status, version: r.headers.get('gs1-epcis-version') }).toEqual({ ok, status: 200, version: '2.0.0' });
    }
    for (const [headers, field] of [
      [{ 'GS1-EPCIS-Version': '1.2.0' }, 'GS1-EPCIS-Version'], [{ 'GS1-EPCIS-Version': '2.1' }, 'GS1-EPCIS-Version'], [{ 'GS1-CBV-Version': '1.2.0' }, 'GS1-CBV-Version'],
      [{ 'GS1-EPCIS-Min': '2.1.0' }, 'GS1-EPCIS-Min/Max'], [{ 'GS1-EPCIS-Max': '1.2.0' }, 'GS1-EPCIS-Min/Max'], [{ 'GS1-CBV-Min': '3.0' }, 'GS1-CBV-Min/Max'],
    ] as [Record<string, string>, string][]) {
      const r = await send('GET', query, headers);
      expect({ headers, status: r.status, type: r.headers.get('content-type')?.split(';')[0], body: r.body }).toEqual({
        headers, status: 406, type: 'application/problem+json',
        body: expect.objectContaining({ epcisException: 'epcisException:NotAcceptableException', errors: [expect.objectContaining({ field })] }),
      });
      // Every answer still says what it serves.
      expect(r.headers.get('gs1-epcis-version')).toBe('2.0.0');
    }
    for (const [headers, field] of [
      [{ 'GS1-EPCIS-Version': 'latest' }, 'GS1-EPCIS-Version'], [{ 'GS1-CBV-Max': '2.0-beta' }, 'GS1-CBV-Max'], [{ 'GS1-EPCIS-Min': '2.0', 'GS1-EPCIS-Max': '1.0' }, 'GS1-EPCIS-Min/Max'],
    ] as [Record<string, string>, string][]) {
      const r = await send('GET', query, headers);
      expect({ headers, status: r.status, body: r.body }).toEqual({
        headers, status: 400, body: expect.objectContaining({ type: 'https://problems.trace.dev/epcis-headers', errors: [expect.objectContaining({ field })] }),
      });
    }
    // A capture may name 1.2 (1.2 XML is read); an unknown version stores nothing.
    expect((await send('POST', '/v1/epcis/events', { 'GS1-EPCIS-Version': '1.1' }, laterEvent(1))).status).toBe(406);
    expect((await send('GET', `/v1/epcis/events?${LATER}`)).body).toMatchObject({ epcisBody: { queryResults: { resultsBody: { eventList: [] } } } });
    expect((await send('POST', '/v1/epcis/events', { 'GS1-EPCIS-Version': '1.2.0', 'GS1-CBV-Version': '1.2' }, laterEvent(1))).status).toBe(201);
    expect((await send('POST', '/v1/epcis/events', { 'GS1-EPCIS-Version': '2.0.0' }, laterEvent(2))).status).toBe(201);
    expect((await send('OPTIONS', '/v1/epcis/events', { 'GS1-EPCIS-Version': '2.0.0' })).status).toBe(204);
  }, 60_000);

  it('gives paged answers a GS1-Next-Page-Token-Expires; the token works until then, and an expired one is a 400 naming nextPageToken', async () => {
    expect((await send('POST', '/v1/epcis/events', {}, laterEvent(3))).status).toBe(201);
    const before = Date.now();
    const first = await send('GET', `/v1/epcis/events?${LATER}&orderBy=eventTime&orderDirection=ASC&perPage=2`);
    expect(first.status).toBe(200);
    const expires = Date.parse(first.headers.get('gs1-next-page-token-expires') as string);
    expect(first.headers.get('gs1-next-page-token-expires')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Honoured for a day.
    expect(expires).toBeGreaterThan(before + 24 * 3600_000 - 2000);
    expect(expires).toBeLessThan(Date.now() + 24 * 3600_000 + 1000);
    const link = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') as string)?.[1] as string;
    const second = await send('GET', link);
    expect(second.status).toBe(200);
    const times = (r: typeof first) => (r.body as any).epcisBody.queryResults.resultsBody.eventList.map((e: { eventTime: string }) => e.eventTime);
    expect([...times(first), ...times(second)]).toEqual([later(1), later(2), later(3)]);
    // The last page has no next one, and so no expiry.
    expect(second.headers.get('link')).toBeNull();
    expect(second.headers.get('gs1-next-page-token-expires')).toBeNull();
    // The same position with an expiry in the past (what the token becomes after a day).
    const token = new URL(link, 'http://x').searchParams.get('nextPageToken') as string;
    const expired = token.replace(/~[0-9a-z]+$/, `~${Math.floor(Date.now() / 1000 - 60).toString(36)}`);
    const stale = await send('GET', `/v1/epcis/events?${LATER}&orderBy=eventTime&orderDirection=ASC&perPage=2&nextPageToken=${encodeURIComponent(expired)}`);
    expect(stale.status).toBe(400);
    expect(stale.body).toMatchObject({ epcisException: 'epcisException:QueryParameterException', errors: [{ field: 'nextPageToken', message: expect.stringContaining('expired') }] });
  }, 60_000);

  it('writes CBV values in XML answers as GS1-CBV-XML-Format asks: URNs, Web URIs, or as captured', async () => {
    const xml = async (format?: string) => {
      const r = await fetch(`${api.baseUrl}/v1/epcis/events?${LATER}&orderBy=eventTime&orderDirection=ASC&perPage=1`, {
        headers: { ...(await api.headers()), accept: 'application/xml', ...(format ? { 'GS1-CBV-XML-Format': format } : {}) },
      });
      return { status: r.status, format: r.headers.get('gs1-cbv-xml-format'), body: await r.text() };
    };
    const urn = await xml('Always_URN');
    expect(urn).toMatchObject({ status: 200, format: 'Always_URN' });
    expect(urn.body).toContain('<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>');
    expect(urn.body).toContain('<disposition>urn:epcglobal:cbv:disp:in_transit</disposition>');
    expect(urn.body).toContain('<bizTransaction type="urn:epcglobal:cbv:btt:po">');
    const web = await xml('Always_Web_URI');
    expect(web).toMatchObject({ status: 200, format: 'Always_Web_URI' });
    expect(web.body).toContain('<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>');
    expect(web.body).toContain('<disposition>https://ref.gs1.org/cbv/Disp-in_transit</disposition>');
    expect(web.body).toContain('<bizTransaction type="https://ref.gs1.org/cbv/BTT-po">');
    for (const format of [undefined, 'No_Preference', 'Never_Translates']) {
      const asCaptured = await xml(format);
      expect({ format, status: asCaptured.status, applied: asCaptured.format }).toEqual({ format, status: 200, applied: 'Never_Translates' });
      expect(asCaptured.body).toContain('<bizStep>shipping</bizStep>');
    }
    const bad = await xml('Sometimes_URN');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ type: 'https://problems.trace.dev/epcis-headers', errors: [{ field: 'GS1-CBV-XML-Format' }] });
    // JSON answers are the JSON binding's, whatever the header says.
    const json = await send('GET', `/v1/epcis/events?${LATER}&perPage=1`, { 'GS1-CBV-XML-Format': 'Always_URN' });
    expect(json.headers.get('gs1-cbv-xml-format')).toBeNull();
    expect((json.body as any).epcisBody.queryResults.resultsBody.eventList[0].bizStep).toBe('shipping');
  }, 60_000);

  it('writes EPCs in query answers as GS1-EPC-Format asks: Digital Links, EPC URNs where the company prefix is known, or as captured', async () => {
    const window = `GE_eventTime=${at(30)}&LT_eventTime=${at(40)}`;
    const urn = 'urn:epc:id:sgtin:7612345.000402.F-1';
    // The same company prefix as a Digital Link, and another prefix (0614141) that no URN names.
    const sameDl = epcAsDigitalLink('urn:epc:id:sgtin:7612345.000402.F-2');
    const otherDl = epcAsDigitalLink('urn:epc:id:sgtin:0614141.012345.Z9');
    expect([sameDl, otherDl]).toEqual(['https://id.gs1.org/01/07612345004020/21/F-2', 'https://id.gs1.org/01/00614141123452/21/Z9']);
    const captured = { ...event, eventTime: at(31), epcList: [urn, sameDl, otherDl], bizLocation: { id: 'urn:epc:id:sgln:7612345.00001.0' } };
    expect((await send('POST', '/v1/epcis/events', {}, captured)).status).toBe(201);
    const answer = async (format?: string) => {
      const r = await send('GET', `/v1/epcis/events?${window}`, format ? { 'GS1-EPC-Format': format } : {});
      expect(r.status).toBe(200);
      const [e] = (r.body as { epcisBody: { queryResults: { resultsBody: { eventList: { epcList: string[]; bizLocation: { id: string } }[] } } } }).epcisBody.queryResults.resultsBody.eventList;
      return { applied: r.headers.get('gs1-epc-format'), epcList: e.epcList, bizLocation: e.bizLocation.id };
    };
    const asCaptured = { epcList: [urn, sameDl, otherDl], bizLocation: 'urn:epc:id:sgln:7612345.00001.0' };
    expect(await answer()).toEqual({ applied: 'Never_Translates', ...asCaptured });
    expect(await answer('No_Preference')).toEqual({ applied: 'Never_Translates', ...asCaptured });
    expect(await answer('Never_Translates')).toEqual({ applied: 'Never_Translates', ...asCaptured });
    expect(await answer('Always_GS1_Digital_Link')).toEqual({
      applied: 'Always_GS1_Digital_Link',
      epcList: ['https://id.gs1.org/01/07612345004020/21/F-1', sameDl, otherDl],
      bizLocation: 'https://id.gs1.org/414/7612345000015',
    });
    expect(await answer('Always_EPC_URN')).toEqual({
      applied: 'Always_EPC_URN',
      epcList: [urn, 'urn:epc:id:sgtin:7612345.000402.F-2', otherDl],
      bizLocation: 'urn:epc:id:sgln:7612345.00001.0',
    });
    // XML answers too.
    const xml = await fetch(`${api.baseUrl}/v1/epcis/events?${window}`, { headers: { ...(await api.headers()), accept: 'application/xml', 'GS1-EPC-Format': 'Always_GS1_Digital_Link' } });
    expect(xml.status).toBe(200);
    expect(await xml.text()).toContain('<epc>https://id.gs1.org/01/07612345004020/21/F-1</epc>');
    const bad = await send('GET', `/v1/epcis/events?${window}`, { 'GS1-EPC-Format': 'Always_Barcode' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: [{ field: 'GS1-EPC-Format' }] });
  }, 60_000);
});
