import { DomainError } from './problem';
import { encodeCursor, listPage, parseListQuery } from './list-query';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError) return { status: err.status, rule: err.rule, fields: (err.extensions.errors as { field: string }[]).map((e) => e.field) };
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('parseListQuery', () => {
  it('takes limit (default 50), cursor and the list filters', () => {
    expect(parseListQuery({}, ['gtin'])).toEqual({ limit: 50, filters: {} });
    const cursor = encodeCursor(['1796534136069541', '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d']);
    expect(parseListQuery({ limit: '500', cursor, gtin: '123' }, ['gtin'], { cursor: ['micros', 'uuid'] })).toEqual({
      limit: 500,
      after: ['1796534136069541', '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d'],
      filters: { gtin: '123' },
    });
  });

  it('refuses an unknown parameter, a repeated one, a limit out of 1..500, a filter outside its values and a cursor it did not issue', () => {
    expect(refusal(() => parseListQuery({ colour: 'red', size: 'L' }, ['gtin']))).toEqual({ status: 400, rule: 'unknown-parameter', fields: ['colour', 'size'] });
    expect(refusal(() => parseListQuery({ gtin: ['1', '2'] }, ['gtin']))).toEqual({ status: 400, rule: 'invalid-parameter', fields: ['gtin'] });
    expect(refusal(() => parseListQuery({ gtin: { a: '1' } }, ['gtin'])).fields).toEqual(['gtin']);
    for (const limit of ['0', '501', '-1', '1.5', 'ten', '']) expect(refusal(() => parseListQuery({ limit }, [])).fields).toEqual(['limit']);
    expect(refusal(() => parseListQuery({ status: 'lost' }, ['status'], { enums: { status: ['active'] } })).fields).toEqual(['status']);
    for (const cursor of ['%%%', encodeCursor(['x']), encodeCursor(['12', 'not-a-uuid']), encodeCursor(['12']), Buffer.from('{').toString('base64url')]) {
      expect(refusal(() => parseListQuery({ cursor }, [], { cursor: ['micros', 'uuid'] })).fields).toEqual(['cursor']);
    }
  });
});

describe('listPage', () => {
  it('cuts the extra row, names the last key as nextCursor, and null on the last page', () => {
    expect(listPage([{ id: 'a' }, { id: 'b' }, { id: 'c' }], { limit: 2 }, (r) => [r.id])).toEqual({ items: [{ id: 'a' }, { id: 'b' }], nextCursor: encodeCursor(['b']) });
    expect(listPage([{ id: 'a' }], { limit: 2 }, (r) => [r.id], undefined, (r) => r.id)).toEqual({ items: ['a'], nextCursor: null });
  });

  it('a walk that stopped early gives a short (even empty) page and the key it got to as nextCursor', () => {
    expect(listPage([{ id: 'a' }], { limit: 2, resumeAfter: ['q'] }, (r) => [r.id])).toEqual({ items: [{ id: 'a' }], nextCursor: encodeCursor(['q']) });
    expect(listPage([], { limit: 2, resumeAfter: ['q'] }, (r: { id: string }) => [r.id])).toEqual({ items: [], nextCursor: encodeCursor(['q']) });
  });
});
