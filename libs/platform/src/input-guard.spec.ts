import { nextTurn } from './event-loop-slices';
import { findHostileInput, findHostileString, hostileInputGuard, MAX_JSON_DEPTH, stringProblem } from './input-guard';

describe('hostile input', () => {
  it('refuses NUL, unpaired surrogates and overlong strings, accepts paired surrogates', () => {
    expect(stringProblem('ok 番茄 🍅')).toBeUndefined();
    expect(stringProblem('a\u0000b')).toMatch(/NUL/);
    expect(stringProblem('\uD83C')).toMatch(/surrogate/);
    expect(stringProblem('x\uDF45y')).toMatch(/surrogate/);
    expect(stringProblem('\uDF45\uD83C')).toMatch(/surrogate/);
    expect(stringProblem('x'.repeat(11), 10)).toMatch(/longer than 10/);
  });

  it('names the path of the first hostile string at any depth, keys included', () => {
    expect(findHostileString({ a: [{ b: 'fine' }, { c: 'ba\u0000d' }] })).toEqual({ field: 'a.1.c', message: expect.stringMatching(/NUL/) });
    expect(findHostileString({ ['k\uD800']: 1 })?.message).toMatch(/key .*surrogate/);
    expect(findHostileString('\u0000')).toEqual({ field: '(body)', message: expect.any(String) });
    expect(findHostileString({ n: 1, b: true, z: null, s: 'ok' })).toBeUndefined();
  });

  it('refuses nesting deeper than the limit without recursing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findHostileString(deep)?.message).toMatch(new RegExp(`deeper than ${MAX_JSON_DEPTH}`));
  });

  it('finds a hostile string or key planted anywhere in a large clean value, at its path; nothing in the clean value', () => {
    let seed = 11;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const events = Array.from({ length: 300 }, (_, i) => ({
      type: 'ObjectEvent',
      eventTime: '2026-11-01T00:00:00Z',
      quantityList: [{ epcClass: `https://id.gs1.org/01/09506000134352/10/L${i}`, quantity: i }],
      readPoint: { id: 'urn:epc:id:sgln:9506000.13435.0' },
      ilmd: { note: '番茄 🍅', flags: [true, null, 1.5] },
    }));
    const doc = { epcisBody: { eventList: events } };
    expect(findHostileString(doc)).toBeUndefined();
    for (let k = 0; k < 40; k++) {
      const i = rnd(events.length);
      const copy = structuredClone(doc);
      const target = copy.epcisBody.eventList[i] as Record<string, any>;
      const kind = rnd(4);
      if (kind === 0) target.quantityList[0].epcClass = 'a\u0000b';
      else if (kind === 1) target.ilmd.note = 'x\uD800';
      else if (kind === 2) target.ilmd['k\uDF45'] = 1;
      else target.readPoint = { id: 'x'.repeat(70_000) };
      const found = findHostileString(copy);
      const field = ['quantityList.0.epcClass', 'ilmd.note', `ilmd.${JSON.stringify('k\uDF45')}`, 'readPoint.id'][kind];
      expect(found?.field).toBe(`epcisBody.eventList.${i}.${field}`);
    }
  });

  it('checks path segments, query parameters and data headers', () => {
    const req = (over: Partial<{ path: string; query: unknown; headers: Record<string, string>; body: unknown }>) =>
      ({ path: '/v1/x', query: {}, headers: {}, body: undefined, ...over }) as never;
    expect(findHostileInput(req({}))).toBeUndefined();
    expect(findHostileInput(req({ path: '/01/09506000134352/10/A%00B' }))).toEqual({ field: 'path', message: expect.stringMatching(/NUL/) });
    expect(findHostileInput(req({ path: '/v1/%E0%A4%A' }))?.message).toMatch(/percent/);
    expect(findHostileInput(req({ query: { q: ['a', 'b\u0000'] } }))?.field).toBe('query.q.1');
    expect(findHostileInput(req({ headers: { 'idempotency-key': 'x'.repeat(70_000) } }))?.field).toBe('header idempotency-key');
  });

  it('refuses keys that reach a prototype anywhere in a body, and only in a body', () => {
    const req = (body: unknown, query: unknown = {}) => ({ path: '/v1/x', query, headers: {}, body }) as never;
    // As JSON.parse leaves them: own properties, which an assigning merge would turn into a prototype.
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":[1,{"b":{"constructor":{"prototype":{"admin":true}}}}]}',
      '{"epcisBody":{"eventList":[{"ilmd":{"prototype":1}}]}}',
    ]) {
      const found = findHostileInput(req(JSON.parse(text)));
      expect(found).toEqual({ field: expect.any(String), message: expect.stringMatching(/^the key "(__proto__|constructor|prototype)" is not allowed$/), prototypeKey: true });
    }
    expect(findHostileInput(req(JSON.parse('{"a":[1,{"b":{"constructor":{"x":1}}}]}')))?.field).toBe('a.1.b.constructor');
    // As values, or as a query parameter's name, they are words like any other.
    expect(findHostileInput(req({ note: '__proto__', kind: 'constructor' }, { constructor: 'x' }))).toBeUndefined();
  });

  it('walks a large body in a later turn of the event loop than the one that parsed it, and still refuses what it finds', async () => {
    const answer = () => {
      const sent: { status?: number; type?: string; body?: string } = {};
      const res = {
        locals: {},
        setHeader: () => res,
        status: (s: number) => ((sent.status = s), res),
        type: (t: string) => ((sent.type = t), res),
        send: (b: string) => ((sent.body = b), res),
      };
      return { res, sent };
    };
    const request = (body: unknown, length: number) => ({ path: '/v1/epcis/capture', originalUrl: '/v1/epcis/capture', query: {}, headers: { 'content-length': String(length) }, body }) as never;
    const guard = hostileInputGuard();
    const events = Array.from({ length: 3000 }, (_, i) => ({ type: 'ObjectEvent', action: 'OBSERVE', eventTime: '2026-11-01T00:00:00Z', note: `event ${i} `.repeat(10) }));
    const large = { epcisBody: { eventList: events } };
    const length = JSON.stringify(large).length;
    expect(length).toBeGreaterThan(256 * 1024);

    let passed = 0;
    guard(request(large, length), answer().res as never, () => passed++);
    expect(passed).toBe(0);
    await nextTurn();
    await nextTurn();
    expect(passed).toBe(1);

    const small = { note: 'fine' };
    guard(request(small, 15), answer().res as never, () => passed++);
    expect(passed).toBe(2);

    events[2999].note = 'ba\u0000d';
    const { res, sent } = answer();
    guard(request(large, length), res as never, () => passed++);
    await nextTurn();
    await nextTurn();
    expect(passed).toBe(2);
    expect([sent.status, sent.type, JSON.parse(sent.body as string).errors]).toEqual([400, 'application/problem+json', [{ field: 'epcisBody.eventList.2999.note', message: expect.stringMatching(/NUL/) }]]);
  });
});
