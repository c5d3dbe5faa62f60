import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { isUuid } from '@trace/trace-chain';

type Schema = Record<string, unknown>;

/**
 * The OpenAPI description's opening: how to authenticate comes first, since no
 * call but the scan works without it; then the conventions every operation shares.
 */
export const API_DESCRIPTION = [
  '## Authentication (read first)',
  '',
  'Every operation except the consumer scan (`GET /01/…`), `GET /v1/certificates/{number}`, `POST /v1/drug/verify`, ' +
    '`POST /v1/auth/token` and `/health/*` needs a bearer token:',
  '',
  '1. An **admin** creates an organisation (`POST /v1/orgs`) and a client of it (`POST /v1/orgs/{orgId}/clients` with a ' +
    '`role`: `operator`, `inspector`, `regulator` or `admin`); the answer shows `clientId` and `clientSecret` once. The first ' +
    'admin client is printed by `npm start` on its first start (or set with `BOOTSTRAP_ADMIN_CLIENT_ID`/`_SECRET`).',
  '2. The client exchanges its id and secret for a token: `POST /v1/auth/token` `{ "clientId", "clientSecret" }` → ' +
    '`{ "accessToken", "tokenType": "Bearer", "expiresIn" }` (seconds; ask again when it expires).',
  '3. Every call sends `Authorization: Bearer <accessToken>`. On this page: **Authorize** (top right), paste the token, ' +
    'then **Try it out** on any operation.',
  '',
  'The role decides what a client may do: an **operator** writes its own organisation’s records and reads what its ' +
    'organisation holds or held; an **inspector** records supervision samples; a **regulator** opens recalls and reads ' +
    'everything; an **admin** manages organisations and clients. A refusal is 401 (no or bad token) or 403 ' +
    '(`role`, `not-the-holder`, …).',
  '',
  '## Conventions',
  '',
  '- Errors are RFC 9457 `application/problem+json` `{ type, title, status, detail, errors? }`; branch on `type` ' +
    '(`https://problems.trace.dev/<slug>`; every slug with what to do: `docs/errors.md` in the repository). `title` and ' +
    '`detail` follow `Accept-Language` (Chinese for `zh`; English otherwise; the scan page defaults to Chinese).',
  '- Times are RFC 3339 with a UTC offset (a time without one is a 400) and are given back in the offset they were ' +
    'written with. Strings may not contain NUL or unpaired surrogates (400).',
  '- Every POST takes an `Idempotency-Key` header: a retry with the same key and body returns the first answer.',
  '- Lists answer `{ items, nextCursor }` with `?limit=` (default 50, max 500) and `?cursor=`; filters are query ' +
    'parameters and an unknown parameter is a 400.',
  '- Walk-through with curl for a producer, an inspector, a consumer and a regulator: `docs/quickstart.md` in the repository.',
].join('\n');

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The schema of a JSON value, read from a real example of it: types, formats
 * (uuid, date-time, date), nested objects and array items. Members are not
 * marked required: an example shows what an answer has, not what it must have.
 */
export function schemaOfExample(value: unknown): Schema {
  if (value === null) return { nullable: true };
  if (Array.isArray(value)) return { type: 'array', items: value.length ? schemaOfExample(value[0]) : {} };
  switch (typeof value) {
    case 'string':
      return isUuid(value) ? { type: 'string', format: 'uuid' } : DATE_TIME.test(value) ? { type: 'string', format: 'date-time' } : DATE.test(value) ? { type: 'string', format: 'date' } : { type: 'string' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object':
      return { type: 'object', properties: Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, schemaOfExample(v)])) };
    default:
      return {};
  }
}

/** A page of a list as every list answers it. */
export const listExample = <T>(...items: T[]) => ({ items, nextCursor: null as string | null });

/**
 * A JSON answer documented by a real example: the schema is the DTO when one
 * describes it, else read from the example; the example shows in /docs.
 */
export function ApiJsonResponse(
  status: number,
  description: string,
  example: unknown,
  // A DTO class, as @nestjs/swagger takes it.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  opts: { type?: Function; mediaType?: string } = {},
): MethodDecorator & ClassDecorator {
  const schema = opts.type ? undefined : schemaOfExample(example);
  if (opts.mediaType) {
    return ApiResponse({ status, description, content: { [opts.mediaType]: { schema: schema ?? {}, example } } } as never);
  }
  return applyDecorators(ApiResponse(opts.type ? { status, description, type: opts.type, example } : { status, description, schema: schema as never, example } as never));
}

/** A response whose body is not JSON (an image, a spreadsheet, a page): its media types, each a string or binary. */
export function ApiFileResponse(status: number, description: string, media: Record<string, 'binary' | 'text'>): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description,
    content: Object.fromEntries(Object.entries(media).map(([type, kind]) => [type, { schema: kind === 'binary' ? { type: 'string', format: 'binary' } : { type: 'string' } }])),
  } as never);
}

/**
 * The bearer token is the security scheme of every operation (the Authorize
 * button): a handler that reads the header (@Headers('authorization')) must
 * not make it a field to fill in as well.
 */
export function withoutAuthorizationParameters(doc: OpenAPIObject): OpenAPIObject {
  for (const operations of Object.values(doc.paths)) {
    for (const op of Object.values(operations) as { parameters?: { in?: string; name?: string }[] }[]) {
      if (op && Array.isArray(op.parameters)) {
        op.parameters = op.parameters.filter((p) => !(p.in === 'header' && p.name?.toLowerCase() === 'authorization'));
      }
    }
  }
  return doc;
}
