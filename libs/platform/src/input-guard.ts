import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { nextTurn } from './event-loop-slices';
import { problemType, sendProblem, type ProblemDetails } from './problem';

/** Longest string accepted anywhere in a request (a DTO may allow less). */
export const MAX_STRING_LENGTH = 65_536;
/** Deepest nesting of a JSON body: deeper documents would only exhaust recursive validators. */
export const MAX_JSON_DEPTH = 64;

/** Headers whose values the handlers use as data (others are protocol, parsed by Node). */
const DATA_HEADERS = ['idempotency-key', 'x-correlation-id'];

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string may not enter the system (PostgreSQL refuses NUL in text and lone surrogates in JSON), or undefined. */
export function stringProblem(s: string, maxLength = MAX_STRING_LENGTH): string | undefined {
  if (s.length > maxLength) return `longer than ${maxLength} characters`;
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (UNPAIRED_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate';
  return undefined;
}

export interface InputProblem {
  field: string;
  message: string;
  /** A key that could reach an object's prototype: refused as malformed JSON, as the body parser once did. */
  prototypeKey?: true;
}

/**
 * Keys that have no business in any request body. JSON.parse makes them
 * harmless own properties, but a merge that assigns (Object.assign, a
 * library's deep merge) would set a prototype through them. Looked for here,
 * in the walk every body gets anyway, rather than by a JSON.parse reviver:
 * a reviver calls back into JavaScript for every value and made parsing a
 * 10,000-event capture three to four times slower (11 -> 41 ms warm), all of
 * it a stalled event loop.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** On the walk's stack: leave the container whose key was put on the path. */
const LEAVE = Symbol('leave');

/**
 * The first hostile string in a decoded JSON value, keys included, with its
 * dotted path (`inputs.0.quantity.unit`, as validation errors name fields).
 * Iterative, so no depth of nesting can overflow the stack here.
 *
 * Depth first, with the keys of the containers being walked kept on a stack:
 * a path is written only for the problem found. A path string for every value
 * was most of the cost (a 10,000-event capture: about 60 ms of a blocked event
 * loop, 200,000 paths written), and nearly every body is clean.
 */
export function findHostileString(value: unknown, root = '', maxDepth = MAX_JSON_DEPTH, refusePrototypeKeys = false): InputProblem | undefined {
  const path: (string | number)[] = root ? [root] : [];
  const base = path.length;
  const field = (...more: (string | number)[]) => [...path, ...more].join('.');
  // The values to look at and each one's key in its container (none for the value itself).
  const values: unknown[] = [value];
  const keys: (string | number | undefined)[] = [undefined];
  while (values.length > 0) {
    const v = values.pop();
    const key = keys.pop();
    if (v === LEAVE) {
      path.pop();
      continue;
    }
    const own = key === undefined ? [] : [key];
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { field: field(...own) || '(body)', message: problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length - base + own.length >= maxDepth) return { field: field(...own) || '(body)', message: `nested deeper than ${maxDepth} levels` };
    if (key !== undefined) {
      path.push(key);
      values.push(LEAVE);
      keys.push(undefined);
    }
    // Children pushed last first, so they are looked at in their order.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        values.push(v[i]);
        keys.push(i);
      }
      continue;
    }
    const names = Object.keys(v);
    for (let i = names.length - 1; i >= 0; i--) {
      const name = names[i];
      if (refusePrototypeKeys && PROTOTYPE_KEYS.has(name)) return { field: field(name), message: `the key "${name}" is not allowed`, prototypeKey: true };
      const keyProblem = stringProblem(name, 1_000);
      if (keyProblem) return { field: field(JSON.stringify(name.slice(0, 40))), message: `the key ${keyProblem}` };
      values.push((v as Record<string, unknown>)[name]);
      keys.push(name);
    }
  }
  return undefined;
}

/** Checks every string a request carries as data: path segments, query parameters, data headers and the JSON body. */
export function findHostileInput(req: Pick<Request, 'path' | 'query' | 'headers' | 'body'>): InputProblem | undefined {
  for (const segment of req.path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return { field: 'path', message: 'contains a malformed percent-encoding' };
    }
    const problem = stringProblem(decoded, 2_048);
    if (problem) return { field: 'path', message: problem };
  }
  const query = findHostileString(req.query, 'query', 8);
  if (query) return query;
  for (const name of DATA_HEADERS) {
    const value = req.headers[name];
    const problem = findHostileString(value, `header ${name}`, 2);
    if (problem) return problem;
  }
  return findHostileString(req.body, '', MAX_JSON_DEPTH, true);
}

/**
 * Refuses a request carrying a hostile string before any handler, pipe or
 * guard sees it: one place for every route, authenticated or not.
 */
export function hostileInputGuard(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // A large body has just been parsed in this turn of the event loop (a 10,000-event capture: 15-35 ms);
    // its walk (10-15 ms) waits for the next, so that what queued meanwhile goes first.
    if (Number(req.headers['content-length'] ?? 0) > LARGE_BODY_BYTES) void nextTurn().then(() => guard(req, res, next)).catch(next);
    else guard(req, res, next);
  };
}

/** A body above this many bytes is walked in a turn of the event loop after the one that parsed it. */
const LARGE_BODY_BYTES = 256 * 1024;

function guard(req: Request, res: Response, next: NextFunction): void {
  const problem = findHostileInput(req);
  if (!problem) return next();
  const body: ProblemDetails = problem.prototypeKey
    ? {
        type: problemType('malformed-json'),
        title: 'Bad Request',
        status: 400,
        detail: `The request body is not valid JSON: ${problem.message}`,
      }
    : {
        type: problemType('validation'),
        title: 'Bad Request',
        status: 400,
        detail: `${problem.field}: ${problem.message}`,
        errors: [{ field: problem.field, message: problem.message }],
      };
  sendProblem(req, res, body);
}
