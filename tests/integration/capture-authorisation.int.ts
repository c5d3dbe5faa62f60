import { randomUUID } from 'node:crypto';
import { eventually } from '@trace/testing';
import { expectedHash, GENESIS_HASH } from '@trace/trace-chain';
import { aBatch, aProduct, type Api } from '../support/api';
import { fetchExport } from '../support/fsma';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';
import { epcisDocument } from '../support/epcis';

/**
 * Issue 13, item 2: EPCIS capture obeys the rules REST does. Each test is one
 * of the attacks of the "EPCIS capture as a way around authorisation".
 */
describe('EPCIS capture cannot get around authorisation', () => {
  let t: EmbeddedTestApp;
  let victim: TestOrg;
  let attacker: TestOrg;
  let regulator: Api;
  /** The victim's recalled agri lot and another of its lots, still active. */
  let recalled: { id: string; lot: string };
  let genuine: { id: string; lot: string };

  const VICTIM_GRAIN = '09506000134369';
  const ATTACKER_FOOD = '04012345000023';

  beforeAll(async () => {
    t = await startEmbeddedApp();
    victim = await anOrg(t, 'Honest Farm', 'producer', ['farm']);
    attacker = await anOrg(t, 'Sly Foods', 'processor', ['factory']);
    regulator = t.as('regulator-org', 'regulator');
    await aProduct(victim.api, 'agri', VICTIM_GRAIN, 'grain');
    await aProduct(attacker.api, 'food', ATTACKER_FOOD, 'flour');
    const lot = async (name: string) => {
      const r = await victim.api.post('/v1/agri/batches', { ...aBatch(name, victim.locations.farm), gtin: VICTIM_GRAIN });
      expect(r.status).toBe(201);
      return { id: r.body.id as string, lot: name };
    };
    recalled = await lot('V-RECALLED');
    genuine = await lot('V-GENUINE');
    const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: recalled.id }], level: 1, reason: 'Aflatoxin' });
    expect(recall.status).toBe(201);
    await eventually(async () => (await victim.api.get(`/v1/agri/batches/${recalled.id}`)).body.status === 'recalled', 20_000);
  });
  afterAll(async () => {
    await t?.close();
  });
  const commissioning = (gtin: string, lot: string, extra: Record<string, unknown> = {}) => ({
    type: 'ObjectEvent',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    eventTime: '2026-11-21T09:00:00.000+08:00',
    eventTimeZoneOffset: '+08:00',
    quantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/${lot}`, quantity: 100, uom: 'KGM' }],
    bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    ...extra,
  });
  const transformation = (inputs: { gtin: string; lot: string; kg: number }[], output: { gtin: string; lot: string; kg: number }) => ({
    type: 'TransformationEvent',
    bizStep: 'commissioning',
    eventTime: '2026-11-22T09:00:00.000+08:00',
    eventTimeZoneOffset: '+08:00',
    inputQuantityList: inputs.map((i) => ({ epcClass: `https://id.gs1.org/01/${i.gtin}/10/${i.lot}`, quantity: i.kg, uom: 'KGM' })),
    outputQuantityList: [{ epcClass: `https://id.gs1.org/01/${output.gtin}/10/${output.lot}`, quantity: output.kg, uom: 'KGM' }],
    bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
  });
  /** Captures as `org` (rollback unless told) and answers the finished job. */
  const capture = async (org: TestOrg, body: unknown, behaviour?: 'proceed' | 'rollback') => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json', ...(behaviour ? { 'GS1-Capture-Error-Behaviour': behaviour } : {}) },
      body: JSON.stringify(body),
    });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    return eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const foodBatch = async (lot: string) => (await t.query<{ id: string; status: string; quantity_value: string }>(`SELECT id, status, quantity_value FROM "${t.prefix}food".batches WHERE gtin = $1 AND lot = $2`, [ATTACKER_FOOD, lot]))[0];
  const edgesFrom = (domain: string, output: string) => t.query(`SELECT input_batch_id FROM "${t.prefix}${domain}".batch_inputs WHERE output_batch_id = $1`, [output]);

  it('shared batch id: an exported link\'s content.batchId never becomes the id of the batch it creates (ids are the system\'s)', async () => {
    const chosen = randomUUID();
    const eventId = randomUUID();
    const chained = (batchId: string, lot: string) =>
      commissioning(ATTACKER_FOOD, lot, {
        'trace:chain': {
          domain: 'food', gtin: ATTACKER_FOOD, lot, kind: 'lot', seq: 1, prevHash: '0'.repeat(64), hash: 'f'.repeat(64),
          content: { eventId, batchId, bizStep: 'commissioning' },
        },
      });
    // A fresh id the attacker picked, and the victim's own batch id.
    expect(await capture(attacker, epcisDocument([chained(chosen, 'SHARED-1'), chained(genuine.id, 'SHARED-2')]))).toMatchObject({ success: true });
    const one = await foodBatch('SHARED-1');
    const two = await foodBatch('SHARED-2');
    expect(one.id).not.toBe(chosen);
    expect(two.id).not.toBe(genuine.id);
    // Nor does a carried event id become the id of a stored event.
    expect(await t.query(`SELECT 1 FROM "${t.prefix}food".trace_events WHERE id = $1`, [eventId])).toEqual([]);
    // The victim's batch reads as the attacker's in no service: trace and FSMA export stay closed to it.
    expect((await attacker.api.get(`/v1/trace/agri/${genuine.id}`)).status).toBe(404);
    expect((await fetchExport(attacker.api, { gtin: VICTIM_GRAIN, lot: genuine.lot })).status).toBeGreaterThanOrEqual(400);
  });

  it('a recalled batch listed as an input (in a carried link\'s content) links nothing: no edge, no recall reaching across, no trace or FSMA read', async () => {
    // A well-formed (v1) link: its hash is right, so it is stored as it was, inputs and all.
    const content = {
      eventId: randomUUID(), batchId: randomUUID(), bizStep: 'commissioning', eventTime: '2026-11-21T01:00:00.000Z', orgId: attacker.id,
      quantity: { value: 100, unit: 'KGM' }, inputs: [{ domain: 'agri', batchId: recalled.id, quantity: { value: 1, unit: 'kg' } }],
    };
    const hash = expectedHash({ seq: 1, prevHash: GENESIS_HASH, content, version: 1 });
    const made = commissioning(ATTACKER_FOOD, 'BAIT-1', {
      'trace:chain': { domain: 'food', gtin: ATTACKER_FOOD, lot: 'BAIT-1', kind: 'lot', seq: 1, prevHash: GENESIS_HASH, hash, content },
    });
    expect(await capture(attacker, epcisDocument([made]))).toMatchObject({ success: true });
    const bait = await foodBatch('BAIT-1');
    // Stored as carried (the chain verifies as exported), but no edge to the victim's lot.
    expect((await attacker.api.get(`/v1/food/batches/${bait.id}/events`)).body.map((e: any) => e.hash)).toEqual([hash]);
    expect(await edgesFrom('food', bait.id)).toEqual([]);
    // Lineage has caught up with the bait once a batch made from it after it shows in its trace.
    const after = await attacker.api.post('/v1/food/batches', {
      ...aBatch('BAIT-CHILD', attacker.locations.factory), gtin: ATTACKER_FOOD, quantity: { value: 10, unit: 'kg' },
      // A captured batch counts in the UN/ECE code its event named.
      inputs: [{ domain: 'food', batchId: bait.id, quantity: { value: 10, unit: 'KGM' } }],
    });
    expect([after.status, after.body.detail]).toEqual([201, undefined]);
    const trace = await eventually(async () => {
      const r = await attacker.api.get(`/v1/trace/food/${bait.id}?direction=both`);
      return r.status === 200 && r.body.nodes.some((n: any) => n.batchId === after.body.id) ? r.body : undefined;
    }, 30_000);
    expect(trace.nodes.map((n: any) => n.batchId)).not.toContain(recalled.id);
    const sheet = await fetchExport(attacker.api, { gtin: ATTACKER_FOOD, lot: 'BAIT-1' });
    expect(sheet.status).toBe(200);
    expect(sheet.text).not.toContain('V-RECALLED');
    // Neither the bait nor the victim's other lot was drawn into the recall.
    expect((await attacker.api.get(`/v1/food/batches/${bait.id}`)).body.status).toBe('active');
    expect((await victim.api.get(`/v1/agri/batches/${genuine.id}`)).body.status).toBe('active');
  });

  it('a lot under another organisation\'s GTIN is refused, as a commissioning and as a transformation output', async () => {
    const job = await capture(attacker, epcisDocument([commissioning(VICTIM_GRAIN, 'SQUAT-1')]));
    expect(job.success).toBe(false);
    expect(JSON.stringify(job.errors)).toContain('belongs to another organisation');
    const mine = await attacker.api.post('/v1/food/batches', { ...aBatch('OWN-IN-1', attacker.locations.factory), gtin: ATTACKER_FOOD, quantity: { value: 100, unit: 'kg' } });
    expect(mine.status).toBe(201);
    const out = await capture(attacker, epcisDocument([transformation([{ gtin: ATTACKER_FOOD, lot: 'OWN-IN-1', kg: 10 }], { gtin: VICTIM_GRAIN, lot: 'SQUAT-2', kg: 10 })]));
    expect(out.success).toBe(false);
    expect(await t.query(`SELECT 1 FROM "${t.prefix}agri".batches WHERE lot IN ('SQUAT-1', 'SQUAT-2')`)).toEqual([]);
  });

  it.each(['proceed', 'rollback'] as const)('%s: an input the capturer does not hold refuses the whole event (no output, no edge to the other organisation\'s lot)', async (mode) => {
    const lot = `STOLEN-${mode}`;
    const theirs = await victim.api.post('/v1/agri/batches', { ...aBatch(`V-${mode}`, victim.locations.farm), gtin: VICTIM_GRAIN });
    expect(theirs.status).toBe(201);
    // A later event of the attacker's own (after the spanning one, which proceed tries in every domain first).
    const after = commissioning(ATTACKER_FOOD, `${lot}-AFTER`, { eventTime: '2026-11-23T09:00:00.000+08:00' });
    const job = await capture(attacker, epcisDocument([transformation([{ gtin: VICTIM_GRAIN, lot: `V-${mode}`, kg: 10 }], { gtin: ATTACKER_FOOD, lot, kg: 10 }), after]), mode);
    expect(job.success).toBe(false);
    expect(job.errors).toEqual([expect.objectContaining({ eventIndex: 0, reason: expect.stringContaining('another organisation') })]);
    expect(await foodBatch(lot)).toBeUndefined();
    expect([mode, (await foodBatch(`${lot}-AFTER`)) !== undefined]).toEqual([mode, mode === 'proceed']);
    expect(await t.query(`SELECT 1 FROM "${t.prefix}food".batch_inputs WHERE input_batch_id = $1`, [theirs.body.id])).toEqual([]);
    expect(await t.query(`SELECT 1 FROM "${t.prefix}agri".trace_events WHERE batch_id = $1 AND org_id = $2`, [theirs.body.id, attacker.id])).toEqual([]);
  });

  it('a captured transformation takes its inputs from the capturer\'s holding: more than it holds is a job error (insufficient-quantity)', async () => {
    const input = await attacker.api.post('/v1/food/batches', { ...aBatch('HELD-1', attacker.locations.factory), gtin: ATTACKER_FOOD, quantity: { value: 100, unit: 'kg' } });
    expect(input.status).toBe(201);
    expect(await capture(attacker, epcisDocument([transformation([{ gtin: ATTACKER_FOOD, lot: 'HELD-1', kg: 60 }], { gtin: ATTACKER_FOOD, lot: 'MIX-1', kg: 55 })]))).toMatchObject({ errors: [], success: true });
    const held = (await attacker.api.get(`/v1/food/batches/${input.body.id}`)).body;
    expect(held.remaining).toMatchObject({ value: 40, unit: 'kg' });
    expect(await t.query(`SELECT quantity::float8 AS q, taken::float8 AS taken FROM "${t.prefix}food".batch_holdings WHERE batch_id = $1 AND org_id = $2`, [input.body.id, attacker.id])).toEqual([{ q: 40, taken: 60 }]);
    const mix = await foodBatch('MIX-1');
    expect(await edgesFrom('food', mix.id)).toEqual([{ input_batch_id: input.body.id }]);

    for (const mode of ['rollback', 'proceed'] as const) {
      const again = await capture(attacker, epcisDocument([transformation([{ gtin: ATTACKER_FOOD, lot: 'HELD-1', kg: 60 }], { gtin: ATTACKER_FOOD, lot: `MIX-2-${mode}`, kg: 55 })]), mode);
      expect(again.success).toBe(false);
      expect(JSON.stringify(again.errors)).toContain('cannot be taken');
      expect(await foodBatch(`MIX-2-${mode}`)).toBeUndefined();
    }
    expect((await foodBatch('HELD-1')).quantity_value).toBe('40');
  });
  it('rollback across domains: refused by the domain with the most events (run first, untried), nothing is kept anywhere, no lot is claimed', async () => {
    const MILL_FLOUR = '04012345000030';
    const grain = '09506000134376';
    const mill = await anOrg(t, 'Careful Mill', 'processor', ['factory']);
    await aProduct(mill.api, 'agri', grain, 'grain');
    await aProduct(mill.api, 'food', MILL_FLOUR, 'flour');
    // Three agri events (the lead), one food event; the last agri event ships the victim's lot: not the mill's to move.
    const doc = epcisDocument([
      commissioning(grain, 'RB-A1'),
      commissioning(grain, 'RB-A2'),
      commissioning(MILL_FLOUR, 'RB-F1'),
      { ...commissioning(VICTIM_GRAIN, genuine.lot), action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit', quantityList: [{ epcClass: `https://id.gs1.org/01/${VICTIM_GRAIN}/10/${genuine.lot}` }] },
    ]);
    const job = await capture(mill, doc, 'rollback');
    expect([job.success, job.errors.map((e: any) => e.eventIndex)]).toEqual([false, [3]]);
    expect(job.errors[0].reason).toMatch(/^agri: /);
    for (const [domain, lot] of [['agri', 'RB-A1'], ['agri', 'RB-A2'], ['food', 'RB-F1']]) {
      expect([lot, await t.query(`SELECT id FROM "${t.prefix}${domain}".batches WHERE lot = $1`, [lot])]).toEqual([lot, []]);
    }
    expect(await t.query(`SELECT value FROM ${t.prefix}gateway.item_claims WHERE value = ANY($1)`, [['RB-A1', 'RB-A2', 'RB-F1']])).toEqual([]);
    // Without the refused event the same document is stored whole, and its lots are claimed.
    const good = await capture(mill, { ...doc, epcisBody: { eventList: (doc.epcisBody.eventList as unknown[]).slice(0, 3) } }, 'rollback');
    expect(good).toMatchObject({ success: true, errors: [] });
    expect((await t.query(`SELECT value, domain FROM ${t.prefix}gateway.item_claims WHERE value = ANY($1) ORDER BY value`, [['RB-A1', 'RB-A2', 'RB-F1']]))).toEqual([
      { value: 'RB-A1', domain: 'agri' },
      { value: 'RB-A2', domain: 'agri' },
      { value: 'RB-F1', domain: 'food' },
    ]);
  });
  it('batch release (drug vaccine) and the certificate (agri vegetable) apply to captured movements too', async () => {
    const VACCINE = '05012345678900';
    const VEG = '09506000134352';
    const vaccines = await anOrg(t, 'Vaccine Maker', 'processor', ['factory']);
    expect((await vaccines.api.post('/v1/drug/products', { gtin: VACCINE, name: 'Vaccine', category: 'vaccine', attributes: { drugProductCode: '8123456' } })).status).toBe(201);
    const vial = await vaccines.api.post('/v1/drug/batches', {
      ...aBatch('VAC-CAP-1', vaccines.locations.factory), gtin: VACCINE, quantity: { value: 100, unit: 'box' }, expiresAt: '2030-01-01T00:00:00+08:00',
    });
    expect(vial.status).toBe(201);
    await aProduct(victim.api, 'agri', VEG, 'vegetable');
    const greens = await victim.api.post('/v1/agri/batches', { ...aBatch('VEG-CAP-1', victim.locations.farm), gtin: VEG });
    expect(greens.status).toBe(201);
    const shipping = (gtin: string, lot: string, uom: string) => ({
      type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit',
      eventTime: '2026-11-23T09:00:00.000+08:00', eventTimeZoneOffset: '+08:00',
      quantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/${lot}`, quantity: 10, uom }],
      bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    });
    for (const mode of ['rollback', 'proceed'] as const) {
      const unreleased = await capture(vaccines, epcisDocument([shipping(VACCINE, 'VAC-CAP-1', 'BX')]), mode);
      expect([mode, unreleased.success, JSON.stringify(unreleased.errors)]).toEqual([mode, false, expect.stringContaining('batch release')]);
      const uncertified = await capture(victim, epcisDocument([shipping(VEG, 'VEG-CAP-1', 'KGM')]), mode);
      expect([mode, uncertified.success, JSON.stringify(uncertified.errors)]).toEqual([mode, false, expect.stringContaining('certificate')]);
    }
    const links = async (domain: string, id: string) => (await t.query(`SELECT biz_step FROM "${t.prefix}${domain}".trace_events WHERE batch_id = $1 ORDER BY seq`, [id])).map((r: any) => r.biz_step);
    expect(await links('drug', vial.body.id)).toEqual(['commissioning']);
    expect(await links('agri', greens.body.id)).toEqual(['commissioning']);
    // Released, the vaccine ships by capture as over REST.
    expect((await regulator.post(`/v1/drug/batches/${vial.body.id}/release`, { number: 'BR2026-CAP-1' })).status).toBe(201);
    expect(await capture(vaccines, epcisDocument([shipping(VACCINE, 'VAC-CAP-1', 'BX')]))).toMatchObject({ success: true, errors: [] });
    expect(await links('drug', vial.body.id)).toEqual(['commissioning', 'shipping']);
    // Certified, the vegetable lot ships by capture: the certificate is read with the chunk (eventFactsOfBatches),
    // for an event of the lot and for a lot the same document creates (nothing on record: refused).
    const certificate = { commitments: ['no_banned_substances'], basis: 'self_test', contact: '+86 138 0013 8000', origin: 'Shouguang, Shandong' };
    expect((await victim.api.post(`/v1/agri/batches/${greens.body.id}/certificate`, certificate)).status).toBe(201);
    const later = { ...shipping(VEG, 'VEG-CAP-1', 'KGM'), eventTime: '2026-11-24T09:00:00.000+08:00' };
    expect(await capture(victim, epcisDocument([shipping(VEG, 'VEG-CAP-1', 'KGM'), later]))).toMatchObject({ success: true, errors: [] });
    expect(await links('agri', greens.body.id)).toEqual(['commissioning', 'shipping', 'shipping']);
    const fresh = await capture(victim, epcisDocument([commissioning(VEG, 'VEG-CAP-2'), { ...shipping(VEG, 'VEG-CAP-2', 'KGM'), eventTime: '2026-11-25T09:00:00.000+08:00' }]));
    expect([fresh.success, JSON.stringify(fresh.errors)]).toEqual([false, expect.stringContaining('certificate')]);
  });
});
