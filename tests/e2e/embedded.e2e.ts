import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { eventually, freePort, ServiceProcess } from '@trace/testing';
import { aBatch, Api, counter } from '../support/api';

/**
 * `npm start` as a new user runs it: no DATABASE_URL, no Kafka, no Redis.
 * Real embedded PostgreSQL in a fresh data folder, every service in one
 * process. Then Ctrl-C, and a restart that must find the data again.
 */
describe('embedded mode (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trace-e2e-embedded-'));
  // As root, PostgreSQL runs as a user of its own, which must be able to enter this folder.
  chmodSync(dataDir, 0o755);
  const secret = 'e2e-embedded-secret-0123456789abcdef';
  let port: number;
  let pgPort: number;
  let proc: ServiceProcess | undefined;

  const start = () =>
    ServiceProcess.spawn(
      'embedded',
      'services/embedded/src/main.ts',
      { EMBEDDED_PG_DIR: join(dataDir, 'pg'), EMBEDDED_PG_PORT: String(pgPort), JWT_SECRET: secret },
      port,
    );

  beforeAll(async () => {
    port = await freePort();
    pgPort = await freePort();
  });

  afterAll(async () => {
    await proc?.stop('SIGKILL').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('becomes ready within 60 s, carries an event across services once, stops on Ctrl-C and keeps its data', async () => {
    proc = start();
    const readyMs = await proc.ready(60_000);
    expect(readyMs).toBeLessThan(60_000);

    const api = new Api(proc.url);
    const ready = await api.get('/health/ready');
    expect(ready.body).toMatchObject({
      status: 'ok',
      checks: { cache: { ok: true }, broker: { ok: true }, 'database:agri': { ok: true }, 'database:lineage': { ok: true } },
    });

    // The bootstrap admin's secret is printed once; it gets a token like any client.
    const admin = /bootstrap admin: clientId=(\S+) clientSecret=(\S+)/.exec(proc.logs());
    expect(admin).not.toBeNull();
    const token = await api.post('/v1/auth/token', { clientId: admin![1], clientSecret: admin![2] });
    expect(token.status).toBe(200);
    const adminApi = new Api(proc.url, token.body.accessToken);
    const org = (await adminApi.post('/v1/orgs', { name: 'Green Farm', kind: 'producer' })).body;
    const client = (await adminApi.post(`/v1/orgs/${org.id}/clients`, { role: 'operator' })).body;
    const opToken = await api.post('/v1/auth/token', { clientId: client.clientId, clientSecret: client.clientSecret });
    const operator = new Api(proc.url, opToken.body.accessToken);
    const farm = (await operator.post('/v1/locations', { name: 'North field', kind: 'farm' })).body;
    expect((await operator.post('/v1/agri/products', { gtin: '09506000134352', name: 'Tomatoes', category: 'vegetable' })).status).toBe(201);
    const created = await operator.post('/v1/agri/batches', aBatch('E2E-EMB-1', farm.id));
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // The agri service's event reaches the lineage service through outbox → relay → inbox.
    const trace = await eventually(async () => {
      const r = await operator.get(`/v1/trace/agri/${id}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(trace.nodes).toEqual([expect.objectContaining({ batchId: id, domain: 'agri', lot: 'E2E-EMB-1', holderOrgId: org.id })]);
    const metrics = (await api.get('/metrics')).body as string;
    expect(counter(metrics, 'events_consumed_total', { consumer: 'lineage', topic: 'trace.batch.v1', outcome: 'processed' })).toBe(1);
    expect(counter(metrics, 'events_published_total', { service: 'agri' })).toBe(1);
    // Where a relay pass spends its time, each step of the pass that sent the registration.
    for (const step of ['claim', 'publish', 'mark']) expect([step, counter(metrics, 'outbox_relay_step_seconds_count', { service: 'agri', step })]).toEqual([step, 1]);

    // Ctrl-C: the app closes, then PostgreSQL stops; nothing is left running.
    expect(await proc.stop('SIGINT')).toBe(0);
    expect(proc.logs()).toContain('"msg":"stopped"');
    expect(execSync(`ps -eo args`).toString()).not.toContain(join(dataDir, 'pg'));

    // Restart on the same folder: yesterday's batch is still there.
    proc = start();
    await proc.ready(60_000);
    const again = await new Api(proc.url).as(secret, org.id, 'operator').get(`/v1/agri/batches/${id}`);
    expect(proc.logs()).not.toContain('bootstrap admin:'); // printed once, on the first start only
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, lot: 'E2E-EMB-1', chainHead: created.body.chainHead });
    expect(await proc.stop('SIGTERM')).toBe(0);
  });
});
