import { HttpDirectory, SERVICE_CREDENTIAL_HEADER, ServiceCredentials } from '@trace/platform';
import { startEmbeddedApp, TEST_JWT_SECRET, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * The Directory of a service running without the gateway module (distributed
 * mode): HttpDirectory against the gateway's internal endpoints, over real HTTP.
 */
describe('identity: Directory over HTTP (internal endpoints)', () => {
  let t: EmbeddedTestApp;
  let orgId: string;
  let locationId: string;
  const calls: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };

  beforeAll(async () => {
    // INTERNAL_HTTP: the internal endpoints over HTTP, as distributed mode has them.
    t = await startEmbeddedApp({ BOOTSTRAP_ADMIN_CLIENT_ID: 'root', BOOTSTRAP_ADMIN_CLIENT_SECRET: 'root-secret-0123456789', INTERNAL_HTTP: 'true' });
    const admin = t.as('platform', 'admin');
    orgId = (await admin.post('/v1/orgs', { name: 'Riverside Foods', kind: 'processor' })).body.id;
    locationId = (await t.as(orgId, 'operator').post('/v1/locations', { name: 'Plant 1', kind: 'factory', region: 'CN-32' })).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers organisations and locations, caches found answers, never caches "not found"', async () => {
    let now = 1_000_000;
    const directory = new HttpDirectory({
      baseUrl: `${t.url}/`,
      credentials: new ServiceCredentials(TEST_JWT_SECRET),
      service: 'agri',
      fetch: countingFetch,
      now: () => now,
    });
    calls.length = 0;
    expect(await directory.organisation(orgId)).toEqual({ id: orgId, name: 'Riverside Foods', kind: 'processor' });
    expect(await directory.location(locationId)).toEqual({
      id: locationId,
      orgId,
      name: 'Plant 1',
      kind: 'factory',
      region: 'CN-32',
      address: null,
      gln: null,
    });
    // Within 60 s: from the cache, and concurrent look-ups share one request.
    await Promise.all([directory.organisation(orgId), directory.organisation(orgId), directory.location(locationId)]);
    expect(calls).toHaveLength(2);
    now += 61_000;
    await Promise.all([directory.organisation(orgId), directory.organisation(orgId)]);
    expect(calls).toHaveLength(3);

    // Unknown, malformed and the platform itself: "not found", asked again each time.
    for (const id of ['5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d', 'farm-1', '../../v1/orgs', 'platform']) {
      expect(await directory.location(id)).toBeUndefined();
      expect(await directory.organisation(id)).toBeUndefined();
    }
    calls.length = 0;
    const fresh = (await t.as(orgId, 'operator').post('/v1/locations', { name: 'Plant 2', kind: 'warehouse' })).body.id;
    expect(await directory.location('5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d')).toBeUndefined();
    expect(await directory.location(fresh)).toMatchObject({ id: fresh, orgId });
    expect(calls).toHaveLength(2);
  });

  it('finds an organisation by its party GLN (capture reads a PGLN receiver by it); an unknown or malformed GLN is "not found"', async () => {
    const withGln = (await t.as('platform', 'admin').post('/v1/orgs', { name: 'Riverside Mill', kind: 'processor', gln: '4012345000092' })).body;
    expect(withGln).toMatchObject({ gln: '4012345000092' });
    calls.length = 0;
    const directory = new HttpDirectory({ baseUrl: t.url, credentials: new ServiceCredentials(TEST_JWT_SECRET), service: 'agri', fetch: countingFetch });
    expect(await directory.organisationByGln('4012345000092')).toEqual({ id: withGln.id, name: 'Riverside Mill', kind: 'processor', gln: '4012345000092' });
    expect(await directory.organisation(withGln.id)).toEqual({ id: withGln.id, name: 'Riverside Mill', kind: 'processor', gln: '4012345000092' });
    expect(await directory.organisationByGln('4012345000092')).toMatchObject({ id: withGln.id });
    expect(calls).toHaveLength(2);
    for (const gln of ['9506000134352', '401234500009', '../../v1/orgs']) expect(await directory.organisationByGln(gln)).toBeUndefined();
  });

  it('a gateway that does not answer is a 503 for the caller, not "not found"', async () => {
    const directory = new HttpDirectory({ baseUrl: 'http://127.0.0.1:9', credentials: new ServiceCredentials(TEST_JWT_SECRET), service: 'agri' });
    await expect(directory.location(locationId)).rejects.toMatchObject({ status: 503, rule: 'identity-unavailable' });
    // A service with the wrong signing secret is refused, which is also not "not found".
    const wrong = new HttpDirectory({ baseUrl: t.url, credentials: new ServiceCredentials('x'.repeat(40)), service: 'agri' });
    await expect(wrong.organisation(orgId)).rejects.toMatchObject({ status: 503 });
  });

  it('the internal endpoints answer services only: no client token, not even an admin\'s, is a service credential', async () => {
    const path = `/internal/v1/organisations/${orgId}`;
    const anonymous = await t.anonymous.get(path);
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.type).toBe('https://problems.trace.dev/service-only');
    // A user's admin token is not a service's.
    const userAdmin = await t.as('platform', 'admin').get(path);
    expect(userAdmin.status).toBe(403);
    expect(userAdmin.body.type).toBe('https://problems.trace.dev/service-only');
    for (const role of ['operator', 'inspector', 'regulator'] as const) {
      expect((await t.as(orgId, role).get(`/internal/v1/locations/${locationId}`)).status).toBe(403);
    }
    // A client token in the service header is still no service credential (another key, no audience).
    const asClient = await fetch(`${t.url}${path}`, { headers: { [SERVICE_CREDENTIAL_HEADER]: (await t.as('platform', 'admin').headers()).authorization } });
    expect(asClient.status).toBe(403);
    const service = await new ServiceCredentials(TEST_JWT_SECRET).header('food');
    const answer = await fetch(`${t.url}${path}`, { headers: service });
    expect(await answer.json()).toEqual({ id: orgId, name: 'Riverside Foods', kind: 'processor' });
    expect((await fetch(`${t.url}/internal/v1/locations/not-a-uuid`, { headers: service })).status).toBe(404);
  });
});
