import { Client } from 'pg';
import { idempotencyKeyId } from '@trace/platform';
import { testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct, type Api } from '../support/api';

async function postKeyed(api: Api, path: string, body: unknown, key: string) {
  const r = await fetch(`${api.baseUrl}${path}`, {
    method: 'POST',
    headers: { ...(await api.headers()), 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as any, replayed: r.headers.get('idempotent-replayed') };
}

/**
 * Distributed mode: the gateway proxies a domain route before its own
 * handlers see it, so a key is honoured once, by the service that owns the
 * route (its own schema), and a retry through the gateway writes nothing more.
 */
describe('idempotency keys and input rules in distributed mode (gateway in front of the agri process)', () => {
  let d: DistributedDeployment | undefined;
  const query = async (sql: string, params: unknown[] = []) => {
    const c = new Client({ connectionString: testDatabaseUrl() });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows;
    } finally {
      await c.end();
    }
  };

  afterAll(async () => {
    await d?.stop();
  });

  it('a retried POST through the gateway is answered once by the owning service and writes once', async () => {
    d = await startDistributed(['agri'], 'e2eidem');
    const admin = d.as('platform', 'admin');
    const org = (await admin.post('/v1/orgs', { name: 'Keyed farm', kind: 'producer' })).body;
    const api = d.as(org.id, 'operator');
    // A route the gateway answers itself: its key lives in the gateway's schema.
    const farm = await postKeyed(api, '/v1/locations', { name: 'North field', kind: 'farm' }, 'loc-1');
    expect(farm.status).toBe(201);
    expect((await postKeyed(api, '/v1/locations', { name: 'North field', kind: 'farm' }, 'loc-1')).body).toEqual(farm.body);
    await aProduct(api);

    const body = aBatch('E2E-IDEM-1', farm.body.id);
    const answers = await Promise.all(Array.from({ length: 5 }, () => postKeyed(api, '/v1/agri/batches', body, 'batch-1')));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const again = await postKeyed(api, '/v1/agri/batches', body, 'batch-1');
    expect({ status: again.status, id: again.body.id, replayed: again.replayed }).toEqual({ status: 201, id: answers[0].body.id, replayed: 'true' });
    expect((await postKeyed(api, '/v1/agri/batches', { ...body, lot: 'E2E-IDEM-2' }, 'batch-1')).status).toBe(422);
    expect((await query(`SELECT count(*)::int AS n FROM ${d.prefix}agri.batches WHERE lot = 'E2E-IDEM-1'`))[0].n).toBe(1);
    // The batch's time comes back through the gateway as it was written (aBatch: +08:00).
    expect((await api.get(`/v1/agri/batches/${answers[0].body.id}`)).body.producedAt).toBe(body.producedAt);
    // The other input rules hold behind the gateway too: categories, hostile strings.
    const categories = await d.public.get('/v1/agri/categories');
    expect(categories.body.items.find((c: { code: string }) => c.code === 'vegetable')).toMatchObject({ rules: ['certificate-required'] });
    expect((await api.post('/v1/agri/products', { gtin: '09506000134369', name: 'x', category: 'vegetables' })).status).toBe(400);
    expect((await api.post('/v1/agri/batches', { ...body, lot: 'E2E-IDEM-3', attributes: { note: 'a\u0000b' } })).status).toBe(400);
    expect((await d.public.post('/v1/auth/token', { clientId: 'x\u0000', clientSecret: 'y' })).status).toBe(400);

    // Once: the agri service kept the domain route's key, the gateway only its own.
    const caller = `${org.id}/operator-client`;
    const keys = async (host: string) =>
      (await query(`SELECT key FROM ${d!.prefix}${host}_idempotency.idempotency_keys ORDER BY key`)).map((r: { key: string }) => r.key);
    expect(await keys('agri')).toEqual([idempotencyKeyId(caller, 'batch-1')]);
    expect(await keys('gateway')).toEqual([idempotencyKeyId(caller, 'loc-1')]);
  });
});
