import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** Setting up organisations as an admin does in the first hour: names that tell them apart, premises for them. */
describe('organisations and their locations, set up by an admin (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Setup Farm');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a second organisation of the same kind and name (409, naming the first); another kind may share it', async () => {
    const admin = t.as('platform', 'admin');
    const twin = await admin.post('/v1/orgs', { name: '  setup FARM ', kind: 'producer' });
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ type: 'https://problems.trace.dev/organisation-name-taken', existingOrgId: A.id });
    expect(twin.body.detail).toContain('"Setup Farm"');
    const shop = await admin.post('/v1/orgs', { name: 'Setup Farm', kind: 'retailer' });
    expect(shop.status).toBe(201);
    // Two admins at once: one organisation, one 409.
    const both = await Promise.all([1, 2].map(() => admin.post('/v1/orgs', { name: 'Race Mill', kind: 'processor' })));
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('finds a twin by an index on the compared name, not by reading every organisation', async () => {
    // Enough organisations, analysed, that reading them all would cost the planner more than the index.
    await t.query(
      `INSERT INTO "${t.prefix}gateway".organisations (id, name, kind) SELECT 'plan-' || n, 'Plan Farm ' || n, 'producer' FROM generate_series(1, 5000) n`,
    );
    await t.query(`ANALYZE "${t.prefix}gateway".organisations`);
    const [{ 'QUERY PLAN': plan }] = await t.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (FORMAT JSON) SELECT id, name, kind FROM "${t.prefix}gateway".organisations WHERE kind = $1 AND lower(btrim(name)) = lower($2) LIMIT 1`,
      ['producer', 'Plan Farm 17'],
    );
    expect(JSON.stringify(plan)).toContain('organisations_kind_name_idx');
    expect(JSON.stringify(plan)).not.toContain('Seq Scan');
    const admin = t.as('platform', 'admin');
    expect((await admin.post('/v1/orgs', { name: ' plan farm 17', kind: 'producer' })).body).toMatchObject({ existingOrgId: 'plan-17' });
  });

  it('lets an admin create a location for an organisation (orgId), and only an admin', async () => {
    const admin = t.as('platform', 'admin');
    const made = await admin.post('/v1/locations', { name: 'South field', kind: 'farm', orgId: A.id });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ orgId: A.id, name: 'South field', kind: 'farm' });
    // The organisation's operator sees and uses it as its own.
    expect((await A.api.get(`/v1/locations/${made.body.id}`)).body).toMatchObject({ orgId: A.id });

    const withoutOrg = await admin.post('/v1/locations', { name: 'Nowhere', kind: 'farm' });
    expect(withoutOrg.status).toBe(400);
    expect(withoutOrg.body.errors).toEqual([{ field: 'orgId', message: 'orgId is required when an admin creates a location' }]);
    expect((await admin.post('/v1/locations', { name: 'Ghost', kind: 'farm', orgId: 'no-such-org' })).status).toBe(422);
    expect((await admin.post('/v1/locations', { name: 'HQ', kind: 'warehouse', orgId: 'platform' })).status).toBe(422);

    const gln = await admin.post('/v1/locations', { name: 'Barn', kind: 'farm', orgId: A.id, gln: '9506000134353' });
    expect(gln.body.errors).toEqual([{ field: 'gln', message: 'GLN 9506000134353 has a wrong check digit: the last digit should be 2, not 3' }]);

    const other = await anOrg(t, 'Other Setup Farm');
    const foreign = await other.api.post('/v1/locations', { name: 'Not mine', kind: 'farm', orgId: A.id });
    expect(foreign.status).toBe(403);
    const own = await other.api.post('/v1/locations', { name: 'Mine', kind: 'farm', orgId: other.id });
    expect(own.status).toBe(201);
    expect((await t.as('gov', 'regulator').post('/v1/locations', { name: 'Office', kind: 'farm', orgId: A.id })).status).toBe(403);
  });
});
