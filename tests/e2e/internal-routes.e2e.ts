import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ServiceCredentials, SERVICE_CREDENTIAL_HEADER } from '@trace/platform';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, Api } from '../support/api';
import { startDistributed, type DistributedDeployment } from '../support/distributed';

/**
 * Issue 13, item 1, over real processes: the agri and food services and the
 * gateway. A transformation across services and the scan still go through
 * the internal routes (with the service credential the services mint), but an
 * operator token, an admin token or no token at a service's own port is
 * refused, and the gateway routes no /internal path, however it is spelled.
 */
describe('internal routes in distributed mode (gateway, agri, food processes)', () => {
  let d: DistributedDeployment | undefined;
  afterAll(async () => {
    await d?.stop();
  });

  /** A raw request: fetch would resolve the dot segments before sending. */
  const raw = (base: string, path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(new URL(base), { path, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('services reach each other; no client token, and no path through the gateway, reaches /internal', async () => {
    // A small look-up budget, to see the gateway count certificate look-ups before it forwards them.
    d = await startDistributed(['agri', 'food'], 'e2einternal', { env: { gateway: { LOOKUP_RATE_LIMIT: '5' } } });
    const dep = d;
    const admin = dep.as('platform', 'admin');
    const org = async (name: string, kind: string, locationKind: string): Promise<{ id: string; api: Api; loc: string }> => {
      const id = (await admin.post('/v1/orgs', { name, kind })).body.id as string;
      const api = dep.as(id, 'operator');
      const loc = (await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).body.id as string;
      return { id, api, loc };
    };
    const farm = await org('Internal Farm', 'producer', 'farm');
    const mill = await org('Internal Mill', 'processor', 'factory');
    await aProduct(farm.api, 'agri', '09506000134352', 'grain');
    await aProduct(mill.api, 'food', '04012345000016', 'flour');
    const grain = (await farm.api.post('/v1/agri/batches', aBatch('INT-GRAIN', farm.loc))).body;
    const now = () => new Date().toISOString();
    expect((await farm.api.post(`/v1/agri/batches/${grain.id}/events`, { bizStep: 'shipping', eventTime: now(), locationId: farm.loc, toOrgId: mill.id })).status).toBe(201);
    expect((await mill.api.post(`/v1/agri/batches/${grain.id}/events`, { bizStep: 'receiving', eventTime: now(), locationId: mill.loc })).status).toBe(201);
    // food → agri consume over HTTP, with the service credential and the mill's token.
    const flour = await mill.api.post('/v1/food/batches', {
      ...aBatch('INT-FLOUR', mill.loc),
      gtin: '04012345000016',
      quantity: { value: 80, unit: 'kg' },
      inputs: [{ domain: 'agri', batchId: grain.id, quantity: { value: 100, unit: 'kg' } }],
    });
    expect(flour.status).toBe(201);
    // gateway → agri public view over HTTP: the scan works, and shows no internal id.
    const scan = await fetch(`${dep.gateway.url}/01/09506000134352/10/INT-GRAIN`, { headers: { accept: 'application/json' } });
    expect(scan.status).toBe(200);
    expect(await scan.text()).not.toContain(grain.id);

    const agri = dep.services.agri!.url;
    const events = (await mill.api.get(`/v1/agri/batches/${grain.id}/events`)).body as any[];
    const chainLength = events.length;
    const attacks: [string, unknown][] = [
      [`/internal/v1/agri/batches/${grain.id}/restore`, { batchId: grain.id, quantity: 999_999, unit: 'kg', outputRef: { domain: 'food', batchId: randomUUID() }, correctionOf: events[0].id, reason: 'attack' }],
      [`/internal/v1/agri/public/09506000134352/INT-GRAIN`, undefined],
      ['/internal/v1/agri/epcis/resolve', { gtins: ['09506000134352'], objects: [{ gtin: '09506000134352', lot: 'INT-GRAIN' }] }],
    ];
    const farmToken = (await farm.api.headers()).authorization;
    const adminToken = (await admin.headers()).authorization;
    for (const [path, body] of attacks) {
      for (const headers of [{}, { authorization: farmToken }, { authorization: adminToken }, { [SERVICE_CREDENTIAL_HEADER]: adminToken }] as Record<string, string>[]) {
        const r = await fetch(`${agri}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await r.text();
        expect({ path, status: r.status }).toEqual({ path, status: 403 });
        expect(text).not.toContain(farm.id);
      }
      // Through the gateway: not routed at all, however the path is spelled.
      expect((await fetch(`${dep.gateway.url}${path}`, { method: body === undefined ? 'GET' : 'POST' })).status).toBe(404);
    }
    // Dot segments the URL parser would resolve into /internal/… are refused before forwarding.
    for (const [sneaky, status] of [
      ['/v1/agri/../../internal/v1/agri/public/09506000134352/INT-GRAIN', 400],
      ['/v1/agri/%2e%2e/%2e%2e/internal/v1/agri/public/09506000134352/INT-GRAIN', 400],
      ['/v1/agri/..%2f..%2finternal/v1/agri/public/09506000134352/INT-GRAIN', 404],
    ] as const) {
      expect({ sneaky, status: await raw(dep.gateway.url, sneaky) }).toEqual({ sneaky, status });
    }
    expect((await mill.api.get(`/v1/agri/batches/${grain.id}/events`)).body).toHaveLength(chainLength);

    // The services' own credential (what they mint from the shared secret) is what opens the route.
    const service = await new ServiceCredentials(dep.secret).header('test');
    expect((await fetch(`${agri}/internal/v1/agri/public/09506000134352/INT-GRAIN`, { headers: service })).status).toBe(200);
  }, 240_000);

  it('public look-ups are counted per client address at the gateway (a service behind it sees only the gateway)', async () => {
    const dep = d!;
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await fetch(`${dep.gateway.url}/v1/certificates/NO-SUCH-${i}`)).status);
    expect(answers.slice(0, 5)).not.toContain(429);
    const refused = await fetch(`${dep.gateway.url}/v1/certificates/NO-SUCH-6`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a rotated client\'s old token stops working at another service within seconds (token versions through Redis)', async () => {
    const dep = d!;
    const admin = dep.as('platform', 'admin');
    const orgId = (await admin.post('/v1/orgs', { name: 'Rotating Farm', kind: 'producer' })).body.id as string;
    const client = (await admin.post(`/v1/orgs/${orgId}/clients`, { role: 'operator' })).body as { clientId: string; clientSecret: string };
    const issued = await new Api(dep.gateway.url).post('/v1/auth/token', { clientId: client.clientId, clientSecret: client.clientSecret });
    expect(issued.status).toBe(200);
    const old = new Api(dep.gateway.url, issued.body.accessToken);
    // Served by the agri process: it knows nothing of clients but what the gateway published.
    expect((await old.post('/v1/agri/products', { gtin: '06901234567892', name: 'Rotating tea', category: 'tea' })).status).toBe(201);
    expect((await admin.post(`/v1/orgs/${orgId}/clients/${client.clientId}/rotate`, {})).status).toBe(200);
    const refused = await eventually(async () => {
      const r = await old.get('/v1/agri/products/00000000-0000-4000-8000-000000000000');
      return r.status === 401 ? r : undefined;
    }, 10_000);
    expect(refused.body.detail).toMatch(/revoked/);
  }, 60_000);
});
