import { randomUUID } from 'node:crypto';
import { SERVICE_CREDENTIAL_HEADER, ServiceCredentials, TokenService, type Principal } from '@trace/platform';
import { BatchRegistry } from '@trace/trace-service';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, TEST_JWT_SECRET, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * Issue 13, item 1: service-to-service routes are off the public surface.
 * Embedded: no /internal route exists over HTTP, whoever asks; the one way to
 * the input ledger is in-process, and restore there is only the compensation
 * of the consume it names. With INTERNAL_HTTP on (the distributed surface on
 * one process): a service credential, which no client token is, and the same
 * re-checks. tests/e2e/internal-routes.e2e.ts does the same over real processes.
 */
const AGRI_GTIN = '09506000134352';
const FLOUR_GTIN = '04012345000016';
const ok = (r: { status: number; body: any }, status = 201) => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

interface World {
  farm: { id: string; api: Api; loc: string };
  mill: { id: string; api: Api; loc: string };
  grain: { id: string; gtin: string; lot: string };
  registrationId: string;
  consume: { id: string; quantity: { value: number; unit: string }; output: { domain: string; batchId: string } };
}

/** Farm registers 1,200 kg of grain and ships it to the mill; the mill makes flour from 100 kg of it. */
async function aWorld(t: EmbeddedTestApp, tag: string): Promise<World> {
  const admin = t.as('platform', 'admin');
  const org = async (name: string, kind: string, locationKind: string) => {
    const id = ok(await admin.post('/v1/orgs', { name, kind })).id as string;
    const api = t.as(id, 'operator');
    const loc = ok(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id as string;
    return { id, api, loc };
  };
  const farm = await org(`Farm ${tag}`, 'producer', 'farm');
  const mill = await org(`Mill ${tag}`, 'processor', 'factory');
  await aProduct(farm.api, 'agri', AGRI_GTIN, 'grain');
  await aProduct(mill.api, 'food', FLOUR_GTIN, 'flour');
  const grain = ok(await farm.api.post('/v1/agri/batches', aBatch(`GRAIN-${tag}`, farm.loc)));
  const now = () => new Date().toISOString();
  ok(await farm.api.post(`/v1/agri/batches/${grain.id}/events`, { bizStep: 'shipping', eventTime: now(), locationId: farm.loc, toOrgId: mill.id }));
  ok(await mill.api.post(`/v1/agri/batches/${grain.id}/events`, { bizStep: 'receiving', eventTime: now(), locationId: mill.loc }));
  ok(
    await mill.api.post('/v1/food/batches', {
      ...aBatch(`FLOUR-${tag}`, mill.loc),
      gtin: FLOUR_GTIN,
      quantity: { value: 80, unit: 'kg' },
      inputs: [{ domain: 'agri', batchId: grain.id, quantity: { value: 100, unit: 'kg' } }],
    }),
  );
  const events = ok(await mill.api.get(`/v1/agri/batches/${grain.id}/events`), 200) as any[];
  const consume = events.find((e) => e.bizStep === 'transforming' && e.output);
  return { farm, mill, grain, registrationId: events[0].id, consume };
}

/** The batch's chain as its holder reads it: a restore, if it got through, is a new link giving quantity back. */
const chainOf = async (api: Api, id: string) => ok(await api.get(`/v1/agri/batches/${id}/events`), 200) as any[];
const restoredLinks = async (api: Api, id: string) => (await chainOf(api, id)).filter((e) => e.restored !== undefined);

describe('internal routes, embedded: in-process only', () => {
  let t: EmbeddedTestApp;
  let w: World;
  beforeAll(async () => {
    t = await startEmbeddedApp();
    w = await aWorld(t, 'EMB');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('restore over HTTP does not exist: a former holder cannot raise another organisation\'s batch', async () => {
    const before = (await chainOf(w.mill.api, w.grain.id)).length;
    const body = {
      batchId: w.grain.id,
      quantity: 999_999,
      unit: 'kg',
      outputRef: { domain: 'food', batchId: randomUUID() },
      correctionOf: w.registrationId,
      reason: 'attack',
    };
    for (const who of [w.farm.api, w.mill.api, t.as('platform', 'admin'), t.anonymous]) {
      const r = await who.post(`/internal/v1/agri/batches/${w.grain.id}/restore`, body);
      expect(r.status).toBe(404);
    }
    // Even a valid service credential finds nothing: embedded services call each other in-process.
    const service = await new ServiceCredentials(TEST_JWT_SECRET).header('food');
    const r = await fetch(`${t.url}/internal/v1/agri/batches/${w.grain.id}/restore`, {
      method: 'POST',
      headers: { ...service, ...(await w.farm.api.headers()), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(404);
    expect((await chainOf(w.mill.api, w.grain.id)).length).toBe(before);
    expect(await restoredLinks(w.mill.api, w.grain.id)).toEqual([]);
  });

  it('the internal public view answers nobody: no ids, owner or attributes without a token', async () => {
    const r = await t.anonymous.get(`/internal/v1/agri/public/${AGRI_GTIN}/${w.grain.lot}`);
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain(w.grain.id);
    expect(JSON.stringify(r.body)).not.toContain(w.farm.id);
    // Express routes are case-insensitive: another spelling reaches the same handler, and still finds nothing.
    expect((await t.anonymous.get(`/INTERNAL/v1/agri/public/${AGRI_GTIN}/${w.grain.lot}`)).status).toBe(404);
  });

  it('EPCIS resolve hands no operator the UUID of a batch', async () => {
    const r = await w.farm.api.post('/internal/v1/agri/epcis/resolve', { gtins: [AGRI_GTIN], objects: [{ gtin: AGRI_GTIN, lot: w.grain.lot }] });
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain(w.grain.id);
  });

  it('no other /internal route answers either', async () => {
    const roots = { roots: [{ domain: 'agri', batchId: w.grain.id }] };
    const regulator = t.as('regulator-org', 'regulator');
    for (const [method, path, body] of [
      ['POST', `/internal/v1/agri/batches/${w.grain.id}/consume`, { batchId: w.grain.id, quantity: 1, unit: 'kg', outputRef: { domain: 'food', batchId: randomUUID() } }],
      ['POST', '/internal/v1/agri/epcis/apply', { events: [], captureId: 'x', recordTime: new Date().toISOString() }],
      ['POST', '/internal/v1/agri/epcis/query', { limit: 10 }],
      ['POST', '/internal/v1/lineage/scope', roots],
      ['POST', '/internal/v1/lineage/scope/size', roots],
      ['GET', `/internal/v1/organisations/${w.farm.id}`, undefined],
      ['GET', `/internal/v1/locations/${w.farm.loc}`, undefined],
    ] as const) {
      for (const who of [w.farm.api, regulator, t.as('platform', 'admin')]) {
        expect({ path, status: (await who.request(method, path, body)).status }).toEqual({ path, status: 404 });
      }
    }
  });

  it('in-process, restore is only the compensation of the consume it names: once, by its consumer, for what it took', async () => {
    const ledger = t.app.get(BatchRegistry).ledger('agri', undefined);
    const farm: Principal = { clientId: 'farm', orgId: w.farm.id, role: 'operator' };
    const mill: Principal = { clientId: 'mill', orgId: w.mill.id, role: 'operator' };
    const start = (await chainOf(w.mill.api, w.grain.id)).length;
    const restore = (who: Principal, over: Partial<Parameters<typeof ledger.restore>[0]> = {}) =>
      ledger.restore(
        {
          batchId: w.grain.id,
          quantity: w.consume.quantity.value,
          unit: w.consume.quantity.unit,
          outputRef: w.consume.output,
          correctionOf: w.consume.id,
          reason: 'test',
          ...over,
        },
        who,
      );
    // Not a consume (the registration), another organisation, more than was taken, another output.
    await expect(restore(mill, { correctionOf: w.registrationId })).rejects.toMatchObject({ status: 422, rule: 'not-a-consume' });
    await expect(restore(farm)).rejects.toMatchObject({ status: 403, rule: 'not-the-consumer' });
    await expect(restore(mill, { quantity: 1_000_000 })).rejects.toMatchObject({ status: 422, rule: 'compensation-mismatch' });
    await expect(restore(mill, { outputRef: { domain: 'food', batchId: randomUUID() } })).rejects.toMatchObject({ rule: 'compensation-mismatch' });
    expect((await chainOf(w.mill.api, w.grain.id)).length).toBe(start);

    // A transformation that failed after taking its input: given back once, and only once.
    const failed = { domain: 'agri', batchId: randomUUID() };
    const taken = await ledger.consume({ batchId: w.grain.id, quantity: 50, unit: 'kg', outputRef: failed }, mill);
    await restore(mill, { quantity: 50, outputRef: failed, correctionOf: taken.eventId });
    expect(await restoredLinks(w.mill.api, w.grain.id)).toEqual([expect.objectContaining({ correctionOf: taken.eventId, restored: { value: 50, unit: 'kg' } })]);
    await expect(restore(mill, { quantity: 50, outputRef: failed, correctionOf: taken.eventId })).rejects.toMatchObject({ status: 409, rule: 'already-restored' });
    expect((await chainOf(w.mill.api, w.grain.id)).length).toBe(start + 2);
  });
});

describe('internal routes over HTTP (INTERNAL_HTTP, as in distributed mode): a service credential, never a client token', () => {
  let t: EmbeddedTestApp;
  let w: World;
  beforeAll(async () => {
    t = await startEmbeddedApp({ INTERNAL_HTTP: 'true' });
    w = await aWorld(t, 'HTTP');
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('operator, admin and forged tokens are refused on every attack route; the batch is unchanged', async () => {
    const before = (await chainOf(w.mill.api, w.grain.id)).length;
    const restoreBody = { batchId: w.grain.id, quantity: 999_999, unit: 'kg', outputRef: w.consume.output, correctionOf: w.registrationId, reason: 'attack' };
    const farmToken = (await w.farm.api.headers()).authorization;
    const adminToken = (await t.as('platform', 'admin').headers()).authorization;
    // A service-looking token signed with the client-token secret.
    const forged = `Bearer ${(await new TokenService(TEST_JWT_SECRET).sign({ clientId: 'service:food', orgId: 'platform', role: 'admin' })).token}`;
    const attempts: [string, unknown][] = [
      [`/internal/v1/agri/batches/${w.grain.id}/restore`, restoreBody],
      [`/internal/v1/agri/public/${AGRI_GTIN}/${w.grain.lot}`, undefined],
      ['/internal/v1/agri/epcis/resolve', { gtins: [AGRI_GTIN], objects: [{ gtin: AGRI_GTIN, lot: w.grain.lot }] }],
    ];
    for (const [path, body] of attempts) {
      for (const headers of [{}, { authorization: farmToken }, { authorization: adminToken }, { [SERVICE_CREDENTIAL_HEADER]: farmToken }, { [SERVICE_CREDENTIAL_HEADER]: forged }]) {
        const r = await call(path, headers as Record<string, string>, body);
        const text = await r.text();
        expect({ path, status: r.status }).toEqual({ path, status: 403 });
        expect(text).not.toContain(w.farm.id);
        if (!path.includes(w.grain.id)) expect(text).not.toContain(w.grain.id);
      }
    }
    expect((await chainOf(w.mill.api, w.grain.id)).length).toBe(before);
    expect(await restoredLinks(w.mill.api, w.grain.id)).toEqual([]);
  });

  it('with a service credential, restore still re-checks: a former holder, a non-consume or an inflated quantity is refused', async () => {
    const service = await new ServiceCredentials(TEST_JWT_SECRET).header('food');
    const before = (await chainOf(w.mill.api, w.grain.id)).length;
    const path = `/internal/v1/agri/batches/${w.grain.id}/restore`;
    const base = { batchId: w.grain.id, quantity: w.consume.quantity.value, unit: 'kg', outputRef: w.consume.output, correctionOf: w.consume.id, reason: 'x' };
    const asFarm = await call(path, { ...service, ...(await w.farm.api.headers()) }, base);
    expect(asFarm.status).toBe(403);
    const notConsume = await call(path, { ...service, ...(await w.mill.api.headers()) }, { ...base, correctionOf: w.registrationId });
    expect(notConsume.status).toBe(422);
    const inflated = await call(path, { ...service, ...(await w.mill.api.headers()) }, { ...base, quantity: 999_999 });
    expect(inflated.status).toBe(422);
    expect((await chainOf(w.mill.api, w.grain.id)).length).toBe(before);
    // The scan's own view answers the service (the gateway strips ids before a consumer sees it).
    const view = await call(`/internal/v1/agri/public/${AGRI_GTIN}/${w.grain.lot}`, service);
    expect(view.status).toBe(200);
  });
});
