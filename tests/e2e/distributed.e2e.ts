import { eventually, freePort, ServiceProcess, testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct, Api } from '../support/api';

/**
 * Distributed mode: each app its own process, Kafka between them (the CI
 * broker from KAFKA_BROKERS, or a private Kafka-protocol mock cluster),
 * Redis for the cache, the gateway in front.
 */
describe('distributed mode (one process per service, over Kafka)', () => {
  let d: DistributedDeployment | undefined;

  afterAll(async () => {
    await d?.stop();
  });

  it('routes through the gateway and carries agri events to lineage over Kafka', async () => {
    d = await startDistributed(['agri', 'food', 'lineage'], 'e2e');
    const { gateway, secret } = d;
    const agri = d.services.agri as ServiceProcess;
    const lineage = d.services.lineage as ServiceProcess;

    for (const p of [agri, lineage]) {
      const health = await new Api(p.url).get('/health/ready');
      expect(health.body.checks).toMatchObject({
        broker: { ok: true },
        cache: { ok: true, detail: 'redis' },
        [`database:${p.name}`]: { ok: true },
      });
    }

    const admin = new Api(gateway.url).as(secret, 'platform', 'admin');
    const org = (await admin.post('/v1/orgs', { name: 'Green Farm', kind: 'producer' })).body;
    const api = new Api(gateway.url).as(secret, org.id, 'operator');
    const farm = (await api.post('/v1/locations', { name: 'North field', kind: 'farm' })).body;
    await aProduct(api);
    // The agri service checks the location with the gateway (IDENTITY_URL): an unknown one is refused.
    const unknownPlace = await api.post('/v1/agri/batches', aBatch('E2E-DIST-0', '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d'));
    expect([unknownPlace.status, unknownPlace.body.type]).toEqual([422, 'https://problems.trace.dev/unknown-location']);
    const created = await api.post('/v1/agri/batches', aBatch('E2E-DIST-1', farm.id));
    expect(created.status).toBe(201);
    expect(created.headers.get('x-correlation-id')).toBeTruthy();
    const id = created.body.id as string;

    const trace = await eventually(async () => {
      const r = await api.get(`/v1/trace/agri/${id}`);
      return r.status === 200 ? r.body : undefined;
    }, 60_000);
    expect(trace.nodes).toEqual([expect.objectContaining({ batchId: id, lot: 'E2E-DIST-1' })]);

    // Bad input through the gateway is still a 4xx problem+json from the owning service.
    const bad = await api.post('/v1/agri/batches', { ...aBatch('E2E-DIST-2', farm.id), gtin: '09506000134353' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');

    // A food batch made from the agri lot: food takes the input from the agri service over HTTP.
    const factory = (await api.post('/v1/locations', { name: 'Kitchen', kind: 'factory' })).body;
    await aProduct(api, 'food', '04012345000016', 'sauce');
    const sauce = await api.post('/v1/food/batches', {
      ...aBatch('E2E-SAUCE', factory.id),
      gtin: '04012345000016',
      inputs: [{ domain: 'agri', batchId: id, quantity: { value: 200, unit: 'kg' } }],
    });
    expect(sauce.status).toBe(201);
    expect((await api.get(`/v1/agri/batches/${id}`)).body).toMatchObject({ quantity: { value: 1200, unit: 'kg' }, remaining: { value: 1000, unit: 'kg' } });
    const tooMuch = await api.post('/v1/food/batches', {
      ...aBatch('E2E-SAUCE-2', factory.id),
      gtin: '04012345000016',
      inputs: [{ domain: 'agri', batchId: id, quantity: { value: 5000, unit: 'kg' } }],
    });
    expect([tooMuch.status, tooMuch.body.type]).toEqual([409, 'https://problems.trace.dev/insufficient-quantity']);

    // The public scan through the gateway finds the food lot and the agri lot it was made from.
    const scan = await new Api(gateway.url).get('/01/04012345000016/10/E2E-SAUCE');
    expect(scan.status).toBe(200);
    expect(scan.body).toMatchObject({ batch: { domain: 'food', lot: 'E2E-SAUCE' }, chain: { valid: true } });
    expect(scan.body.madeFrom).toEqual([expect.objectContaining({ domain: 'agri', lot: 'E2E-DIST-1' })]);

    // A service that is down is a clear 503, not a hang or a crash of the gateway.
    const down = await api.get('/v1/drug/batches/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
    expect(down.status).toBe(503);
  });

  it('refuses to start with missing configuration, naming what is missing', async () => {
    const p = ServiceProcess.spawn('agri', 'services/agri/src/main.ts', { KAFKA_IDEMPOTENT: 'maybe' }, await freePort());
    expect(await p.exitCode(30_000)).toBe(78);
    const logs = p.logs();
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'REDIS_URL', 'JWT_SECRET', 'KAFKA_IDEMPOTENT']) expect(logs).toContain(name);
    const noIdentity = ServiceProcess.spawn(
      'agri',
      'services/agri/src/main.ts',
      { DATABASE_URL: testDatabaseUrl(), KAFKA_BROKERS: '127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:6379', JWT_SECRET: 'a-valid-secret-of-more-than-32-characters' },
      await freePort(),
    );
    expect(await noIdentity.exitCode(30_000)).toBe(78);
    expect(noIdentity.logs()).toContain('IDENTITY_URL is required by agri');
    // The recall service cannot start a recall without lineage: LINEAGE_URL missing fails at start, not at the first recall.
    const noLineage = ServiceProcess.spawn(
      'recall',
      'services/recall/src/main.ts',
      { DATABASE_URL: testDatabaseUrl(), KAFKA_BROKERS: '127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:6379', JWT_SECRET: 'a-valid-secret-of-more-than-32-characters' },
      await freePort(),
    );
    expect(await noLineage.exitCode(30_000)).toBe(78);
    expect(noLineage.logs()).toContain('LINEAGE_URL is required by recall');
  });
});
