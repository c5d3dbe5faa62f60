import { DIRECTORY, type Directory, type Role } from '@trace/platform';
import { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * Auth and organisations (API.md "Auth", "Locations"): client-credentials
 * tokens, organisations and their clients, locations, and who may do what.
 */
describe('identity: tokens, organisations, clients, locations (embedded app, real PostgreSQL)', () => {
  const ADMIN_ID = 'root-admin';
  const ADMIN_SECRET = 'root-admin-secret-0123456789';
  const problem = (slug: string) => `https://problems.trace.dev/${slug}`;
  let t: EmbeddedTestApp;
  let admin: Api;

  const token = (clientId: unknown, clientSecret: unknown) => t.anonymous.post('/v1/auth/token', { clientId, clientSecret });
  /** Logs a client in through the public token endpoint. */
  const login = async (clientId: string, clientSecret: string): Promise<Api> => {
    const r = await token(clientId, clientSecret);
    expect(r.status).toBe(200);
    return new Api(t.url, r.body.accessToken);
  };
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
  const createOrg = async (kind: string, name = `${kind} ${Math.random().toString(36).slice(2, 8)}`) => {
    const r = await admin.post('/v1/orgs', { name, kind });
    expect(r.status).toBe(201);
    return r.body as { id: string; name: string; kind: string };
  };
  const createClient = async (orgId: string, role: Role) => {
    const r = await admin.post(`/v1/orgs/${orgId}/clients`, { role });
    expect(r.status).toBe(201);
    return r.body as { clientId: string; clientSecret: string };
  };

  beforeAll(async () => {
    t = await startEmbeddedApp({ BOOTSTRAP_ADMIN_CLIENT_ID: ADMIN_ID, BOOTSTRAP_ADMIN_CLIENT_SECRET: ADMIN_SECRET });
    admin = await login(ADMIN_ID, ADMIN_SECRET);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('POST /v1/auth/token', () => {
    it('issues a bearer token to the bootstrap admin from the environment', async () => {
      const r = await token(ADMIN_ID, ADMIN_SECRET);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
      expect(claims(r.body.accessToken)).toMatchObject({ sub: ADMIN_ID, org: 'platform', role: 'admin', iss: 'trace' });
    });

    it('gives one and the same 401 for a wrong secret and an unknown client', async () => {
      const wrong = await token(ADMIN_ID, 'not-the-secret-0123456789');
      const unknown = await token('nobody-here', ADMIN_SECRET);
      for (const r of [wrong, unknown]) {
        expect(r.status).toBe(401);
        expect(r.headers.get('content-type')).toContain('application/problem+json');
        expect(r.body.type).toBe(problem('invalid-client'));
      }
      const { instance: _a, ...a } = wrong.body;
      const { instance: _b, ...b } = unknown.body;
      expect(a).toEqual(b);
      // A secret that differs only in case, or is a prefix of the real one, is still wrong.
      expect((await token(ADMIN_ID, ADMIN_SECRET.toUpperCase())).status).toBe(401);
      expect((await token(ADMIN_ID, ADMIN_SECRET.slice(0, -1))).status).toBe(401);
    });

    it('answers a malformed body with 400 problem+json', async () => {
      const cases: unknown[] = [
        {},
        { clientId: ADMIN_ID },
        { clientSecret: ADMIN_SECRET },
        { clientId: 42, clientSecret: ADMIN_SECRET },
        { clientId: ADMIN_ID, clientSecret: ['x'] },
        { clientId: '', clientSecret: '' },
        { clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, grantType: 'client_credentials' },
        { clientId: ADMIN_ID, clientSecret: 'x'.repeat(10_000) },
        '{not json',
        [ADMIN_ID, ADMIN_SECRET],
      ];
      for (const body of cases) {
        const r = await t.anonymous.post('/v1/auth/token', body);
        expect({ body, status: r.status }).toEqual({ body, status: 400 });
        expect(r.headers.get('content-type')).toContain('application/problem+json');
      }
    });

    it('refuses tokens that were not issued with the platform secret', async () => {
      const forged = new Api(t.url).as('another-secret-of-at-least-32-characters', 'platform', 'admin');
      expect((await forged.post('/v1/orgs', { name: 'Evil', kind: 'producer' })).status).toBe(401);
    });
  });

  describe('organisations', () => {
    it('an admin creates organisations of every kind and reads them', async () => {
      for (const kind of ['producer', 'processor', 'distributor', 'retailer', 'construction_company', 'pharmacy', 'hospital', 'inspection_agency', 'regulator']) {
        const r = await admin.post('/v1/orgs', { name: `  A ${kind}  `, kind });
        expect(r.status).toBe(201);
        expect(r.body).toEqual({ id: expect.any(String), name: `A ${kind}`, kind });
        const got = await admin.get(`/v1/orgs/${r.body.id}`);
        expect(got.status).toBe(200);
        expect(got.body).toEqual(r.body);
      }
    });

    it('refuses an unknown kind, a blank name and unknown fields with 400', async () => {
      for (const body of [
        { name: 'X', kind: 'platform' },
        { name: 'X', kind: 'bakery' },
        { name: '   ', kind: 'producer' },
        { kind: 'producer' },
        { name: 'X', kind: 'producer', id: 'chosen-id' },
      ]) {
        const r = await admin.post('/v1/orgs', body);
        expect({ body, status: r.status, type: r.body.type }).toEqual({ body, status: 400, type: problem('validation') });
      }
    });

    it('only an admin creates organisations: other roles 403, no token 401', async () => {
      const body = { name: 'Not allowed', kind: 'producer' };
      for (const role of ['operator', 'inspector', 'regulator'] as Role[]) {
        const r = await t.as('org-x', role).post('/v1/orgs', body);
        expect({ role, status: r.status, type: r.body.type }).toEqual({ role, status: 403, type: problem('role') });
      }
      const anon = await t.anonymous.post('/v1/orgs', body);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('content-type')).toContain('application/problem+json');
    });

    it('an organisation is visible to admins and its own members only', async () => {
      const org = await createOrg('producer');
      expect((await admin.get(`/v1/orgs/${org.id}`)).status).toBe(200);
      for (const role of ['operator', 'inspector', 'regulator'] as Role[]) {
        expect((await t.as(org.id, role).get(`/v1/orgs/${org.id}`)).body).toEqual(org);
        const other = await t.as('someone-else', role).get(`/v1/orgs/${org.id}`);
        expect({ role, status: other.status }).toEqual({ role, status: 404 });
      }
      expect((await t.anonymous.get(`/v1/orgs/${org.id}`)).status).toBe(401);
      const missing = await admin.get('/v1/orgs/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
      expect(missing.status).toBe(404);
      expect(missing.body.type).toBe(problem('organisation'));
      expect((await admin.get(`/v1/orgs/${'x'.repeat(300)}`)).status).toBe(404);
      // The built-in organisation of the admins.
      expect((await admin.get('/v1/orgs/platform')).body).toEqual({ id: 'platform', name: 'Platform', kind: 'platform' });
    });
  });

  describe('clients', () => {
    it('an admin creates clients whose roles fit the kind of organisation; a misfit is 422 naming the rule', async () => {
      const kinds = ['producer', 'processor', 'distributor', 'retailer', 'construction_company', 'pharmacy', 'hospital', 'inspection_agency', 'regulator'];
      const fits: Record<Role, string[]> = {
        operator: ['producer', 'processor', 'distributor', 'retailer', 'construction_company', 'pharmacy', 'hospital'],
        inspector: ['inspection_agency'],
        regulator: ['regulator'],
        admin: [],
      };
      const orgs = Object.fromEntries(await Promise.all(kinds.map(async (k) => [k, await createOrg(k)] as const)));
      for (const kind of kinds) {
        for (const role of ['operator', 'inspector', 'regulator', 'admin'] as Role[]) {
          const r = await admin.post(`/v1/orgs/${orgs[kind].id}/clients`, { role });
          if (fits[role].includes(kind)) {
            expect({ kind, role, status: r.status }).toEqual({ kind, role, status: 201 });
            expect(r.body).toEqual({ clientId: expect.any(String), clientSecret: expect.any(String), orgId: orgs[kind].id, role });
            expect(r.body.clientSecret.length).toBeGreaterThanOrEqual(32);
          } else {
            expect({ kind, role, status: r.status, type: r.body.type }).toEqual({ kind, role, status: 422, type: problem('role-org-kind') });
            expect(r.headers.get('content-type')).toContain('application/problem+json');
            expect(r.body.detail).toContain(kind);
          }
        }
      }
      // Admin clients belong to the platform organisation only.
      const platformAdmin = await admin.post('/v1/orgs/platform/clients', { role: 'admin' });
      expect(platformAdmin.status).toBe(201);
      expect((await admin.post('/v1/orgs/platform/clients', { role: 'operator' })).status).toBe(422);
    });

    it('refuses an unknown organisation with 404 and a bad role with 400', async () => {
      const missing = await admin.post('/v1/orgs/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d/clients', { role: 'operator' });
      expect(missing.status).toBe(404);
      expect(missing.body.type).toBe(problem('organisation'));
      const org = await createOrg('producer');
      for (const body of [{ role: 'owner' }, {}, { role: 'operator', clientId: 'mine' }, { role: ['operator'] }]) {
        const r = await admin.post(`/v1/orgs/${org.id}/clients`, body);
        expect({ body, status: r.status }).toEqual({ body, status: 400 });
      }
    });

    it('only an admin creates clients: other roles 403 (even for their own organisation), no token 401', async () => {
      const org = await createOrg('producer');
      for (const role of ['operator', 'inspector', 'regulator'] as Role[]) {
        const r = await t.as(org.id, role).post(`/v1/orgs/${org.id}/clients`, { role: 'operator' });
        expect({ role, status: r.status }).toEqual({ role, status: 403 });
      }
      expect((await t.anonymous.post(`/v1/orgs/${org.id}/clients`, { role: 'operator' })).status).toBe(401);
    });

    it("a client's token carries its organisation and role, and works for that role only", async () => {
      const producer = await createOrg('producer');
      const agency = await createOrg('inspection_agency');
      const authority = await createOrg('regulator');
      const creds = {
        operator: { org: producer, ...(await createClient(producer.id, 'operator')) },
        inspector: { org: agency, ...(await createClient(agency.id, 'inspector')) },
        regulator: { org: authority, ...(await createClient(authority.id, 'regulator')) },
        admin: { org: { id: 'platform' }, ...(await createClient('platform', 'admin')) },
      };
      const apis = {} as Record<Role, Api>;
      for (const [role, c] of Object.entries(creds) as [Role, (typeof creds)[Role]][]) {
        const r = await token(c.clientId, c.clientSecret);
        expect(r.status).toBe(200);
        expect(claims(r.body.accessToken)).toMatchObject({ sub: c.clientId, org: c.org.id, role });
        apis[role] = new Api(t.url, r.body.accessToken);
        // Each client's secret is its own.
        expect((await token(c.clientId, creds.operator.clientId === c.clientId ? creds.inspector.clientSecret : creds.operator.clientSecret)).status).toBe(401);
      }

      // The operator writes locations for its own organisation; the admin names one (orgId), else 400.
      const location = { name: 'Greenhouse 3', kind: 'farm' };
      const created = await apis.operator.post('/v1/locations', location);
      expect(created.status).toBe(201);
      expect(created.body.orgId).toBe(producer.id);
      for (const role of ['inspector', 'regulator', 'admin'] as Role[]) {
        const status = role === 'admin' ? 400 : 403;
        expect({ role, status: (await apis[role].post('/v1/locations', location)).status }).toEqual({ role, status });
        expect((await apis[role].get(`/v1/locations/${created.body.id}`)).status).toBe(200);
      }
      // Only the admin manages organisations and clients.
      for (const role of ['operator', 'inspector', 'regulator'] as Role[]) {
        expect((await apis[role].post('/v1/orgs', { name: 'X', kind: 'producer' })).status).toBe(403);
        expect((await apis[role].post(`/v1/orgs/${producer.id}/clients`, { role: 'operator' })).status).toBe(403);
        // Each sees its own organisation and no other.
        expect((await apis[role].get(`/v1/orgs/${creds[role].org.id}`)).status).toBe(200);
        expect((await apis[role].get(`/v1/orgs/${role === 'operator' ? agency.id : producer.id}`)).status).toBe(404);
      }
      expect((await apis.admin.post('/v1/orgs', { name: 'Made by a second admin', kind: 'retailer' })).status).toBe(201);
    });

    it('a revoked client gets no token', async () => {
      const org = await createOrg('retailer');
      const c = await createClient(org.id, 'operator');
      expect((await token(c.clientId, c.clientSecret)).status).toBe(200);
      await t.query(`UPDATE ${t.prefix}gateway.clients SET revoked_at = now() WHERE client_id = $1`, [c.clientId]);
      const r = await token(c.clientId, c.clientSecret);
      expect(r.status).toBe(401);
      expect(r.body.type).toBe(problem('invalid-client'));
    });

    it('stores secrets only as salted scrypt hashes, never in clear', async () => {
      const org = await createOrg('distributor');
      const a = await createClient(org.id, 'operator');
      const b = await createClient(org.id, 'operator');
      const rows = await t.query(`SELECT * FROM ${t.prefix}gateway.clients`);
      expect(rows.length).toBeGreaterThan(3);
      const dump = JSON.stringify(rows);
      for (const secret of [a.clientSecret, b.clientSecret, ADMIN_SECRET]) expect(dump).not.toContain(secret);
      const hashes = rows.map((r) => r.secret_hash as string);
      for (const h of hashes) expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      const salts = hashes.map((h) => h.split('$')[4]);
      expect(new Set(salts).size).toBe(salts.length);
      expect(rows.find((r) => r.client_id === a.clientId)).toMatchObject({ org_id: org.id, role: 'operator', revoked_at: null });
      // Nothing else in the gateway schema holds a secret either.
      const everything = await t.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
        [`${t.prefix}gateway`],
      );
      for (const { table_name } of everything) {
        const content = JSON.stringify(await t.query(`SELECT * FROM ${t.prefix}gateway."${table_name}"`));
        expect({ table_name, leaks: content.includes(a.clientSecret) }).toEqual({ table_name, leaks: false });
      }
    });
  });

  describe('locations', () => {
    it("an operator creates a location of its own organisation; anyone authenticated reads it", async () => {
      const org = await createOrg('producer');
      const op = t.as(org.id, 'operator');
      const r = await op.post('/v1/locations', {
        name: 'North field',
        kind: 'field',
        region: 'CN-37',
        address: 'Shouguang, Shandong',
        gln: '9506000134352',
      });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        orgId: org.id,
        name: 'North field',
        kind: 'field',
        region: 'CN-37',
        address: 'Shouguang, Shandong',
        gln: '9506000134352',
        createdAt: expect.any(String),
      });
      for (const role of ['inspector', 'regulator', 'admin'] as Role[]) {
        const got = await t.as('another-org', role).get(`/v1/locations/${r.body.id}`);
        expect({ role, status: got.status }).toEqual({ role, status: 200 });
        expect(got.body).toEqual(r.body);
      }
      // An operator of an organisation that shares no batch with it does not see it (tests/integration/trust-boundaries.int.ts).
      expect((await t.as('another-org', 'operator').get(`/v1/locations/${r.body.id}`)).status).toBe(404);
      expect((await t.anonymous.get(`/v1/locations/${r.body.id}`)).status).toBe(401);
      // Optional fields stay optional.
      const minimal = await op.post('/v1/locations', { name: 'Packing shed', kind: 'warehouse' });
      expect(minimal.status).toBe(201);
      expect(minimal.body).toMatchObject({ orgId: org.id, region: null, address: null, gln: null });
      // Every location kind is accepted.
      for (const kind of ['farm', 'field', 'factory', 'warehouse', 'store', 'pharmacy', 'hospital', 'construction_site']) {
        expect((await op.post('/v1/locations', { name: `A ${kind}`, kind })).status).toBe(201);
      }
      const stored = await t.query(`SELECT org_id FROM ${t.prefix}gateway.locations WHERE id = $1`, [r.body.id]);
      expect(stored).toEqual([{ org_id: org.id }]);
    });

    it('refuses a bad GLN, a bad kind and a chosen orgId with 400', async () => {
      const org = await createOrg('processor');
      const op = t.as(org.id, 'operator');
      const bad: [unknown, string][] = [
        [{ name: 'F', kind: 'factory', gln: '9506000134353' }, 'gln'],
        [{ name: 'F', kind: 'factory', gln: '950600013435' }, 'gln'],
        [{ name: 'F', kind: 'factory', gln: '95060001343520' }, 'gln'],
        [{ name: 'F', kind: 'factory', gln: '950600013435X' }, 'gln'],
        [{ name: 'F', kind: 'factory', gln: 9506000134352 }, 'validation'],
        [{ name: 'F', kind: 'castle' }, 'validation'],
        [{ name: '', kind: 'factory' }, 'validation'],
        [{ kind: 'factory' }, 'validation'],
        [{ name: 'F', kind: 'factory', region: 7 }, 'validation'],
      ];
      for (const [body, type] of bad) {
        const r = await op.post('/v1/locations', body);
        expect({ body, status: r.status, type: r.body.type }).toEqual({ body, status: 400, type: problem(type) });
      }
      // Another organisation's orgId is the admin's to name, not an operator's.
      const foreign = await op.post('/v1/locations', { name: 'F', kind: 'factory', orgId: 'someone-else' });
      expect({ status: foreign.status, type: foreign.body.type }).toEqual({ status: 403, type: problem('location-org') });
      const checkDigit = await op.post('/v1/locations', { name: 'F', kind: 'factory', gln: '9506000134353' });
      expect(checkDigit.body.errors).toEqual([{ field: 'gln', message: expect.stringContaining('check digit') }]);
    });

    it('only operators (and admins, naming the organisation) create locations; an unregistered organisation is 422; unknown ids 404, malformed 400', async () => {
      for (const role of ['inspector', 'regulator', 'admin'] as Role[]) {
        const r = await t.as('platform', role).post('/v1/locations', { name: 'X', kind: 'farm' });
        expect({ role, status: r.status }).toEqual({ role, status: role === 'admin' ? 400 : 403 });
      }
      expect((await t.anonymous.post('/v1/locations', { name: 'X', kind: 'farm' })).status).toBe(401);
      const ghost = await t.as('ghost-org', 'operator').post('/v1/locations', { name: 'X', kind: 'farm' });
      expect(ghost.status).toBe(422);
      expect(ghost.body.type).toBe(problem('organisation'));
      const op = t.as('whoever', 'inspector');
      const missing = await op.get('/v1/locations/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
      expect(missing.status).toBe(404);
      expect(missing.body.type).toBe(problem('location'));
      expect((await op.get('/v1/locations/farm-1')).status).toBe(400);
    });
  });

  describe('party GLN of an organisation', () => {
    it('is optional, validated (13 digits, GS1 check digit), unique, and shown; invalid ones are 400 and a taken one 409, as problem+json', async () => {
      const name = `GLN Mill ${Math.random().toString(36).slice(2, 8)}`;
      const created = await admin.post('/v1/orgs', { name, kind: 'processor', gln: '4012345000108' });
      expect([created.status, created.body]).toEqual([201, { id: expect.any(String), name, kind: 'processor', gln: '4012345000108' }]);
      expect((await admin.get(`/v1/orgs/${created.body.id}`)).body).toEqual(created.body);
      const directory = t.app.get<Directory>(DIRECTORY);
      expect(await directory.organisationByGln('4012345000108')).toEqual({ id: created.body.id, name, kind: 'processor', gln: '4012345000108' });
      expect(await directory.organisation(created.body.id)).toEqual({ id: created.body.id, name, kind: 'processor', gln: '4012345000108' });
      for (const [gln, message] of [
        ['4012345000109', 'check digit'],
        ['401234500010', '13 digits'],
        ['40123450001080', '13 digits'],
        ['401234500010x', '13 digits'],
      ] as const) {
        const r = await admin.post('/v1/orgs', { name: `${name} ${gln}`, kind: 'processor', gln });
        expect({ gln, status: r.status, type: r.body.type, ct: r.headers.get('content-type') }).toEqual({ gln, status: 400, type: problem('gln'), ct: expect.stringMatching(/application\/problem\+json/) });
        expect(r.body.errors).toEqual([{ field: 'gln', message: expect.stringContaining(message) }]);
      }
      const notString = await admin.post('/v1/orgs', { name: `${name} n`, kind: 'processor', gln: 4012345000108 });
      expect([notString.status, notString.headers.get('content-type')]).toEqual([400, expect.stringMatching(/problem\+json/)]);
      const taken = await admin.post('/v1/orgs', { name: `${name} twin`, kind: 'distributor', gln: '4012345000108' });
      expect({ status: taken.status, type: taken.body.type, existingOrgId: taken.body.existingOrgId, ct: taken.headers.get('content-type') }).toEqual({
        status: 409,
        type: problem('organisation-gln-taken'),
        existingOrgId: created.body.id,
        ct: expect.stringMatching(/problem\+json/),
      });
      // Nothing was created by the refused ones; without a GLN an organisation answers as before (no gln field).
      expect(await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}gateway.organisations WHERE name LIKE $1`, [`${name}%`])).toEqual([{ n: 1 }]);
      const plain = await createOrg('processor');
      expect(Object.keys(plain).sort()).toEqual(['id', 'kind', 'name']);
    });

    it('is never changed once given (exported event hashes contain it): the database refuses an UPDATE', async () => {
      const created = await admin.post('/v1/orgs', { name: `Fixed ${Math.random().toString(36).slice(2, 8)}`, kind: 'producer', gln: '4012345000115' });
      expect(created.status).toBe(201);
      await expect(t.query(`UPDATE ${t.prefix}gateway.organisations SET gln = '4012345000122' WHERE id = $1`, [created.body.id])).rejects.toThrow(/never changed/);
      await expect(t.query(`UPDATE ${t.prefix}gateway.organisations SET gln = NULL WHERE id = $1`, [created.body.id])).rejects.toThrow(/never changed/);
      expect((await admin.get(`/v1/orgs/${created.body.id}`)).body.gln).toBe('4012345000115');
    });
  });

  describe('the Directory port, in process', () => {
    it('answers organisations and locations from the gateway tables to every module', async () => {
      const directory = t.app.get<Directory>(DIRECTORY);
      const org = await createOrg('pharmacy', 'Corner Pharmacy');
      const loc = (await t.as(org.id, 'operator').post('/v1/locations', { name: 'Shop', kind: 'pharmacy', gln: '9506000134352' })).body;
      expect(await directory.organisation(org.id)).toEqual({ id: org.id, name: 'Corner Pharmacy', kind: 'pharmacy' });
      expect(await directory.location(loc.id)).toEqual({
        id: loc.id,
        orgId: org.id,
        name: 'Shop',
        kind: 'pharmacy',
        region: null,
        address: null,
        gln: '9506000134352',
      });
      // Unknown or malformed ids are "not found", never a database error; the platform is nobody's partner.
      for (const id of ['5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d', 'farm-1', '', "'; DROP TABLE locations; --"]) {
        expect(await directory.location(id)).toBeUndefined();
        expect(await directory.organisation(id)).toBeUndefined();
      }
      expect(await directory.organisation('platform')).toBeUndefined();
    });
  });

  it('documents the endpoints in /docs-json, and not the internal ones', async () => {
    const docs = await t.anonymous.get('/docs-json');
    const paths = Object.keys(docs.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/auth/token', '/v1/orgs', '/v1/orgs/{id}', '/v1/orgs/{orgId}/clients', '/v1/locations', '/v1/locations/{id}']),
    );
    expect(paths.filter((p) => p.startsWith('/internal'))).toEqual([]);
    expect(docs.body.paths['/v1/auth/token'].post.responses).toHaveProperty('200');
    expect(docs.body.paths['/v1/orgs/{orgId}/clients'].post.responses).toHaveProperty('422');
    expect(docs.body.components.schemas.CreateLocationDto.properties.kind.enum).toContain('construction_site');
    // The party GLN: optional on creation, shown on the organisation, its 400 and 409 documented.
    const create = docs.body.components.schemas.CreateOrganisationDto;
    expect(create.properties.gln).toMatchObject({ type: 'string', example: '9506000134352', description: expect.stringContaining('never changed') });
    expect(create.required).not.toContain('gln');
    expect(docs.body.components.schemas.OrganisationDto.properties).toHaveProperty('gln');
    expect(docs.body.paths['/v1/orgs'].post.responses['400'].description).toContain('GLN');
    expect(docs.body.paths['/v1/orgs'].post.responses['409'].description).toContain('organisation-gln-taken');
  });
});
