import { decodeEnvelope } from '@trace/contracts';
import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** What every endpoint promises: operations endpoints, validation, problem+json, auth and org scope. */
describe('HTTP platform (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  let B: TestOrg;
  const batchOf = (lot: string) => aBatch(lot, A.locations.farm);
  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Org A');
    B = await anOrg(t, 'Org B');
    await aProduct(A.api);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves health, metrics and the OpenAPI document without a token', async () => {
    expect((await t.anonymous.get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await t.anonymous.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks)).toEqual(
      expect.arrayContaining(['cache', 'broker', 'database:agri', 'database:food', 'database:drug', 'database:material', 'database:goods', 'database:lineage', 'database:recall']),
    );
    const metrics = await t.anonymous.get('/metrics');
    expect(metrics.body).toContain('# TYPE http_request_duration_seconds histogram');
    const docs = await t.anonymous.get('/docs-json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/agri/batches', '/v1/trace/{domain}/{batchId}', '/health/ready']));
  });

  it('answers bad input with a 4xx problem+json, never a 5xx', async () => {
    const op = A.api;
    const cases: [unknown, number, string][] = [
      ['{not json', 400, 'malformed-json'],
      [{ ...batchOf('X1'), unknown: 1 }, 400, 'validation'],
      [{ ...batchOf('X2'), quantity: { value: 'ten', unit: 'kg' } }, 400, 'validation'],
      [{ ...batchOf('X3'), gtin: '09506000134353' }, 400, 'gtin'],
      [{ ...batchOf('X4'), lot: 'x'.repeat(21) }, 400, 'validation'],
      [{ ...batchOf('X5'), producedAt: 'yesterday' }, 400, 'validation'],
      [JSON.stringify(batchOf('X6')).replace('{', '{"__proto__":{"admin":true},'), 400, 'malformed-json'],
      [JSON.stringify(batchOf('X7')).replace('{', '{"constructor":{"prototype":{"admin":true}},'), 400, 'malformed-json'],
      [[1, 2, 3], 400, 'validation'],
    ];
    for (const [body, status, type] of cases) {
      const r = await op.post('/v1/agri/batches', body);
      expect({ body, status: r.status, type: r.body.type }).toEqual({ body, status, type: `https://problems.trace.dev/${type}` });
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body).toEqual(expect.objectContaining({ title: expect.any(String), detail: expect.any(String) }));
    }
    const validation = await op.post('/v1/agri/batches', { ...batchOf('X8'), unknown: 1 });
    expect(validation.body.errors).toEqual([{ field: 'unknown', message: 'property unknown should not exist' }]);
    expect((await op.get('/v1/agri/batches/not-a-uuid')).status).toBe(400);
    expect((await op.get('/v1/trace/agri/not-a-uuid')).status).toBe(400);
    expect((await op.get('/v1/nothing-here')).status).toBe(404);
  });

  it('checks who may write: no token 401, wrong role 403, another organisation 404', async () => {
    expect((await t.anonymous.post('/v1/agri/batches', batchOf('A1'))).status).toBe(401);
    const forged = await t.anonymous.request('GET', '/v1/agri/batches/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
    expect(forged.status).toBe(401);
    const inspector = t.as('agency-1', 'inspector');
    const refused = await inspector.post('/v1/agri/batches', batchOf('A2'));
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('https://problems.trace.dev/role');

    const owner = A.api;
    const created = await owner.post('/v1/agri/batches', batchOf('A3'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ domain: 'agri', status: 'active', ownerOrgId: A.id, digitalLink: '/01/09506000134352/10/A3' });
    const id = created.body.id;
    expect((await owner.get(`/v1/agri/batches/${id}`)).status).toBe(200);
    expect((await B.api.get(`/v1/agri/batches/${id}`)).status).toBe(404);
    expect((await inspector.get(`/v1/agri/batches/${id}`)).status).toBe(200);
    expect((await t.as('gov', 'regulator').get(`/v1/agri/batches/${id}`)).status).toBe(200);
    // The same batch is not visible under another domain's path.
    expect((await owner.get(`/v1/food/batches/${id}`)).status).toBe(404);
    // GTIN + lot is unique.
    const dup = await owner.post('/v1/agri/batches', batchOf('A3'));
    expect(dup.status).toBe(409);
  });

  it('echoes a caller correlation id and stamps it on the events it causes', async () => {
    const op = A.api;
    const r = await fetch(`${t.url}/v1/agri/batches`, {
      method: 'POST',
      headers: { ...(await op.headers()), 'content-type': 'application/json', 'x-correlation-id': 'corr-123' },
      body: JSON.stringify(batchOf('C1')),
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-correlation-id')).toBe('corr-123');
    const [row] = await t.query(`SELECT payload FROM ${t.prefix}agri.outbox ORDER BY id DESC LIMIT 1`);
    const env = decodeEnvelope(row.payload);
    expect(env).toMatchObject({ correlationId: 'corr-123', source: 'agri', orgId: A.id, type: 'trace.v1.BatchRegistered' });
  });
});
