import 'reflect-metadata';
import {
  ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  UnauthorizedException,
  type ValidationError,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import { QueryFailedError } from 'typeorm';
import { IsInt, IsNotEmpty, IsString, MaxLength, Min, ValidateNested } from 'class-validator';
import { createLogger } from './logging';
import {
  badRequest,
  conflict,
  createValidationPipe,
  DomainError,
  flattenValidationErrors,
  ProblemDetailsFilter,
  problemType,
  refusalError,
  type ProblemDetails,
} from './problem';

const filter = () => new ProblemDetailsFilter(createLogger('silent'));

/** A stand-in for an Express response that records what the filter did to it. */
class FakeResponse {
  statusCode?: number;
  contentType?: string;
  body?: string;
  headers: Record<string, string> = {};
  headersSent = false;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  type(t: string) {
    this.contentType = t;
    return this;
  }
  send(b: string) {
    this.body = b;
    return this;
  }
  setHeader(name: string, value: string) {
    this.headers[name] = value;
    return this;
  }
}

function fakeHost(res: FakeResponse, req: { url: string; originalUrl?: string }, type = 'http'): ArgumentsHost {
  return {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => req, getNext: () => undefined }),
    getArgs: () => [req, res],
    getArgByIndex: (i: number) => [req, res][i],
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ArgumentsHost;
}

describe('ProblemDetailsFilter.toProblem', () => {
  it('maps a DomainError to its status, rule type and message', () => {
    const p = filter().toProblem(new DomainError(409, 'held-batch', 'Batch B-1 is on hold'));
    expect(p.status).toBe(409);
    expect(p.type.endsWith('/held-batch')).toBe(true);
    expect(p.type).toBe(problemType('held-batch'));
    expect(p.title).toBe('Conflict');
    expect(p.detail).toBe('Batch B-1 is on hold');
  });

  it('spreads DomainError extensions into the problem', () => {
    const p = filter().toProblem(conflict('held-batch', 'held', { batchId: 'B-1' }));
    expect(p.batchId).toBe('B-1');
    const v = filter().toProblem(badRequest('bad-gtin', 'bad', [{ field: 'gtin', message: 'check digit' }]));
    expect(v.status).toBe(400);
    expect(v.errors).toEqual([{ field: 'gtin', message: 'check digit' }]);
  });

  it('falls back to a generic title for a status it has no title for', () => {
    expect(filter().toProblem(new DomainError(418, 'teapot', 'short and stout')).title).toBe('Error');
  });

  it('maps a NotFoundException to 404', () => {
    const p = filter().toProblem(new NotFoundException('Batch B-9 not found'));
    expect(p.status).toBe(404);
    expect(p.title).toBe('Not Found');
    expect(p.type).toBe(problemType('not-found'));
    expect(p.detail).toBe('Batch B-9 not found');
  });

  it('maps other HttpExceptions by status, joining array messages', () => {
    expect(filter().toProblem(new UnauthorizedException('Token expired'))).toMatchObject({
      status: 401,
      detail: 'Token expired',
      type: problemType('unauthorized'),
    });
    expect(filter().toProblem(new ForbiddenException()).status).toBe(403);
    expect(filter().toProblem(new BadRequestException(['a is bad', 'b is bad'])).detail).toBe('a is bad; b is bad');
    expect(filter().toProblem(new HttpException('plain string body', 429))).toMatchObject({
      status: 429,
      detail: 'plain string body',
      title: 'Too Many Requests',
    });
  });

  it('maps a body-parser JSON error to 400 malformed-json', () => {
    const p = filter().toProblem({ status: 400, type: 'entity.parse.failed', message: 'Unexpected token } in JSON' });
    expect(p.status).toBe(400);
    expect(p.type.endsWith('malformed-json')).toBe(true);
    expect(p.detail).toBe('The request body is not valid JSON: Unexpected token } in JSON');
  });

  it('maps other body-parser 4xx errors by status', () => {
    const p = filter().toProblem({ statusCode: 413, type: 'entity.too.large', message: 'request entity too large' });
    expect(p).toMatchObject({ status: 413, title: 'Payload Too Large', detail: 'request entity too large' });
    expect(p.type).toBe(problemType('payload-too-large'));
  });

  it('maps a plain Error to 500 without leaking its message', () => {
    const p = filter().toProblem(new Error('password=hunter2 connection refused at 10.0.0.5'));
    expect(p.status).toBe(500);
    expect(p.type).toBe(problemType('internal'));
    expect(p.detail).toBeDefined();
    expect(p.detail).not.toContain('hunter2');
    expect(JSON.stringify(p)).not.toContain('10.0.0.5');
  });

  it('treats an error object with a 5xx status as an internal error', () => {
    const p = filter().toProblem({ status: 502, message: 'upstream secret detail' });
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain('upstream secret detail');
  });

  it.each([undefined, null, 'a string', 42])('maps a thrown non-error %p to 500', (thrown) => {
    expect(filter().toProblem(thrown).status).toBe(500);
  });
});

