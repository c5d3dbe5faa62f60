import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';
import { epcisDocument } from '../support/epcis';

const GRAIN = '09506000134352';
const byOrg = (a: { orgId: string }, b: { orgId: string }) => a.orgId.localeCompare(b.orgId);

/**
 * Captured shipping and receiving move holdings as the REST events do
 * (API.md "Quantities and custody"): a shipping ObjectEvent naming its
 * receiver (destinationList possessing_party/owning_party `urn:uuid:<org id>`)
 * sends the quantityList's quantity into transit to it, more than the
 * capturer holds is refused (insufficient-quantity), and the receiver's
 * captured receiving takes what is in transit (less records a shortage);
 * destroying, selling and void_shipping take and give back as the API does.
 */
describe('EPCIS capture moves holdings as the API does', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg, mill: TestOrg, bakery: TestOrg;
  let lot: { id: string };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Capture Farm', 'producer', ['farm']);
    mill = await anOrg(t, 'Capture Mill', 'processor', ['factory']);
    bakery = await anOrg(t, 'Capture Bakery', 'processor', ['factory']);
    await aProduct(farm.api, 'agri', GRAIN, 'grain');
    const r = await farm.api.post('/v1/agri/batches', { ...aBatch('CAP-HOLD-1', farm.locations.farm), quantity: { value: 1000, unit: 'kg' } });
    expect(r.status).toBe(201);
    lot = r.body;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });
  const observed = (bizStep: string, minute: number, kg: number | undefined, extra: Record<string, unknown> = {}) => ({
    type: 'ObjectEvent',
    action: 'OBSERVE',
    bizStep,
    eventTime: new Date(Date.UTC(2026, 10, 22, 1, minute)).toISOString(),
    eventTimeZoneOffset: '+00:00',
    quantityList: [{ epcClass: `https://id.gs1.org/01/${GRAIN}/10/CAP-HOLD-1`, ...(kg === undefined ? {} : { quantity: kg, uom: 'KGM' }) }],
    bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    ...extra,
  });
  const to = (org: TestOrg, type = 'possessing_party') => ({ destinationList: [{ type, destination: `urn:uuid:${org.id}` }] });
  const capture = async (org: TestOrg, body: unknown, mode?: 'rollback' | 'proceed') => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json', ...(mode ? { 'GS1-Capture-Error-Behaviour': mode } : {}) },
      body: JSON.stringify(body),
    });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    return eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const holdings = async (api: Api) => {
    const r = await api.get(`/v1/agri/batches/${lot.id}`);
    expect(r.status).toBe(200);
    return [...r.body.holdings].sort(byOrg);
  };
  const expected = (...h: { orgId: string; quantity: number; inTransit: number }[]) => h.sort(byOrg);

  it('ships part of a holding by capture, refuses more than held, the receiver receives it with a shortage; destroying, selling and void_shipping as over REST', async () => {
    expect(await capture(farm, epcisDocument([observed('shipping', 1, 300, to(mill))]))).toMatchObject({ success: true, errors: [] });
    expect(await holdings(farm.api)).toEqual(expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 0, inTransit: 300 }));
    // The same document again: the event is stored once, and moves nothing a second time.
    expect(await capture(farm, epcisDocument([observed('shipping', 1, 300, to(mill))]))).toMatchObject({ success: true, errors: [] });
    expect(await holdings(farm.api)).toEqual(expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 0, inTransit: 300 }));
    // In transit to the mill, as a REST shipment is (the list is lineage's projection of the announcement).
    const incoming = await eventually(async () => {
      const r = await mill.api.get('/v1/shipments/incoming');
      return r.status === 200 && r.body.items.length > 0 ? r.body.items : undefined;
    }, 20_000);
    expect(incoming).toEqual([expect.objectContaining({ domain: 'agri', batchId: lot.id, quantity: { value: 300, unit: 'kg' }, fromOrgId: farm.id })]);

    // More than the farm still holds: refused as over REST, nothing written.
    const refused = await capture(farm, epcisDocument([observed('shipping', 2, 800, to(bakery, 'owning_party'))]));
    expect(refused.success).toBe(false);
    expect(refused.errors).toEqual([expect.objectContaining({ eventIndex: 0, reason: expect.stringMatching(/holds 700 of this batch; 800 cannot be taken/) })]);
    expect(await holdings(farm.api)).toEqual(expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 0, inTransit: 300 }));

    // The mill receives 280 of the 300: 20 lost on the way; the chain records what was received and the shortage.
    expect(await capture(mill, epcisDocument([observed('receiving', 3, 280)]))).toMatchObject({ success: true, errors: [] });
    expect(await holdings(farm.api)).toEqual(expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 280, inTransit: 0 }));
    const chain = (await mill.api.get(`/v1/agri/batches/${lot.id}/events`)).body as any[];
    expect(chain.at(-1)).toMatchObject({ bizStep: 'receiving', quantity: { value: 280, unit: 'kg' }, shortage: { value: 20, unit: 'kg' } });
    await eventually(async () => ((await mill.api.get('/v1/shipments/incoming')).body.items.length === 0 ? true : undefined), 20_000);

    // The mill, a holder of part of the lot now, ships on over REST; the farm ships the rest of its part by capture without a quantity.
    expect((await mill.api.post(`/v1/agri/batches/${lot.id}/events`, {
      bizStep: 'shipping', eventTime: new Date().toISOString(), locationId: mill.locations.factory, toOrgId: bakery.id, quantity: { value: 100, unit: 'kg' },
    })).status).toBe(201);
    expect(await capture(farm, epcisDocument([observed('shipping', 4, undefined, to(bakery))]))).toMatchObject({ success: true, errors: [] });
    // The farm holds nothing any more (a holding of nothing is not listed).
    expect(await holdings(farm.api)).toEqual(expected({ orgId: mill.id, quantity: 180, inTransit: 0 }, { orgId: bakery.id, quantity: 0, inTransit: 800 }));
    // Mass balance: 180 held + 800 in transit + 20 lost = 1,000 produced.
    const [balance] = await t.query<{ accounted: string }>(
      `SELECT sum(quantity + in_transit + taken + lost)::text AS accounted FROM "${t.prefix}agri".batch_holdings WHERE batch_id = $1`,
      [lot.id],
    );
    expect(Number(balance.accounted)).toBe(1000);
    const [row] = await t.query<{ holder_org_id: string; pending_receiver_org_id: string | null }>(
      `SELECT holder_org_id, pending_receiver_org_id FROM "${t.prefix}agri".batches WHERE id = $1`,
      [lot.id],
    );
    expect(row).toEqual({ holder_org_id: mill.id, pending_receiver_org_id: bakery.id });

    // Taking steps take from the capturer's holding: the mill destroys 30 kg of its 180, and cannot sell 500.
    expect(await capture(mill, epcisDocument([observed('destroying', 5, 30, { disposition: 'destroyed' })]))).toMatchObject({ success: true, errors: [] });
    const sold = await capture(mill, epcisDocument([observed('retail_selling', 6, 500)]));
    expect(sold.errors).toEqual([expect.objectContaining({ eventIndex: 0, reason: expect.stringMatching(/holds 150 of this batch; 500 cannot be taken/) })]);
    // The farm voids its captured shipment to the bakery: its 700 kg come back, the mill's 100 stay on their way.
    expect(await capture(farm, epcisDocument([observed('void_shipping', 7, undefined, to(bakery))]))).toMatchObject({ success: true, errors: [] });
    expect(await holdings(farm.api)).toEqual(
      expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 150, inTransit: 0 }, { orgId: bakery.id, quantity: 0, inTransit: 100 }),
    );
    // A part destroyed leaves the rest of the batch as it was.
    expect((await farm.api.get(`/v1/agri/batches/${lot.id}`)).body.status).toBe('active');
  }, 120_000);

  it('refuses a captured receiving by an organisation nothing is in transit to, when the batch is in transit elsewhere', async () => {
    const stranger = await anOrg(t, 'Capture Stranger', 'processor', ['factory']);
    const job = await capture(stranger, epcisDocument([observed('receiving', 5, 10)]));
    expect(job.success).toBe(false);
    expect(job.errors).toEqual([expect.objectContaining({ eventIndex: 0 })]);
    expect((await holdings(farm.api)).map((h: any) => h.orgId)).not.toContain(stranger.id);
  }, 60_000);

  it('a document of several chunks (500 events each) on a batch registered before: what one chunk did to its holdings binds the next, refusals and duplicates included', async () => {
    const r = await farm.api.post('/v1/agri/batches', { ...aBatch('CAP-BIG-1', farm.locations.farm), quantity: { value: 1000, unit: 'kg' } });
    expect(r.status).toBe(201);
    const big = r.body as { id: string };
    const event = (bizStep: string, second: number, kg?: number, extra: Record<string, unknown> = {}) => ({
      type: 'ObjectEvent',
      action: 'OBSERVE',
      bizStep,
      eventTime: new Date(Date.UTC(2026, 10, 23, 0, 0, second)).toISOString(),
      eventTimeZoneOffset: '+00:00',
      quantityList: [{ epcClass: `https://id.gs1.org/01/${GRAIN}/10/CAP-BIG-1`, ...(kg === undefined ? {} : { quantity: kg, uom: 'KGM' }) }],
      bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
      ...extra,
    });
    // Stored before: the big document names it again in its third chunk.
    const earlier = event('storing', 5000);
    expect(await capture(farm, epcisDocument([earlier]), 'rollback')).toMatchObject({ success: true, errors: [] });
    // 1,300 events: storing throughout; in the second chunk a shipping of 300 to the mill; in the third, a
    // shipping of 800 to the bakery (700 are left: refused) and the event stored before (a duplicate).
    const events: unknown[] = [];
    for (let i = 0; i < 1300; i++) events.push(event('storing', i));
    events[700] = event('shipping', 700, 300, to(mill));
    events[1100] = event('shipping', 1100, 800, to(bakery));
    events[1200] = earlier;

    // All or nothing: the refusal in the third chunk is the document's only error, and nothing of it is stored.
    const refused = await capture(farm, epcisDocument(events), 'rollback');
    expect(refused.success).toBe(false);
    expect(refused.errors).toEqual([expect.objectContaining({ eventIndex: 1100, reason: expect.stringMatching(/holds 700 of this batch; 800 cannot be taken/) })]);
    expect((await farm.api.get(`/v1/agri/batches/${big.id}/verify`)).body).toMatchObject({ valid: true, length: 2 });

    // Each on its own: every other event is stored once, the duplicate is not stored again.
    const job = await capture(farm, epcisDocument(events), 'proceed');
    expect(job.errors).toEqual([expect.objectContaining({ eventIndex: 1100, reason: expect.stringMatching(/holds 700 of this batch; 800 cannot be taken/) })]);
    expect((await farm.api.get(`/v1/agri/batches/${big.id}/verify`)).body).toMatchObject({ valid: true, length: 2 + 1298 });
    const held = (await farm.api.get(`/v1/agri/batches/${big.id}`)).body.holdings as { orgId: string; quantity: number; inTransit: number }[];
    expect([...held].sort(byOrg)).toEqual(expected({ orgId: farm.id, quantity: 700, inTransit: 0 }, { orgId: mill.id, quantity: 0, inTransit: 300 }));
    const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 AND epcis_hash = (SELECT epcis_hash FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 AND seq = 2)`, [big.id]);
    expect(n).toBe(1);
  }, 180_000);

  it('several movements of one holding in one document: each sees the one before, their holdings written together add up', async () => {
    const row = async (orgId: string) =>
      (await t.query<{ quantity: string; in_transit: string; taken: string; lost: string }>(
        `SELECT quantity::text, in_transit::text, taken::text, lost::text FROM "${t.prefix}agri".batch_holdings WHERE batch_id = $1 AND org_id = $2`,
        [lot.id, orgId],
      ))[0];
    const farmBefore = await row(farm.id);
    const millBefore = await row(mill.id);
    // Ships 100 and 50 to the mill and destroys 20: one holding changed three times, one statement for it.
    const job = await capture(farm, epcisDocument([
      observed('shipping', 20, 100, to(mill)),
      observed('shipping', 21, 50, to(mill)),
      observed('destroying', 22, 20, { disposition: 'destroyed' }),
    ]));
    expect(job).toMatchObject({ success: true, errors: [] });
    const farmAfter = await row(farm.id);
    const millAfter = await row(mill.id);
    expect(Number(farmAfter.quantity)).toBe(Number(farmBefore.quantity) - 170);
    expect(Number(farmAfter.taken)).toBe(Number(farmBefore.taken) + 20);
    expect(Number(millAfter.in_transit)).toBe(Number(millBefore.in_transit) + 150);
    expect(await t.query(`SELECT quantity::int, outstanding::int FROM "${t.prefix}agri".batch_shipments WHERE batch_id = $1 AND to_org_id = $2 ORDER BY shipped_at DESC LIMIT 2`, [lot.id, mill.id]))
      .toEqual([{ quantity: 50, outstanding: 50 }, { quantity: 100, outstanding: 100 }]);
    const [balance] = await t.query<{ accounted: string }>(
      `SELECT sum(quantity + in_transit + taken + lost)::text AS accounted FROM "${t.prefix}agri".batch_holdings WHERE batch_id = $1`,
      [lot.id],
    );
    expect(Number(balance.accounted)).toBe(1000);
  }, 60_000);
});
