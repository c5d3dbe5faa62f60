import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { eventually } from '@trace/testing';
import { anOrg, type TestOrg } from '../support/world';

const now = () => new Date().toISOString();

/** A trace a person can read: product, holder and location names, and the shipments of each batch. */
describe('trace answers with names and custody edges (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg;
  let P: TestOrg;
  let S: TestOrg;
  let tomatoes: { id: string };
  let sauce: { id: string };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Named Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Named Sauce Works', 'processor', ['factory']);
    S = await anOrg(t, 'Named Shop', 'retailer', ['store']);
    await aProduct(F.api, 'agri', '09506000134352', 'vegetable');
    await aProduct(P.api, 'food', '04012345000016', 'sauce');
    const ok = (r: { status: number; body: any }) => {
      if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const event = (o: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
      o.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: Object.values(o.locations)[0], ...body });
    tomatoes = ok(await F.api.post('/v1/agri/batches', aBatch('NAMED-TOM', F.locations.farm)));
    ok(
      await F.api.post(`/v1/agri/batches/${tomatoes.id}/certificate`, {
        commitments: ['no_banned_substances'], basis: 'self_test', contact: '13800138000', origin: 'Named Farm',
      }),
    );
    ok(await event(F, 'agri', tomatoes.id, { bizStep: 'shipping', toOrgId: P.id, quantity: { value: 400, unit: 'kg' } }));
    ok(await event(P, 'agri', tomatoes.id, { bizStep: 'receiving' }));
    sauce = ok(
      await P.api.post('/v1/food/batches', {
        ...aBatch('NAMED-SAUCE', P.locations.factory),
        gtin: '04012345000016',
        quantity: { value: 500, unit: 'jar' },
        inputs: [{ domain: 'agri', batchId: tomatoes.id, quantity: { value: 300, unit: 'kg' } }],
      }),
    );
    ok(await event(P, 'food', sauce.id, { bizStep: 'shipping', toOrgId: S.id }));
    ok(await event(S, 'food', sauce.id, { bizStep: 'receiving' }));
  });
  afterAll(async () => {
    await t?.close();
  });

  const traceOf = (api: Api) =>
    eventually(async () => {
      const r = await api.get(`/v1/trace/food/${sauce.id}?direction=upstream`);
      const shipments = r.status === 200 ? (r.body.edges as { kind: string }[]).filter((e) => e.kind === 'shipment') : [];
      const received = r.status === 200 && r.body.nodes.some((n: { holderOrgId: string }) => n.holderOrgId === S.id);
      return received && shipments.length >= 2 && r.body.nodes.length === 2 ? r.body : undefined;
    }, 20_000);

  it('a regulator sees product, holder and location names, and every shipment as a shipment edge', async () => {
    const trace = await traceOf(t.as('gov', 'regulator'));
    const node = (id: string) => trace.nodes.find((n: { batchId: string }) => n.batchId === id);
    expect(node(tomatoes.id)).toMatchObject({ productName: expect.any(String), holderName: 'Named Sauce Works', locationName: 'Named Sauce Works factory' });
    expect(node(sauce.id)).toMatchObject({ productName: expect.any(String), holderName: 'Named Shop', locationName: 'Named Shop store' });
    expect(trace.edges).toEqual(
      expect.arrayContaining([
        { from: tomatoes.id, to: sauce.id, kind: 'input' },
        expect.objectContaining({
          from: tomatoes.id, to: tomatoes.id, kind: 'shipment', batchId: tomatoes.id,
          fromOrgId: F.id, fromOrgName: 'Named Farm', toOrgId: P.id, toOrgName: 'Named Sauce Works',
          quantity: { value: 400, unit: 'kg' }, shippedAt: expect.any(String),
        }),
        expect.objectContaining({ kind: 'shipment', batchId: sauce.id, fromOrgName: 'Named Sauce Works', toOrgName: 'Named Shop' }),
      ]),
    );
  });

  it("an operator sees organisation names, only its own locations' names, and only the shipments it sent or received", async () => {
    const trace = await traceOf(P.api);
    expect(trace.nodes.map((n: { batchId: string; locationName: string | null }) => [n.batchId, n.locationName])).toEqual(
      expect.arrayContaining([
        [tomatoes.id, 'Named Sauce Works factory'],
        [sauce.id, null],
      ]),
    );
    const shop = await eventually(async () => {
      const r = await S.api.get(`/v1/trace/food/${sauce.id}?direction=upstream`);
      return r.status === 200 && r.body.nodes.length === 2 ? r.body : undefined;
    }, 20_000);
    expect(shop.nodes.map((n: { batchId: string; holderName: string; locationName: string | null }) => [n.batchId, n.holderName, n.locationName])).toEqual(
      expect.arrayContaining([
        [tomatoes.id, 'Named Sauce Works', null],
        [sauce.id, 'Named Shop', 'Named Shop store'],
      ]),
    );
    const shipments = shop.edges.filter((e: { kind: string }) => e.kind === 'shipment');
    expect(shipments).toEqual([expect.objectContaining({ batchId: sauce.id, fromOrgId: P.id, toOrgId: S.id })]);
  });
});
