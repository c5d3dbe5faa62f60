import { eventually } from '@trace/testing';
import { Api } from '../support/api';
import { startEmbeddedApp } from '../support/embedded-app';

/**
 * Issue 13, item 4: credential abuse. Guessing secrets is throttled and
 * backs off; a flood of sign-ins cannot queue scrypt work without bound; a
 * client's secret can be rotated and the client deleted, and the tokens it
 * had stop working within seconds.
 */
const ADMIN_ID = 'cred-admin';
const ADMIN_SECRET = 'cred-admin-secret-0123456789';

async function setUp(overrides: Record<string, string> = {}) {
  const t = await startEmbeddedApp({ BOOTSTRAP_ADMIN_CLIENT_ID: ADMIN_ID, BOOTSTRAP_ADMIN_CLIENT_SECRET: ADMIN_SECRET, ...overrides });
  const token = (clientId: string, clientSecret: string) => t.anonymous.post('/v1/auth/token', { clientId, clientSecret });
  const login = async (clientId: string, clientSecret: string) => {
    const r = await token(clientId, clientSecret);
    if (r.status !== 200) throw new Error(`login ${clientId}: ${r.status} ${JSON.stringify(r.body)}`);
    return new Api(t.url, r.body.accessToken);
  };
  const admin = await login(ADMIN_ID, ADMIN_SECRET);
  const org = (await admin.post('/v1/orgs', { name: 'Credential Farm', kind: 'producer' })).body as { id: string };
  const newClient = async () => (await admin.post(`/v1/orgs/${org.id}/clients`, { role: 'operator' })).body as { clientId: string; clientSecret: string };
  return { t, token, login, admin, org, newClient };
}

describe('credentials: throttled guessing, bounded scrypt, rotation and deletion', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    s = await setUp();
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it('after five wrong secrets the right one waits too (429, Retry-After), and the wait grows', async () => {
    const { clientId, clientSecret } = await s.newClient();
    for (let i = 0; i < 5; i++) expect((await s.token(clientId, `wrong-secret-${i}-0123456789`)).status).toBe(401);
    const locked = await s.token(clientId, clientSecret);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(locked.body).toMatchObject({ type: 'https://problems.trace.dev/rate-limited', retryAfter: expect.any(Number) });
    // Once the lock has passed, the right secret works and forgives the failures.
    const ok = await eventually(async () => {
      const r = await s.token(clientId, clientSecret);
      return r.status === 200 ? r : undefined;
      // Each try counts against the address's budget of the minute: a few, not dozens.
    }, 5_000, 250);
    expect(ok.body.accessToken).toEqual(expect.any(String));
  });

  it('an unknown client id is throttled like a known one (no oracle in the answers)', async () => {
    for (let i = 0; i < 5; i++) expect((await s.token('cli_does_not_exist', `guess-${i}-0123456789abcdef`)).status).toBe(401);
    expect((await s.token('cli_does_not_exist', 'guess-6-0123456789abcdef')).status).toBe(429);
  });

  it('rotate: the new secret is shown once, the old secret and every token issued with it stop working within seconds', async () => {
    const { clientId, clientSecret } = await s.newClient();
    const before = await s.login(clientId, clientSecret);
    expect((await before.get(`/v1/orgs/${s.org.id}`)).status).toBe(200);
    const rotated = await s.admin.post(`/v1/orgs/${s.org.id}/clients/${clientId}/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ clientId, orgId: s.org.id, role: 'operator', clientSecret: expect.any(String) });
    expect(rotated.body.clientSecret).not.toBe(clientSecret);
    const refused = await eventually(async () => {
      const r = await before.get(`/v1/orgs/${s.org.id}`);
      return r.status === 401 ? r : undefined;
    }, 5_000);
    expect(refused.body.detail).toMatch(/revoked/);
    expect((await s.token(clientId, clientSecret)).status).toBe(401);
    const after = await s.login(clientId, rotated.body.clientSecret);
    expect((await after.get(`/v1/orgs/${s.org.id}`)).status).toBe(200);
  });

  it('delete: the client gets no new token and the ones it has stop working within seconds', async () => {
    const { clientId, clientSecret } = await s.newClient();
    const api = await s.login(clientId, clientSecret);
    const write = () => api.post('/v1/locations', { name: 'Shed', kind: 'farm' });
    expect((await write()).status).toBe(201);
    const deleted = await s.admin.request('DELETE', `/v1/orgs/${s.org.id}/clients/${clientId}`);
    expect(deleted.status).toBe(204);
    await eventually(async () => ((await write()).status === 401 ? true : undefined), 5_000);
    expect((await s.token(clientId, clientSecret)).status).toBe(401);
    expect((await s.admin.request('DELETE', `/v1/orgs/${s.org.id}/clients/${clientId}`)).status).toBe(404);
    expect((await s.admin.post(`/v1/orgs/${s.org.id}/clients/${clientId}/rotate`, {})).status).toBe(404);
  });

  it('only an admin rotates or deletes, and only a client of the organisation named', async () => {
    const { clientId, clientSecret } = await s.newClient();
    const operator = await s.login(clientId, clientSecret);
    expect((await operator.post(`/v1/orgs/${s.org.id}/clients/${clientId}/rotate`, {})).status).toBe(403);
    expect((await operator.request('DELETE', `/v1/orgs/${s.org.id}/clients/${clientId}`)).status).toBe(403);
    const other = (await s.admin.post('/v1/orgs', { name: 'Other Org', kind: 'retailer' })).body as { id: string };
    expect((await s.admin.post(`/v1/orgs/${other.id}/clients/${clientId}/rotate`, {})).status).toBe(404);
    expect((await operator.get(`/v1/orgs/${s.org.id}`)).status).toBe(200);
  });
});

describe('credentials: per-address budget and bounded scrypt work', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    s = await setUp({ AUTH_RATE_LIMIT: '400', AUTH_ADDRESS_FAILURES: '1000', AUTH_CLIENT_FAILURES: '1000', AUTH_SCRYPT_CONCURRENCY: '1', AUTH_SCRYPT_QUEUE: '4' });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it('a flood of unknown clients is turned away at once beyond the queue (429 token-endpoint-busy), never a 5xx, and a normal login then works', async () => {
    const { clientId, clientSecret } = await s.newClient();
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => s.token(`flood-${i}`, 'not-a-secret-0123456789')));
    const statuses = flood.map((r) => r.status);
    expect(statuses.every((x) => x === 401 || x === 429)).toBe(true);
    const busy = flood.filter((r) => r.status === 429);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].body.type).toBe('https://problems.trace.dev/token-endpoint-busy');
    expect(busy[0].headers.get('retry-after')).toBe('1');
    // At most one running and four waiting were checked; the rest cost no scrypt.
    expect(statuses.filter((x) => x === 401).length).toBeLessThan(40);
    expect((await s.token(clientId, clientSecret)).status).toBe(200);
  });
});

describe('credentials: requests per address', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    s = await setUp({ AUTH_RATE_LIMIT: '12' });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it('past the budget of the minute every token request from the address is a 429 with Retry-After', async () => {
    // setUp spent one (the admin's login); a few more, then the budget is gone.
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push((await s.token(`nobody-${i}`, 'x-0123456789abcdef')).status);
    expect(answers).toContain(429);
    const r = await s.token(ADMIN_ID, ADMIN_SECRET);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
