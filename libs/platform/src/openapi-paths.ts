import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = { parameters?: Array<{ name?: string; in?: string; $ref?: string }> };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Every `{name}` of a path template declared as a path parameter of each of its
 * operations. Nest's document leaves out the ones a handler does not bind with
 * @Param (OPTIONS discovery routes, the scan's wildcard `/01/{path}`), and an
 * OpenAPI document with an undeclared template parameter is invalid: clients
 * generated from it and fuzzers (schemathesis) refuse those operations.
 */
export function declarePathParameters(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    if (!names.length) continue;
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
      const missing = names.filter((n) => !declared.has(n));
      if (missing.length) op.parameters = [...(op.parameters ?? []), ...missing.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))];
    }
  }
  return doc;
}
