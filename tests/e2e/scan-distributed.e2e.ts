import { Client } from 'pg';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct } from '../support/api';
import { gatewayHeardRecall } from '../support/scan';

/**
 * The scan cache in distributed mode: the gateway process answers from Redis
 * and learns of changes over Kafka (its inbox consumes trace.event, recall,
 * inspection and certificate topics), so a recall made in the recall service
 * and applied by the agri service shows on the gateway's very next scan.
 */
describe('consumer scan over Kafka and Redis (gateway, agri, lineage, recall processes)', () => {
  let d: DistributedDeployment | undefined;
  const sql = async <T>(text: string, params: unknown[]) => {
    const c = new Client({ connectionString: testDatabaseUrl() });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };

  afterAll(async () => {
    await d?.stop();
  });

  it('cached scan → recall → the next scan after the gateway hears of it shows the recall; the QR points at the gateway', async () => {
    d = await startDistributed(['agri', 'lineage', 'recall'], 'e2escan');
    const dep = d;
    const admin = dep.as('platform', 'admin');
    const farmOrg = (await admin.post('/v1/orgs', { name: 'Kafka Farm', kind: 'producer' })).body;
    const farm = dep.as(farmOrg.id, 'operator');
    const field = (await farm.post('/v1/locations', { name: 'Kafka Farm field', kind: 'farm' })).body.id;
    const regulator = dep.as((await admin.post('/v1/orgs', { name: 'Bureau', kind: 'regulator' })).body.id, 'regulator');
    await aProduct(farm, 'agri', '09506000134352', 'grain');
    const batch = (await farm.post('/v1/agri/batches', aBatch('KAFKA-1', field))).body;
    expect(batch.id).toBeDefined();

    const path = '/01/09506000134352/10/KAFKA-1';
    const scan = async () => {
      const r = await fetch(`${dep.gateway.url}${path}`, { headers: { accept: 'application/json' } });
      expect(r.status).toBe(200);
      return { cache: r.headers.get('x-cache'), body: (await r.json()) as any };
    };
    await scan();
    await scan();
    const cached = await scan();
    expect([cached.cache, cached.body.recall]).toEqual(['hit', { active: false }]);

    // Through the gateway's proxy to the agri process: the link is the gateway's.
    const qr = await fetch(`${dep.gateway.url}/v1/agri/batches/${batch.id}/qr?format=svg`, { headers: await farm.headers() });
    expect(qr.status).toBe(200);
    expect(qr.headers.get('x-digital-link')).toBe(`${dep.gateway.url}${path}`);

    // Lineage hears of the lot over Kafka; a consumer group that is still forming may take longer than the recall's own wait.
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${batch.id}`)).status === 200, 30_000);
    expect((await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: batch.id }], level: 1, reason: 'Ochratoxin A above the limit' })).status).toBe(201);
    await gatewayHeardRecall(sql, dep.prefix, batch.id);
    const next = await scan();
    expect([next.cache, next.body.recall]).toEqual(['miss', { active: true, level: 1, reason: 'Ochratoxin A above the limit' }]);
  });
});
