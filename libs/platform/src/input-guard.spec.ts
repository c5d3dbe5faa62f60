import { findHostileInput, findHostileString, MAX_JSON_DEPTH, stringProblem } from './input-guard';

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

  it('checks path segments, query parameters and data headers', () => {
    const req = (over: Partial<{ path: string; query: unknown; headers: Record<string, string>; body: unknown }>) =>
      ({ path: '/v1/x', query: {}, headers: {}, body: undefined, ...over }) as never;
    expect(findHostileInput(req({}))).toBeUndefined();
    expect(findHostileInput(req({ path: '/01/09506000134352/10/A%00B' }))).toEqual({ field: 'path', message: expect.stringMatching(/NUL/) });
    expect(findHostileInput(req({ path: '/v1/%E0%A4%A' }))?.message).toMatch(/percent/);
    expect(findHostileInput(req({ query: { q: ['a', 'b\u0000'] } }))?.field).toBe('query.q.1');
    expect(findHostileInput(req({ headers: { 'idempotency-key': 'x'.repeat(70_000) } }))?.field).toBe('header idempotency-key');
  });
});
