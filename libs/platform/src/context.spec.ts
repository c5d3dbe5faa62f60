import { RequestContext, sanitizeCorrelationId, type WorkContext } from './context';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('RequestContext', () => {
  it('has no context outside run()', () => {
    expect(RequestContext.current()).toBeUndefined();
  });

  it('returns the value of fn', () => {
    expect(RequestContext.run({ correlationId: 'c' }, () => 42)).toBe(42);
  });

  it('propagates through awaits, timers and promise chains', async () => {
    const ctx: WorkContext = { correlationId: 'corr-1', causationId: 'cause-1', orgId: 'org-1' };
    const seen = await RequestContext.run(ctx, async () => {
      const before = RequestContext.current();
      await tick();
      const afterTimer = RequestContext.current();
      await Promise.resolve();
      const fromThen = await Promise.resolve().then(() => RequestContext.correlationId());
      return { before, afterTimer, fromThen };
    });
    expect(seen.before).toBe(ctx);
    expect(seen.afterTimer).toBe(ctx);
    expect(seen.fromThen).toBe('corr-1');
    expect(RequestContext.current()).toBeUndefined();
  });

  it('keeps concurrent units of work apart', async () => {
    const work = (id: string, delay: number) =>
      RequestContext.run({ correlationId: id }, async () => {
        await new Promise((r) => setTimeout(r, delay));
        return RequestContext.correlationId();
      });
    await expect(Promise.all([work('a', 3), work('b', 1), work('c', 2)])).resolves.toEqual(['a', 'b', 'c']);
  });

  it('nests: the inner context wins inside, the outer is restored after', async () => {
    await RequestContext.run({ correlationId: 'outer' }, async () => {
      await RequestContext.run({ correlationId: 'inner' }, async () => {
        await tick();
        expect(RequestContext.correlationId()).toBe('inner');
      });
      expect(RequestContext.correlationId()).toBe('outer');
    });
  });

  it('correlationId() makes up a fresh UUID outside a context', () => {
    const a = RequestContext.correlationId();
    const b = RequestContext.correlationId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe('sanitizeCorrelationId', () => {
  it.each(['abc-123', 'A.b_c:d-e', '0', 'x'.repeat(128), '3f1c2a9e-4b7d-4c1e-9a2b-1234567890ab'])('accepts %p', (v) => {
    expect(sanitizeCorrelationId(v)).toBe(v);
  });

  it.each([
    ['with a space', 'abc 123'],
    ['with a newline', 'abc\n{"level":"fatal"}'],
    ['with a carriage return', 'abc\r'],
    ['with a tab', 'a\tb'],
    ['empty', ''],
    ['over 128 chars', 'x'.repeat(129)],
    ['with a quote', 'a"b'],
    ['with unicode', 'abcé'],
  ])('refuses a string %s', (_label, v) => {
    expect(sanitizeCorrelationId(v)).toBeUndefined();
  });

  it.each([undefined, null, 123, ['abc'], { id: 'abc' }])('refuses the non-string %p', (v) => {
    expect(sanitizeCorrelationId(v)).toBeUndefined();
  });
});
