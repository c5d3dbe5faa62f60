import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * The /docs page a newcomer reads: /docs-json as the embedded app serves it
 * (every service module). Each operation must show what it answers (a 2xx
 * response with a schema, and for JSON an example) and what it takes (a
 * request body's schema with an example); authentication is explained first;
 * the bearer token is the security scheme, never a header field to fill in.
 */
describe('OpenAPI document (/docs-json)', () => {
  let t: EmbeddedTestApp;
  let doc: Json;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    doc = (await (await fetch(`${t.url}/docs-json`)).json()) as Json;
  });
  afterAll(async () => {
    await t?.close();
  });

  const schemaOf = (s: Json | undefined): Json | undefined => (s?.$ref ? doc.components.schemas[String(s.$ref).split('/').pop()!] : s);
  /** An example at the media type, on the schema, or on every property (what swagger-ui assembles its example from). */
  const exampled = (s: Json | undefined, seen = new Set<Json>()): boolean => {
    const schema = schemaOf(s);
    if (!schema || seen.has(schema)) return true;
    seen.add(schema);
    if (schema.example !== undefined) return true;
    if (schema.type === 'array') return exampled(schema.items, seen);
    if (schema.allOf) return schema.allOf.every((x: Json) => exampled(x, seen));
    if (!schema.properties) return false;
    return Object.values(schema.properties as Record<string, Json>).every((p) =>
      p.example !== undefined ? true : p.$ref || p.allOf ? exampled(p, seen) : p.type === 'array' && (p.items?.$ref || p.items?.allOf) ? exampled(p.items, seen) : false,
    );
  };
  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
    );

  it('explains authentication first', () => {
    const description = doc.info.description as string;
    expect(description.split('\n')[0]).toMatch(/^## Authentication/);
    expect(description).toContain('POST /v1/auth/token');
    expect(description).toContain('Authorization: Bearer');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('never shows the bearer header as a parameter', () => {
    const withHeader = operations()
      .filter(({ op }) => (op.parameters ?? []).some((p: Json) => p.in === 'header' && String(p.name).toLowerCase() === 'authorization'))
      .map(({ id }) => id);
    expect(withHeader).toEqual([]);
    expect(operations().length).toBeGreaterThan(100);
  });

  it('gives every operation a 2xx response with its schema, and an example of each JSON answer', () => {
    const problems: string[] = [];
    for (const { id, op } of operations()) {
      const ok = Object.entries((op.responses ?? {}) as Record<string, Json>).filter(([status]) => /^2/.test(status));
      const bodies = ok.filter(([status, r]) => status !== '204' && r.content);
      // An optional binding endpoint documented as the standard's 501 only (DELETE …/nextPageToken/{token}) has no success to show.
      const notImplemented = Object.keys(op.responses ?? {}).every((status) => status === '501');
      if (!ok.length) {
        if (!notImplemented) problems.push(`${id}: no 2xx response`);
      } else if (!ok.some(([status]) => status === '204') && !bodies.length) problems.push(`${id}: no 2xx response schema`);
      for (const [status, r] of bodies) {
        for (const [media, c] of Object.entries(r.content as Record<string, Json>)) {
          if (!c.schema) problems.push(`${id}: ${status} ${media} has no schema`);
          else if (/json/.test(media) && c.example === undefined && c.examples === undefined && schemaOf(c.schema)?.example === undefined) {
            problems.push(`${id}: ${status} ${media} has no example`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // The writes that take no body at all: closing a recall, rotating a client's secret.
  const BODILESS = ['POST /v1/recalls/{id}/close', 'POST /v1/orgs/{orgId}/clients/{clientId}/rotate'];

  it('declares the request body of every write that takes one', () => {
    const undeclared = operations()
      .filter(({ id, op }) => /^(POST|PUT|PATCH) /.test(id) && !op.requestBody)
      .map(({ id }) => id);
    expect(undeclared).toEqual(BODILESS);
  });

  it('gives every request body its schema and an example', () => {
    const problems: string[] = [];
    for (const { id, op } of operations()) {
      for (const [media, c] of Object.entries((op.requestBody?.content ?? {}) as Record<string, Json>)) {
        if (!c.schema) problems.push(`${id}: request ${media} has no schema`);
        else if (/json/.test(media) && c.example === undefined && c.examples === undefined && !exampled(c.schema)) problems.push(`${id}: request ${media} has no example`);
      }
    }
    expect(problems).toEqual([]);
  });
});
