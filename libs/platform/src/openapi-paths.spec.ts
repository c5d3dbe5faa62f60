import type { OpenAPIObject } from '@nestjs/swagger';
import { declarePathParameters } from './openapi-paths';

describe('declarePathParameters', () => {
  it('declares each template parameter an operation leaves out, keeping the ones it has', () => {
    const doc = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/01/{path}': { get: { responses: {} } },
        '/v1/epcis/{resource}/{value}': {
          get: { parameters: [{ name: 'resource', in: 'path', required: true, schema: { type: 'string' } }], responses: {} },
          options: { responses: {} },
        },
        '/health': { get: { responses: {} } },
      },
    } as unknown as OpenAPIObject;
    const out = declarePathParameters(doc).paths as any;
    expect(out['/01/{path}'].get.parameters).toEqual([{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(out['/v1/epcis/{resource}/{value}'].get.parameters.map((p: any) => p.name)).toEqual(['resource', 'value']);
    expect(out['/v1/epcis/{resource}/{value}'].options.parameters.map((p: any) => p.name)).toEqual(['resource', 'value']);
    expect(out['/health'].get.parameters).toBeUndefined();
  });
});