describe('flattenValidationErrors', () => {
  it('flattens nested children with dotted paths', () => {
    const errors: ValidationError[] = [
      // As class-validator lists them for `@IsString() @Length(14, 14)`: last-written first.
      { property: 'gtin', constraints: { length: 'gtin must be 14 digits', isString: 'gtin must be a string' } },
      {
        property: 'quantity',
        children: [
          { property: 'value', constraints: { min: 'value must not be less than 0' } },
          { property: 'unit', children: [{ property: 'code', constraints: { isIn: 'code must be a known unit' } }] },
        ],
      },
      { property: 'inputs', constraints: { arrayMinSize: 'inputs must not be empty' }, children: [] },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'gtin', message: 'gtin must be a string' },
      { field: 'quantity.value', message: 'value must not be less than 0' },
      { field: 'quantity.unit.code', message: 'code must be a known unit' },
      { field: 'inputs', message: 'inputs must not be empty' },
    ]);
  });

  it('returns nothing for no errors and uses a parent prefix when given', () => {
    expect(flattenValidationErrors([])).toEqual([]);
    expect(flattenValidationErrors([{ property: '0', constraints: { x: 'bad' } }], 'items')).toEqual([
      { field: 'items.0', message: 'bad' },
    ]);
  });
});

class QuantityDto {
  @IsString() unit!: string;
  @IsInt() @Min(1) value!: number;
}
class BodyDto {
  @IsString() lot!: string;
  @ValidateNested() @Type(() => QuantityDto) quantity!: QuantityDto;
}

describe('createValidationPipe → toProblem', () => {
  it('turns nested validation failures into a 400 validation problem with field errors', async () => {
    const pipe = createValidationPipe();
    let thrown: unknown;
    try {
      await pipe.transform({ lot: 5, quantity: { unit: 'kg', value: 0 } }, { type: 'body', metatype: BodyDto });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BadRequestException);
    const p = filter().toProblem(thrown);
    expect(p.status).toBe(400);
    expect(p.type).toBe(problemType('validation'));
    const errors = p.errors as { field: string; message: string }[];
    expect(errors.map((e) => e.field).sort()).toEqual(['lot', 'quantity.value']);
    expect(p.detail).toContain('quantity.value:');
  });

  it('reports only the first failing rule of each field, in the order the DTO writes them', async () => {
    class SecretDto {
      @IsString() @IsNotEmpty() @MaxLength(256) clientSecret!: string;
      @IsInt() @Min(1) count!: number;
    }
    const thrown = await createValidationPipe()
      .transform({ count: 'many' }, { type: 'body', metatype: SecretDto })
      .catch((err: unknown) => err);
    expect(filter().toProblem(thrown).errors).toEqual([
      { field: 'clientSecret', message: 'clientSecret must be a string' },
      { field: 'count', message: 'count must be an integer number' },
    ]);
  });

  it('refuses unknown fields rather than dropping them', async () => {
    const pipe = createValidationPipe();
    const attempt = pipe.transform(
      { lot: 'L1', quantity: { unit: 'kg', value: 1 }, admin: true },
      { type: 'body', metatype: BodyDto },
    );
    await expect(attempt).rejects.toBeInstanceOf(BadRequestException);
    const p = filter().toProblem(await attempt.catch((e: unknown) => e));
    expect((p.errors as { field: string }[]).map((e) => e.field)).toEqual(['admin']);
  });

  it('accepts and transforms a valid body', async () => {
    const out = await createValidationPipe().transform(
      { lot: 'L1', quantity: { unit: 'kg', value: 3 } },
      { type: 'body', metatype: BodyDto },
    );
    expect(out).toBeInstanceOf(BodyDto);
    expect(out.quantity).toBeInstanceOf(QuantityDto);
  });
});

