import { Client } from 'pg';
import { gs1CheckDigit } from '@trace/gs1';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment, type ServiceName } from '../support/distributed';
import { aBatch, aProduct, type Api } from '../support/api';

const now = () => new Date().toISOString();
const gtin = (base12: string) => `0${base12}${gs1CheckDigit(`0${base12}`)}`;

type Org = { id: string; api: Api; loc: string };
type Hook = (step: 'after-shipment' | 'after-transformation') => Promise<void>;

/**
 * The main journey in distributed mode, each service its own process (agri,
 * food, lineage and the gateway) over PostgreSQL, Redis and the Kafka-protocol
 * test broker, every call through the gateway:
 * agri batch → shipped by the farm, received by the processor (another
 * organisation) → food batch made from it (food takes the agri input from the
 * agri service) → trace across both services (lineage, fed over Kafka) →
 * public scan of the food lot.
 *
 * Then the same journey twice more with a domain service restarted in the
 * middle: agri with SIGTERM (graceful) and food with SIGKILL (a crash right
 * after its write). Nothing is lost: events committed just before the stop
 * reach lineage, and every outbox is empty afterwards.
 */
describe('distributed journey: batch → shipment → transformation → trace → scan', () => {
  let d: DistributedDeployment | undefined;
  const db = new Client({ connectionString: testDatabaseUrl() });

  beforeAll(async () => {
    await db.connect();
    d = await startDistributed(['agri', 'food', 'lineage'], 'e2ej');
  }, 180_000);
  afterAll(async () => {
    await db.end();
    await d?.stop();
  });

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };

  async function journey(run: string, hook: Hook = async () => undefined) {
    const dep = d as DistributedDeployment;
    const admin = dep.as('platform', 'admin');
    const org = async (name: string, kind: string, locationKind: string): Promise<Org> => {
      const id = ok<{ id: string }>(await admin.post('/v1/orgs', { name, kind })).id;
      const api = dep.as(id, 'operator');
      const loc = ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id;
      return { id, api, loc };
    };
    const farm = await org(`Farm ${run}`, 'producer', 'farm');
    const maker = await org(`Mill ${run}`, 'processor', 'factory');
    const regulator = dep.as(ok<{ id: string }>(await admin.post('/v1/orgs', { name: `Bureau ${run}`, kind: 'regulator' })).id, 'regulator');
    const digits = String(run.length * 1000 + run.charCodeAt(run.length - 1)).padStart(5, '0');
    const agriGtin = gtin(`9506${digits}001`);
    const foodGtin = gtin(`4012${digits}002`);
    await aProduct(farm.api, 'agri', agriGtin, 'grain');
    await aProduct(maker.api, 'food', foodGtin, 'flour');

    // Batch, then a shipment to another organisation, which receives it.
    const wheat = ok<{ id: string; lot: string }>(await farm.api.post('/v1/agri/batches', { ...aBatch(`WHEAT-${run}`, farm.loc), gtin: agriGtin }));
    ok(await farm.api.post(`/v1/agri/batches/${wheat.id}/events`, { bizStep: 'shipping', eventTime: now(), locationId: farm.loc, toOrgId: maker.id }));
    ok(await maker.api.post(`/v1/agri/batches/${wheat.id}/events`, { bizStep: 'receiving', eventTime: now(), locationId: maker.loc }));
    await hook('after-shipment');

    // Transformation across services: the food batch takes 300 kg of the agri lot.
    const flour = ok<{ id: string }>(
      await maker.api.post('/v1/food/batches', {
        ...aBatch(`FLOUR-${run}`, maker.loc),
        gtin: foodGtin,
        quantity: { value: 250, unit: 'kg' },
        inputs: [{ domain: 'agri', batchId: wheat.id, quantity: { value: 300, unit: 'kg' } }],
      }),
    );
    await hook('after-transformation');
    expect(ok(await maker.api.get(`/v1/agri/batches/${wheat.id}`), 200)).toMatchObject({ remaining: { value: 900, unit: 'kg' }, holdings: [{ orgId: maker.id, quantity: 900, inTransit: 0 }] });

    // Trace (lineage, fed over Kafka): the agri lot downstream reaches the food lot, held by the mill.
    const trace = await eventually(async () => {
      const r = await regulator.get(`/v1/trace/agri/${wheat.id}?direction=downstream`);
      const done =
        r.status === 200 &&
        r.body.nodes.some((n: any) => n.batchId === flour.id && n.lot === `FLOUR-${run}`) &&
        r.body.nodes.some((n: any) => n.batchId === wheat.id && n.holderOrgId === maker.id);
      return done ? r.body : undefined;
    }, 60_000);
    expect(trace.nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ domain: 'agri', batchId: wheat.id, lot: `WHEAT-${run}`, holderOrgId: maker.id }),
        expect.objectContaining({ domain: 'food', batchId: flour.id, lot: `FLOUR-${run}` }),
      ]),
    );
    expect(trace.edges).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'input' })]));
    const upstream = ok(await regulator.get(`/v1/trace/food/${flour.id}?direction=upstream`), 200);
    expect(upstream.nodes.map((n: any) => n.batchId)).toEqual(expect.arrayContaining([flour.id, wheat.id]));

    // The consumer's scan through the gateway: the food lot, made from the agri lot, chain intact.
    const scan = await dep.public.get(`/01/${foodGtin}/10/FLOUR-${run}`);
    expect(scan.status).toBe(200);
    expect(scan.body).toMatchObject({ batch: { domain: 'food', lot: `FLOUR-${run}` }, chain: { valid: true } });
    expect(scan.body.madeFrom).toEqual([expect.objectContaining({ domain: 'agri', lot: `WHEAT-${run}` })]);
    return { wheat, flour };
  }

  async function unsent(service: ServiceName): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM "${(d as DistributedDeployment).prefix}${service}".outbox WHERE sent_at IS NULL`);
    return rows[0].n;
  }

  it('runs the main journey through the gateway', async () => {
    await journey('J1');
    expect(await eventually(async () => ((await unsent('agri')) + (await unsent('food')) === 0 ? true : undefined), 30_000)).toBe(true);
  }, 180_000);

  it('loses nothing when agri is stopped (SIGTERM) mid-journey and started again', async () => {
    const dep = d as DistributedDeployment;
    await journey('J2', async (step) => {
      if (step !== 'after-shipment') return;
      // The receiving event was committed a moment ago; a graceful stop publishes it if the relay had not.
      const { down } = await dep.restart('agri', 'SIGTERM', async () => {
        expect(await unsent('agri')).toBe(0);
        // While agri is down the gateway answers 503 for it, and nothing else breaks.
        expect((await dep.as('someone', 'regulator').get('/v1/agri/batches/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d')).status).toBe(503);
      });
      expect(down.logs()).toContain('outbox flushed before shutdown');
    });
  }, 240_000);

  it('loses nothing when food crashes (SIGKILL) right after its write and is started again', async () => {
    const dep = d as DistributedDeployment;
    await journey('J3', async (step) => {
      if (step !== 'after-transformation') return;
      // No time to publish: the batch and transformation events may still sit in food's outbox.
      const { down } = await dep.restart('food', 'SIGKILL');
      expect(down.child.signalCode).toBe('SIGKILL');
    });
    // After the restart the relay drained what the crash left behind.
    expect(await eventually(async () => ((await unsent('food')) === 0 ? true : undefined), 30_000)).toBe(true);
  }, 240_000);
});
