import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiOkResponse, ApiQuery, getSchemaPath } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { isUuid } from '@trace/trace-chain';
import { badRequest } from './problem';
import { schemaOfExample } from './openapi-docs';

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 500;

/** A list request as API.md "Lists" takes it: a page size, where the previous page ended, and the list's own filters. */
export interface ListQuery<F extends string = string> {
  limit: number;
  /** The sort key of the last item of the previous page; undefined on the first page. */
  after?: string[];
  filters: Partial<Record<F, string>>;
}

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** The cursor is the last item's sort key, base64url-encoded: opaque to clients, checked on the way back. */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** What each part of a list's sort key is: checked when a cursor comes back, so a forged one is a 400, never a failed query. */
export type CursorPart = 'micros' | 'uuid' | 'text';

const PART_FORMAT: Record<CursorPart, (part: string) => boolean> = {
  micros: (p) => /^-?\d{1,17}$/.test(p),
  uuid: isUuid,
  // No NUL (API.md: strings may not contain it); the length bounds what a cursor can make a query compare.
  text: (p) => /^.{0,400}$/su.test(p),
};

function decodeCursor(cursor: string, parts: readonly CursorPart[]): string[] {
  const bad = () => badRequest('invalid-parameter', 'cursor is not a cursor of this list', [{ field: 'cursor', message: 'not a nextCursor of this list' }]);
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) throw bad();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(key) || key.length !== parts.length || !key.every((k, i) => typeof k === 'string' && !k.includes('\u0000') && PART_FORMAT[parts[i]](k))) throw bad();
  return key as string[];
}

/**
 * Checks a list's query string once, for every list: only `limit`, `cursor`
 * and the list's own filters are parameters (anything else is a 400 naming
 * it, so a misspelt filter is never silently ignored), each at most once;
 * `limit` is 1..500 (default 50); `cursor` must be one this list issued, its
 * sort key made of `cursor` parts (default: one uuid); a filter with `enums`
 * must be one of them.
 */
export function parseListQuery<F extends string>(
  query: Record<string, unknown>,
  filters: readonly F[],
  options: { cursor?: readonly CursorPart[]; enums?: Partial<Record<F, readonly string[]>> } = {},
): ListQuery<F> {
  const allowed = new Set<string>(['limit', 'cursor', ...filters]);
  const unknown = Object.keys(query).filter((k) => !allowed.has(k));
  if (unknown.length) {
    throw badRequest(
      'unknown-parameter',
      `Unknown query parameter: ${unknown.join(', ')}; this list takes ${[...allowed].join(', ')}`,
      unknown.map((field) => ({ field, message: 'is not a parameter of this list' })),
    );
  }
  const repeated = Object.keys(query).filter((k) => typeof query[k] !== 'string');
  if (repeated.length) {
    throw badRequest('invalid-parameter', `Give each parameter once, as text: ${repeated.join(', ')}`, repeated.map((field) => ({ field, message: 'must be given once' })));
  }
  const text = query as Record<string, string>;
  const limit = text.limit === undefined ? LIST_DEFAULT_LIMIT : /^\d{1,3}$/.test(text.limit) ? Number(text.limit) : NaN;
  if (!(limit >= 1 && limit <= LIST_MAX_LIMIT)) {
    throw badRequest('invalid-parameter', `limit must be an integer from 1 to ${LIST_MAX_LIMIT}`, [{ field: 'limit', message: `must be an integer from 1 to ${LIST_MAX_LIMIT}` }]);
  }
  const out: ListQuery<F> = { limit, filters: {} };
  if (text.cursor !== undefined) out.after = decodeCursor(text.cursor, options.cursor ?? ['uuid']);
  for (const f of filters) {
    if (text[f] === undefined) continue;
    const allowedValues = options.enums?.[f];
    if (allowedValues && !allowedValues.includes(text[f])) {
      throw badRequest('invalid-parameter', `${f} must be one of ${allowedValues.join(', ')}`, [{ field: f, message: `must be one of ${allowedValues.join(', ')}` }]);
    }
    out.filters[f] = text[f];
  }
  return out;
}

/**
 * One page from rows fetched with `LIMIT limit + 1` (the extra row says a next
 * page exists): `{ items, nextCursor }`, and the next page repeated as
 * `Link: <…>; rel="next"` (this request's path and filters with the new cursor).
 * A list that stops scanning before it has a full page (to bound the time a
 * page takes) passes `resumeAfter`, the sort key it got to: the page may then
 * be short, or empty, and still have a next one.
 */
export function listPage<R, T = R>(
  rows: R[],
  list: { limit: number; resumeAfter?: readonly string[] },
  keyOf: (row: R) => readonly string[],
  http?: { req: Request; res: Response },
  view: (row: R) => T = (r) => r as unknown as T,
): ListPage<T> {
  const more = rows.length > list.limit;
  const page = more ? rows.slice(0, list.limit) : rows;
  const nextCursor = more ? encodeCursor(keyOf(page[page.length - 1])) : list.resumeAfter ? encodeCursor(list.resumeAfter) : null;
  if (nextCursor && http) {
    const next = new URL(http.req.originalUrl, 'http://relative.invalid');
    next.searchParams.set('cursor', nextCursor);
    http.res.setHeader('Link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  return { items: page.map(view), nextCursor };
}

/**
 * A timestamptz as a cursor part, exactly (microseconds since the epoch; a JS
 * Date would drop the microseconds and page boundaries would skip or repeat
 * rows written in the same millisecond), and back in a comparison.
 */
export const sqlMicros = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;
export const sqlFromMicros = (param: string) => `(timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond')`;

export interface ListFilterDoc {
  name: string;
  description: string;
  enum?: readonly string[];
}

/**
 * OpenAPI of a list: its filters, `limit` and `cursor`, the `{ items, nextCursor }`
 * response (items of `item` when given) and the 400 for a bad or unknown parameter.
 */
export function ApiList(options: { description: string; item?: Type<unknown>; filters?: readonly ListFilterDoc[]; example: { items: unknown[]; nextCursor: string | null } }) {
  // Without a DTO, the items' schema is read from the example's first item.
  const items = options.item
    ? { type: 'array', items: { $ref: getSchemaPath(options.item) } }
    : { type: 'array', items: options.example.items.length ? schemaOfExample(options.example.items[0]) : { type: 'object' } };
  return applyDecorators(
    ...(options.item ? [ApiExtraModels(options.item)] : []),
    ...(options.filters ?? []).map((f) => ApiQuery({ name: f.name, required: false, description: f.description, ...(f.enum ? { enum: [...f.enum] } : {}) })),
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT } }),
    ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page (opaque)' }),
    ApiOkResponse({
      description: `${options.description}. The next page is also given as Link: <…>; rel="next".`,
      schema: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items, nextCursor: { type: 'string', nullable: true, description: 'null on the last page' } },
      },
      example: options.example,
    }),
    ApiBadRequestResponse({ description: 'unknown-parameter (a query parameter this list does not take), invalid-parameter (limit, cursor or a filter out of format)' }),
  );
}