describe('ProblemDetailsFilter.catch', () => {
  it('writes application/problem+json with status and instance', () => {
    const res = new FakeResponse();
    filter().catch(new DomainError(409, 'held-batch', 'Batch is held'), fakeHost(res, { url: '/x', originalUrl: '/api/batches/1' }));
    expect(res.statusCode).toBe(409);
    expect(res.contentType).toBe('application/problem+json');
    const body = JSON.parse(res.body!) as ProblemDetails;
    expect(body).toEqual({
      type: problemType('held-batch'),
      title: 'Conflict',
      status: 409,
      detail: 'Batch is held',
      instance: '/api/batches/1',
    });
  });

  it('uses req.url as instance when there is no originalUrl', () => {
    const res = new FakeResponse();
    filter().catch(new NotFoundException(), fakeHost(res, { url: '/nope' }));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body!).instance).toBe('/nope');
  });

  it('logs a 500 and sends a body that does not leak the error', () => {
    const logger = createLogger('silent');
    const errorSpy = jest.spyOn(logger, 'error');
    const res = new FakeResponse();
    const boom = new Error('secret internals');
    new ProblemDetailsFilter(logger).catch(boom, fakeHost(res, { url: '/boom' }));
    expect(res.statusCode).toBe(500);
    expect(res.contentType).toBe('application/problem+json');
    expect(res.body).not.toContain('secret internals');
    expect(errorSpy).toHaveBeenCalledTimes(1);
    expect(errorSpy.mock.calls[0][0]).toMatchObject({ err: boom, path: '/boom' });
  });

  it('does not log client errors', () => {
    const logger = createLogger('silent');
    const errorSpy = jest.spyOn(logger, 'error');
    new ProblemDetailsFilter(logger).catch(new NotFoundException(), fakeHost(new FakeResponse(), { url: '/' }));
    expect(errorSpy).not.toHaveBeenCalled();
  });

  it('sets Retry-After on a 429 that carries retryAfter', () => {
    const res = new FakeResponse();
    filter().catch(new DomainError(429, 'rate-limited', 'slow down', { retryAfter: 7 }), fakeHost(res, { url: '/' }));
    expect(res.statusCode).toBe(429);
    expect(res.headers['Retry-After']).toBe('7');
    expect(JSON.parse(res.body!).retryAfter).toBe(7);
  });

  it('answers a deadlock or serialization failure 503 database-conflict with Retry-After (nothing written), and logs it', () => {
    for (const code of ['40P01', '40001']) {
      const logger = createLogger('silent');
      const errorSpy = jest.spyOn(logger, 'error');
      const res = new FakeResponse();
      const err = new QueryFailedError('DELETE FROM t WHERE id = $1', ['x'], Object.assign(new Error('deadlock detected'), { code }));
      new ProblemDetailsFilter(logger).catch(err, fakeHost(res, { url: '/v1/x' }));
      expect([res.statusCode, res.headers['Retry-After']]).toEqual([503, '1']);
      expect(JSON.parse(res.body!)).toMatchObject({ type: 'https://problems.trace.dev/database-conflict', status: 503, retryAfter: 1 });
      expect(errorSpy).toHaveBeenCalledTimes(1);
    }
    // Any other database error stays a 500.
    const res = new FakeResponse();
    filter().catch(new QueryFailedError('SELECT', [], Object.assign(new Error('relation does not exist'), { code: '42P01' })), fakeHost(res, { url: '/' }));
    expect(res.statusCode).toBe(500);
  });

  it('does not write when headers were already sent', () => {
    const res = new FakeResponse();
    res.headersSent = true;
    filter().catch(new NotFoundException(), fakeHost(res, { url: '/' }));
    expect(res.statusCode).toBeUndefined();
    expect(res.body).toBeUndefined();
  });

  it('rethrows for non-HTTP contexts', () => {
    const err = new DomainError(409, 'x', 'y');
    expect(() => filter().catch(err, fakeHost(new FakeResponse(), { url: '/' }, 'rpc'))).toThrow(err);
  });
});

describe('refusalError', () => {
  it('answers a rule refusal with its status and rule, and names the field at fault', () => {
    const withField = refusalError({ status: 422, rule: 'unknown-category', message: 'No category vegetables', field: 'category' });
    expect(withField).toBeInstanceOf(DomainError);
    expect(withField).toMatchObject({ status: 422, rule: 'unknown-category', message: 'No category vegetables', extensions: { errors: [{ field: 'category', message: 'No category vegetables' }] } });
    expect(refusalError({ status: 409, rule: 'batch-held', message: 'The batch is held' })).toMatchObject({ status: 409, rule: 'batch-held', extensions: {} });
  });
});
