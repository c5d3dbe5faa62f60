import { contextPrefixes, epcisEventHash } from './event-hash';
import { epcisQueryDocument } from './mapping';
import { answerContext, contextKeepsEventHash, eventContext } from './namespaces';
import { EPCIS_CONTEXT, TRACE_NS, type EpcisEvent } from './types';

const event = (extra: Record<string, unknown>): EpcisEvent =>
  ({ type: 'ObjectEvent', eventTime: '2026-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00', action: 'OBSERVE', epcList: ['urn:epc:id:sgtin:0614141.107346.2017'], ...extra }) as EpcisEvent;

describe('EPCIS namespaces of captured events', () => {
  it('keeps the @context entries an event uses: the prefixes of its names (at any depth) and values, terms, remote contexts; never trace', () => {
    const doc = [EPCIS_CONTEXT, 'https://example.com/ctx.jsonld', { ext1: 'http://a.example/', ext2: 'http://b.example/', unused: 'http://c.example/', trace: 'http://not-ours/', myTerm: { '@id': 'http://t.example/x' } }];
    const e = event({ 'ext1:grade': { 'ext2:score': 'A' }, myTerm: 1, bizStep: 'ext2:step' });
    expect(eventContext(e, doc)).toEqual(['https://example.com/ctx.jsonld', { ext1: 'http://a.example/', ext2: 'http://b.example/', myTerm: { '@id': 'http://t.example/x' } }]);
    expect(eventContext(event({}), doc)).toEqual(['https://example.com/ctx.jsonld']);
    expect(eventContext(event({}), [EPCIS_CONTEXT, { ext1: 'http://a.example/' }])).toBeUndefined();
    // The event's own @context wins over its document's.
    expect(eventContext(event({ '@context': { ext1: 'http://own.example/' }, 'ext1:grade': 'A' }), doc)).toEqual(['https://example.com/ctx.jsonld', { ext1: 'http://own.example/' }]);
  });

  it('declares each prefix with its namespace, renaming a prefix two events bind differently, so names expand (and hash) as captured', () => {
    const a = event({ 'ext1:grade': 'A' });
    const b = event({ 'ext1:grade': 'B', ilmd: { 'ext1:lot': { 'ext1:note': 'n' } }, 'ext1-2:other': 1 });
    const contextA = [{ ext1: 'http://a.example/' }];
    const contextB = [{ ext1: 'http://b.example/', 'ext1-2': 'http://c.example/' }];
    const hashes = [epcisEventHash(a, contextPrefixes(contextA)), epcisEventHash(b, contextPrefixes(contextB))];
    const { context, events } = answerContext([{ event: a, context: contextA }, { event: b, context: contextB }, { event: event({ 'ext1:grade': 'C' }), context: contextA }]);
    // ext1-2 is taken by b itself: its ext1 becomes ext1-3.
    expect(context).toEqual([EPCIS_CONTEXT, { trace: TRACE_NS, ext1: 'http://a.example/', 'ext1-3': 'http://b.example/', 'ext1-2': 'http://c.example/' }]);
    expect(events[0]).toBe(a);
    expect(events[1]).toMatchObject({ 'ext1-3:grade': 'B', ilmd: { 'ext1-3:lot': { 'ext1-3:note': 'n' } }, 'ext1-2:other': 1 });
    expect(events[1]).not.toHaveProperty('ext1:grade');
    expect(events[2]).toMatchObject({ 'ext1:grade': 'C' });
    const answer = contextPrefixes(context);
    expect(events.slice(0, 2).map((e) => epcisEventHash(e, answer))).toEqual(hashes);
  });

  it('answers declare nothing but GS1 and trace for events without a kept context', () => {
    const doc = epcisQueryDocument([event({ 'example:x': 1 })]);
    expect(doc['@context']).toEqual([EPCIS_CONTEXT, { trace: TRACE_NS }]);
    expect(epcisQueryDocument([{ event: event({ 'example:x': 1 }), context: ['https://example.com/ctx.jsonld', { example: 'http://e.example/' }] }])['@context']).toEqual([
      EPCIS_CONTEXT,
      'https://example.com/ctx.jsonld',
      { trace: TRACE_NS, example: 'http://e.example/' },
    ]);
  });

  it('a stored context gives back the event hash its event was captured with, and a changed namespace does not', () => {
    const doc = [EPCIS_CONTEXT, { ext1: 'http://a.example/' }];
    const e = event({ 'ext1:grade': 'A' });
    const hash = epcisEventHash(e, contextPrefixes(doc));
    const kept = eventContext(e, doc)!;
    expect(contextKeepsEventHash(e, kept, hash)).toBe(true);
    expect(contextKeepsEventHash(e, [{ ext1: 'http://evil.example/' }], hash)).toBe(false);
    expect(contextKeepsEventHash(e, [], hash)).toBe(false);
    // An event's own @context bound its names when captured; the stored context has it merged in.
    const own = event({ '@context': { ext1: 'http://own.example/' }, 'ext1:grade': 'A' });
    expect(contextKeepsEventHash(own, eventContext(own, doc)!, epcisEventHash(own, { ext1: 'http://own.example/' }))).toBe(true);
  });
});
