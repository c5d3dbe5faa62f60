import { randomUUID } from 'node:crypto';
import { decodeEnvelope } from '@trace/contracts';
import { DomainError, HttpLineageScope, scopeBatches, ServiceCredentials } from '@trace/platform';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, TEST_JWT_SECRET, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';
const HOUR = 3_600_000;
const now = () => new Date().toISOString();

/**
 * Recalls (DOMAIN.md §7) through the public API of the embedded app: the
 * regulator recalls an agri lot, the scope reaches the food batch made from it
 * (lineage), every batch in scope turns `recalled` in its own service (event
 * backbone → domain inbox → chain event), cannot ship, and the organisations
 * holding them acknowledge what they recovered.
 */
describe('recalls: scope from lineage, recalled batches in every domain, acknowledgements', () => {
  let t: EmbeddedTestApp;
  let F: TestOrg; // farm
  let P: TestOrg; // food processor
  let R: TestOrg; // retailer
  let X: TestOrg; // unrelated operator
  let regulator: Api;
  let inspector: Api;
  let regulatorOrgId: string;

  beforeAll(async () => {
    // INTERNAL_HTTP: the lineage scope over HTTP, as the recall service asks for it in distributed mode.
    t = await startEmbeddedApp({ INTERNAL_HTTP: 'true' });
    F = await anOrg(t, 'Grain Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Noodle Works', 'processor', ['factory']);
    R = await anOrg(t, 'Corner Shop', 'retailer', ['store']);
    X = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    const authority = await anOrg(t, 'Market Supervision Bureau', 'regulator', []);
    const agency = await anOrg(t, 'Provincial Inspection Centre', 'inspection_agency', []);
    regulatorOrgId = authority.id;
    regulator = t.as(authority.id, 'regulator');
    inspector = t.as(agency.id, 'inspector');
    // grain ships without a certificate.
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P.api, 'food', FOOD_GTIN, 'noodles');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const event = (org: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
    org.api.post(`/v1/${domain}/batches/${id}/events`, {
      eventTime: now(),
      locationId: org.locations.farm ?? org.locations.factory ?? org.locations.store,
      ...body,
    });
  const move = async (from: TestOrg, to: TestOrg, domain: string, id: string) => {
    ok(await event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id }));
    ok(await event(to, domain, id, { bizStep: 'receiving' }));
  };
  const agriLot = async (lot: string) => ok(await F.api.post('/v1/agri/batches', aBatch(lot, F.locations.farm)));
  /** An agri lot at the processor, a food batch made from it, shipped to the shop. */
  const supplyChain = async (tag: string) => {
    const grain = await agriLot(`WHEAT-${tag}`);
    await move(F, P, 'agri', grain.id);
    const noodles = ok(
      await P.api.post('/v1/food/batches', {
        ...aBatch(`NOODLE-${tag}`, P.locations.factory),
        gtin: FOOD_GTIN,
        quantity: { value: 500, unit: 'pack' },
        inputs: [{ domain: 'agri', batchId: grain.id, quantity: { value: 300, unit: 'kg' } }],
      }),
    );
    await move(P, R, 'food', noodles.id);
    // Lineage follows the events: wait until it sees the food batch downstream of the grain, held by the shop.
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${grain.id}?direction=downstream`);
      return tr.status === 200 && tr.body.nodes.some((n: { batchId: string; holderOrgId: string }) => n.batchId === noodles.id && n.holderOrgId === R.id);
    }, 20_000);
    return { grain, noodles };
  };
  const status = async (domain: string, id: string, as: Api = regulator) => (await as.get(`/v1/${domain}/batches/${id}`)).body.status;

  it('recalls an agri lot: the food batch made from it joins the scope, both turn recalled and cannot ship', async () => {
    const { grain, noodles } = await supplyChain('1');
    const bystander = await agriLot('WHEAT-BYSTANDER');

    const created = await regulator.post('/v1/recalls', {
      batches: [{ domain: 'agri', batchId: grain.id }],
      level: 1,
      reason: 'Deoxynivalenol above the limit',
      hazard: 'Vomiting, gastro-intestinal illness',
    });
    expect(created.status).toBe(201);
    const recall = created.body;
    expect(recall).toMatchObject({ id: expect.any(String), status: 'active', level: 1 });
    const scoped = recall.scope.batches.map((b: { batchId: string }) => b.batchId);
    expect(scoped).toEqual([grain.id, noodles.id]);
    expect(scoped).not.toContain(bystander.id);
    expect(recall.scope.batches).toEqual([
      // What each holds when the recall begins (the grain gave 300 kg to the noodles), and where it was received.
      { domain: 'agri', batchId: grain.id, gtin: AGRI_GTIN, lot: 'WHEAT-1', holderOrgId: P.id, quantity: { value: 900, unit: 'kg' }, locationId: P.locations.factory, root: true, addedAt: recall.createdAt },
      { domain: 'food', batchId: noodles.id, gtin: FOOD_GTIN, lot: 'NOODLE-1', holderOrgId: R.id, quantity: { value: 500, unit: 'pack' }, locationId: R.locations.store, root: false, addedAt: recall.createdAt },
    ]);
    expect(recall.scope.organisations.sort()).toEqual([P.id, R.id].sort());
    // Level 1: start within 24 h; complete by 24:00 Shanghai time of the 10th working day (at least two weekends later).
    const startBy = Date.parse(recall.deadlines.startBy);
    const completeBy = new Date(recall.deadlines.completeBy);
    expect(startBy - Date.now()).toBeGreaterThan(23 * HOUR);
    expect(startBy - Date.now()).toBeLessThanOrEqual(24 * HOUR);
    expect(completeBy.toISOString()).toMatch(/T16:00:00\.000Z$/);
    expect(Math.round((completeBy.getTime() - Date.now()) / (24 * HOUR))).toBeGreaterThanOrEqual(12);
    expect([0, 6]).not.toContain(new Date(completeBy.getTime() - HOUR).getUTCDay());

    // One recallInitiated per domain (and chunk), carrying that domain's batches, out of the recall service's outbox.
    const out = await t.query(`SELECT message_key, payload FROM ${t.prefix}recall.outbox ORDER BY id`);
    const initiated = out
      .map((r) => ({ key: r.message_key, env: decodeEnvelope(r.payload) }))
      .filter((e) => e.env.payload.case === 'recallInitiated' && (e.env.payload.value as { recallId: string }).recallId === recall.id);
    expect(initiated.map((e) => e.key)).toEqual([`${recall.id}/agri/1`, `${recall.id}/food/2`]);
    expect(initiated.map((e) => (e.env.payload.value as { items: { batch: { batchId: string } }[] }).items.map((i) => i.batch.batchId))).toEqual([
      [grain.id],
      [noodles.id],
    ]);

    // Within seconds both read recalled in their own services...
    await eventually(async () => (await status('agri', grain.id)) === 'recalled' && (await status('food', noodles.id)) === 'recalled', 20_000);
    expect(await status('agri', bystander.id)).toBe('active');
    // ...and cannot move on.
    const shipGrain = await event(P, 'agri', grain.id, { bizStep: 'shipping', toOrgId: R.id });
    expect([shipGrain.status, shipGrain.body.type]).toEqual([409, problem('batch-recalled')]);
    const shipNoodles = await event(R, 'food', noodles.id, { bizStep: 'shipping', toOrgId: X.id });
    expect([shipNoodles.status, shipNoodles.body.type]).toEqual([409, problem('batch-recalled')]);

    // The chain shows the recall, signed by the regulator, and still verifies.
    for (const [domain, id] of [['agri', grain.id], ['food', noodles.id]]) {
      const chain = ok<any[]>(await regulator.get(`/v1/${domain}/batches/${id}/events`), 200);
      expect(chain.at(-1)).toMatchObject({ bizStep: 'holding', disposition: 'recalled', recallId: recall.id, level: 1, reason: 'Deoxynivalenol above the limit' });
      expect(chain.filter((e) => e.disposition === 'recalled')).toHaveLength(1);
      expect(ok(await regulator.get(`/v1/${domain}/batches/${id}/verify`), 200)).toMatchObject({ valid: true });
    }
    // The consumer scan shows the recall, with its level and reason.
    const scanned = await fetch(`${t.url}/01/${FOOD_GTIN}/10/NOODLE-1`, { headers: { accept: 'application/json' } });
    expect(scanned.status).toBe(200);
    expect(((await scanned.json()) as any).recall).toEqual({ active: true, level: 1, reason: 'Deoxynivalenol above the limit' });
    const unaffected = await fetch(`${t.url}/01/${AGRI_GTIN}/10/WHEAT-BYSTANDER`, { headers: { accept: 'application/json' } });
    expect(((await unaffected.json()) as any).recall).toEqual({ active: false });

    // Lineage follows: the trace shows them recalled.
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${grain.id}?direction=downstream`);
      return tr.body.nodes?.every((n: { status: string }) => n.status === 'recalled');
    });

    // A second recall of the same lot, or of a batch in its scope, is refused: it is under this one.
    for (const batch of [{ domain: 'agri', batchId: grain.id }, { domain: 'food', batchId: noodles.id }]) {
      const again = await regulator.post('/v1/recalls', { batches: [batch], level: 2, reason: 'again' });
      expect([again.status, again.body.type, again.body.recallId]).toEqual([409, problem('already-recalled'), recall.id]);
    }
    const chain = ok<any[]>(await regulator.get(`/v1/agri/batches/${grain.id}/events`), 200);
    expect(chain.filter((e) => e.disposition === 'recalled')).toHaveLength(1);
  });

  it('collects acknowledgements, reports effectiveness and progress, and closes', async () => {
    const { grain, noodles } = await supplyChain('2');
    const recall = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'food', batchId: noodles.id }, { domain: 'agri', batchId: grain.id }], level: 3, reason: 'Undeclared allergen' }));
    expect(recall.scope.batches.map((b: { batchId: string }) => b.batchId).sort()).toEqual([grain.id, noodles.id].sort());
    const path = `/v1/recalls/${recall.id}`;

    const fresh = ok(await regulator.get(path), 200);
    expect(fresh).toMatchObject({ id: recall.id, status: 'active', level: 3, acknowledgements: [], effectiveness: 0 });
    expect(fresh.organisations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ orgId: P.id, batches: [grain.id], acknowledged: false, overdueStart: false, overdueCompletion: false }),
        expect.objectContaining({ orgId: R.id, batches: [noodles.id], acknowledged: false }),
      ]),
    );

    // Refused: an org outside the scope, a batch held by another org, a batch outside the scope, bad numbers.
    const outsider = await X.api.post(`${path}/acknowledgements`, { batchId: noodles.id, recovered: 1, destroyed: 0, sold: 0 });
    expect([outsider.status, outsider.body.type]).toEqual([403, problem('not-in-scope')]);
    const notHolder = await P.api.post(`${path}/acknowledgements`, { batchId: noodles.id, recovered: 1, destroyed: 0, sold: 0 });
    expect([notHolder.status, notHolder.body.type]).toEqual([403, problem('not-the-holder')]);
    const notInScope = await P.api.post(`${path}/acknowledgements`, { batchId: randomUUID(), recovered: 1, destroyed: 0, sold: 0 });
    expect([notInScope.status, notInScope.body.type]).toEqual([422, problem('batch-not-in-scope')]);
    expect((await P.api.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: -1, destroyed: 0, sold: 0 })).status).toBe(400);
    expect((await P.api.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: '1', destroyed: 0, sold: 0 })).status).toBe(400);
    expect((await P.api.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: 1, destroyed: 0 })).status).toBe(400);
    expect((await regulator.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: 1, destroyed: 0, sold: 0 })).status).toBe(403);

    // Who may read: the regulator, an inspector, the orgs in scope; others see nothing.
    expect((await R.api.get(path)).status).toBe(200);
    expect((await inspector.get(path)).status).toBe(200);
    expect((await X.api.get(path)).status).toBe(404);
    expect((await regulator.get(`/v1/recalls/${randomUUID()}`)).status).toBe(404);

    const ackP = ok(await P.api.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: 800, destroyed: 100, sold: 0 }));
    expect(ackP).toMatchObject({ recallId: recall.id, batchId: grain.id, orgId: P.id, recovered: 800, destroyed: 100, sold: 0 });
    ok(await R.api.post(`${path}/acknowledgements`, { batchId: noodles.id, recovered: 100, destroyed: 0, sold: 400 }));
    // A later acknowledgement of the same batch replaces the quantities.
    ok(await R.api.post(`${path}/acknowledgements`, { batchId: noodles.id, recovered: 200, destroyed: 0, sold: 300 }));

    const progress = ok(await regulator.get(path), 200);
    expect(progress.acknowledgements).toHaveLength(2);
    expect(progress.acknowledgements).toEqual(
      expect.arrayContaining([expect.objectContaining({ batchId: noodles.id, orgId: R.id, recovered: 200, destroyed: 0, sold: 300 })]),
    );
    // Kilograms and packs do not add: per unit, 900 of 900 kg and 200 of 500 packs; the mean of 1 and 0.4.
    expect(progress.effectiveness).toBeCloseTo(0.7, 3);
    expect(progress.effectivenessBasis).toMatchObject({
      accountedFor: null,
      distributed: null,
      byUnit: expect.arrayContaining([
        { unit: 'kg', accountedFor: 900, distributed: 900 },
        { unit: 'pack', accountedFor: 200, distributed: 500 },
      ]),
    });
    expect(progress.organisations.every((o: { acknowledged: boolean; complete: boolean }) => o.acknowledged && o.complete)).toBe(true);

    // Closing: regulator only, once; then no more acknowledgements.
    expect((await P.api.post(`${path}/close`, {})).status).toBe(403);
    const closed = ok(await regulator.post(`${path}/close`, {}), 200);
    expect(closed).toMatchObject({ status: 'closed', closedAt: expect.any(String) });
    expect(closed.effectiveness).toBeCloseTo(0.7, 3);
    const twice = await regulator.post(`${path}/close`, {});
    expect([twice.status, twice.body.type]).toEqual([409, problem('recall-closed')]);
    const late = await P.api.post(`${path}/acknowledgements`, { batchId: grain.id, recovered: 900, destroyed: 0, sold: 0 });
    expect([late.status, late.body.type]).toEqual([409, problem('recall-closed')]);
    const out = await t.query(`SELECT message_key, payload FROM ${t.prefix}recall.outbox ORDER BY id`);
    const closedEvents = out.map((r) => decodeEnvelope(r.payload)).filter((e) => e.payload.case === 'recallClosed');
    expect(closedEvents).toHaveLength(1);
    expect(closedEvents[0]).toMatchObject({ subject: recall.id, orgId: regulatorOrgId });
  });

  it('refuses a recall from an operator, of an unknown batch, or with a malformed body', async () => {
    const grain = await agriLot('WHEAT-REFUSED');
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${grain.id}`)).status === 200);
    const body = { batches: [{ domain: 'agri', batchId: grain.id }], level: 2, reason: 'x' };

    const byOperator = await F.api.post('/v1/recalls', body);
    expect([byOperator.status, byOperator.body.type]).toEqual([403, problem('role')]);
    expect((await inspector.post('/v1/recalls', body)).status).toBe(403);
    const unknown = await regulator.post('/v1/recalls', { ...body, batches: [{ domain: 'agri', batchId: randomUUID() }] });
    expect([unknown.status, unknown.body.type]).toEqual([422, problem('unknown-batch')]);
    const otherDomain = await regulator.post('/v1/recalls', { ...body, batches: [{ domain: 'food', batchId: grain.id }] });
    expect([otherDomain.status, otherDomain.body.type]).toEqual([422, problem('unknown-batch')]);
    for (const bad of [
      { ...body, level: 4 },
      { ...body, level: '1' },
      { ...body, batches: [] },
      { ...body, batches: [{ domain: 'fish', batchId: grain.id }] },
      { ...body, reason: '' },
      { ...body, colour: 'red' },
    ]) {
      expect((await regulator.post('/v1/recalls', bad)).status).toBe(400);
    }
    expect(await status('agri', grain.id)).toBe('active');
    expect((await t.query(`SELECT 1 FROM ${t.prefix}recall.recalls r JOIN ${t.prefix}recall.recall_batches b ON b.recall_id = r.id WHERE b.batch_id = $1`, [grain.id])).length).toBe(0);
  });

  it('refuses (409 batch-destroyed) a recall of a batch destroyed with nothing made from it still out', async () => {
    const gone = await agriLot('WHEAT-DESTROYED');
    ok(await event(F, 'agri', gone.id, { bizStep: 'destroying' }));
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${gone.id}`)).body?.nodes?.[0]?.status === 'destroyed', 20_000);
    const refused = await regulator.post('/v1/recalls', { level: 2, reason: 'Too late', batches: [{ domain: 'agri', batchId: gone.id }] });
    expect([refused.status, refused.body.type, refused.body.batchIds]).toEqual([409, problem('batch-destroyed'), [gone.id]]);
    // With a batch still out beside it, the recall goes ahead and shows the destroyed one as destroyed.
    const live = await agriLot('WHEAT-LIVE');
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${live.id}`)).status === 200);
    const both = ok(await regulator.post('/v1/recalls', { level: 2, reason: 'Same field', batches: [{ domain: 'agri', batchId: gone.id }, { domain: 'agri', batchId: live.id }] }));
    expect(both.scope.batches).toEqual(
      expect.arrayContaining([expect.objectContaining({ batchId: gone.id }), expect.objectContaining({ batchId: live.id })]),
    );
  });

  it('turns an open inspection case into a recall in one call', async () => {
    const grain = await agriLot('WHEAT-CASE');
    const failed = ok(
      await inspector.post(`/v1/agri/batches/${grain.id}/inspections`, {
        reportNo: 'SJ-RECALL-1',
        sampledAt: new Date(Date.now() - HOUR).toISOString(),
        agency: 'Provincial Agricultural Product Quality Inspection Centre',
        items: [{ name: 'deoxynivalenol', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' }],
        conclusion: 'fail',
      }),
    );
    const theCase = await eventually(async () => {
      const r = await regulator.get('/v1/cases?status=open');
      return r.body.items?.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined;
    }, 20_000);
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${grain.id}`)).status === 200);

    expect((await F.api.post(`/v1/cases/${theCase.id}/recall`, { level: 2, reason: 'x' })).status).toBe(403);
    expect((await regulator.post(`/v1/cases/${randomUUID()}/recall`, { level: 2, reason: 'x' })).status).toBe(404);
    const recall = ok(await regulator.post(`/v1/cases/${theCase.id}/recall`, { level: 2, reason: 'Deoxynivalenol 1.8 mg/kg (limit 1)' }));
    expect(recall).toMatchObject({ status: 'active', level: 2, caseId: theCase.id });
    expect(recall.scope.batches).toEqual([expect.objectContaining({ domain: 'agri', batchId: grain.id, holderOrgId: F.id })]);
    const again = await regulator.post(`/v1/cases/${theCase.id}/recall`, { level: 2, reason: 'again' });
    expect([again.status, again.body.type]).toEqual([409, problem('case-recalled')]);
    // The case is resolved by the recall, and links it.
    expect((await regulator.get(`/v1/cases/${theCase.id}`)).body).toMatchObject({
      status: 'recalled',
      resolution: { status: 'recalled', recallId: recall.id, reason: null, closedAt: expect.any(String) },
    });
    expect((await regulator.get('/v1/cases?status=recalled')).body.items.map((c: { id: string }) => c.id)).toContain(theCase.id);
    // held (failed sample) → recalled
    await eventually(async () => (await status('agri', grain.id)) === 'recalled', 20_000);
  });

  it('closes a case with a resolution: dismissed or cleared with a reason, recalled when a recall covers its batch', async () => {
    const failingCase = async (lot: string) => {
      const batch = await agriLot(lot);
      const failed = ok(
        await inspector.post(`/v1/agri/batches/${batch.id}/inspections`, {
          reportNo: `SJ-${lot}`,
          sampledAt: new Date(Date.now() - HOUR).toISOString(),
          agency: 'Provincial Agricultural Product Quality Inspection Centre',
          items: [{ name: 'deoxynivalenol', value: 1.8, unit: 'mg/kg', limit: 1, result: 'fail' }],
          conclusion: 'fail',
        }),
      );
      const found = await eventually(async () => {
        const r = await regulator.get('/v1/cases?status=open&limit=500');
        return r.body.items?.find((c: { inspection: { id: string } }) => c.inspection.id === failed.id) as { id: string } | undefined;
      }, 20_000);
      return { batch, caseId: found.id };
    };
    const dismissed = await failingCase('WHEAT-DISMISS');
    const noReason = await regulator.post(`/v1/cases/${dismissed.caseId}/close`, { resolution: 'dismissed' });
    expect([noReason.status, noReason.body.errors]).toEqual([400, [{ field: 'reason', message: 'reason is required to close a case as dismissed' }]]);
    expect((await regulator.post(`/v1/cases/${dismissed.caseId}/close`, { resolution: 'forgotten', reason: 'x' })).status).toBe(400);
    expect((await F.api.post(`/v1/cases/${dismissed.caseId}/close`, { resolution: 'dismissed', reason: 'x' })).status).toBe(403);
    expect((await regulator.post(`/v1/cases/${randomUUID()}/close`, { resolution: 'dismissed', reason: 'x' })).status).toBe(404);
    const closed = await regulator.post(`/v1/cases/${dismissed.caseId}/close`, { resolution: 'dismissed', reason: 'Sample mislabelled by the laboratory' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: 'dismissed',
      resolution: { status: 'dismissed', reason: 'Sample mislabelled by the laboratory', recallId: null, closedByOrgId: expect.any(String) },
    });
    const twice = await regulator.post(`/v1/cases/${dismissed.caseId}/close`, { resolution: 'cleared', reason: 'x' });
    expect([twice.status, twice.body.type]).toEqual([409, problem('case-not-open')]);
    const recallDismissed = await regulator.post(`/v1/cases/${dismissed.caseId}/recall`, { level: 2, reason: 'x' });
    expect([recallDismissed.status, recallDismissed.body.type]).toEqual([409, problem('case-not-open')]);

    // A recall started by naming the batch: the case is closed as recalled and linked to it.
    const covered = await failingCase('WHEAT-COVERED');
    const none = await regulator.post(`/v1/cases/${covered.caseId}/close`, { resolution: 'recalled' });
    expect([none.status, none.body.type]).toEqual([409, problem('no-recall')]);
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${covered.batch.id}`)).status === 200);
    const recall = ok(await regulator.post('/v1/recalls', { level: 3, reason: 'Same field', batches: [{ domain: 'agri', batchId: covered.batch.id }] }));
    const linked = await regulator.post(`/v1/cases/${covered.caseId}/close`, { resolution: 'recalled' });
    expect(linked.body).toMatchObject({ status: 'recalled', resolution: { status: 'recalled', recallId: recall.id } });
  });

  it('answers scopes over HTTP for services only (the distributed-mode client)', async () => {
    const { grain, noodles } = await supplyChain('HTTP');
    const client = new HttpLineageScope({ baseUrl: t.url, credentials: new ServiceCredentials(TEST_JWT_SECRET), service: 'recall' });
    const answer = await client.scope([{ domain: 'agri', batchId: grain.id }]);
    expect(scopeBatches(answer.batches).map((b) => [b.batchId, b.domain, b.root])).toEqual([
      [grain.id, 'agri', true],
      [noodles.id, 'food', false],
    ]);
    // The size alone (what a running recall asks every few seconds), the same for one root named twice.
    expect(await client.size([{ domain: 'agri', batchId: grain.id }])).toBe(2);
    expect(await client.size([{ domain: 'food', batchId: noodles.id }, { domain: 'agri', batchId: grain.id }])).toBe(2);
    expect(await client.size([{ domain: 'food', batchId: noodles.id }])).toBe(1);
    // Who holds how much of the named batches (nothing-held rows carry what was given): a recall names its whole scope.
    const held = (rows: { batchId: string; orgId: string; quantity: number; inTransit: number }[]) =>
      rows.filter((h) => h.quantity > 0 || h.inTransit > 0).map((h) => [h.batchId, h.orgId, h.quantity, h.inTransit]).sort();
    await eventually(async () => held(await client.holdings(answer.batches.batchId)).length === 2);
    expect(held(await client.holdings(answer.batches.batchId))).toEqual(
      [
        [grain.id, P.id, 900, 0],
        [noodles.id, R.id, 500, 0],
      ].sort(),
    );
    expect(held(await client.holdings([noodles.id]))).toEqual([[noodles.id, R.id, 500, 0]]);
    // A scope's worth of ids in one request (more than the 100 roots a scope request takes); unknown ones have no rows.
    const many = [...Array.from({ length: 12_000 }, () => randomUUID()), noodles.id];
    expect(held(await client.holdings(many))).toEqual([[noodles.id, R.id, 500, 0]]);
    const malformed = await fetch(`${t.url}/internal/v1/lineage/holdings`, {
      method: 'POST',
      headers: { ...(await new ServiceCredentials(TEST_JWT_SECRET).header('recall')), 'content-type': 'application/json' },
      body: JSON.stringify({ batchIds: [noodles.id, 'not-a-uuid'] }),
    });
    expect(malformed.status).toBe(400);
    for (const ask of [client.scope.bind(client), client.size.bind(client)]) {
      const unknown = await ask([{ domain: 'agri', batchId: randomUUID() }]).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(DomainError);
      expect((unknown as DomainError).status).toBe(422);
    }
    // Not for users, not even admins or regulators.
    for (const who of [t.as('platform', 'admin'), regulator]) {
      for (const path of ['/internal/v1/lineage/scope', '/internal/v1/lineage/scope/size', '/internal/v1/lineage/holdings']) {
        const r = await who.post(path, { roots: [{ domain: 'agri', batchId: grain.id }], batchIds: [grain.id] });
        expect(r.status).toBe(403);
      }
    }
  });
  it('counts the completion deadline on the working-day calendar: a holiday entered by the regulator moves it', async () => {
    const { grain } = await supplyChain('3');
    const before = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: grain.id }], level: 2, reason: 'calendar check' }));
    // The last working day of the period (Shanghai date of 24:00 is the day before in UTC+8 terms: 16:00Z is its end).
    const lastDay = new Date(Date.parse(before.deadlines.completeBy) - HOUR).toISOString().slice(0, 10);
    ok(await regulator.request('PUT', `/v1/calendar/${lastDay}`, { working: false, note: 'test holiday' }), 200);
    try {
      // Another lot: the first is under the active recall already.
      const other = await agriLot('WHEAT-CALENDAR');
      const after = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: other.id }], level: 2, reason: 'calendar check again' }));
      expect(Date.parse(after.deadlines.completeBy)).toBeGreaterThan(Date.parse(before.deadlines.completeBy));
      const movedTo = new Date(Date.parse(after.deadlines.completeBy) - HOUR);
      expect(movedTo.toISOString().slice(0, 10)).not.toBe(lastDay);
      expect([0, 6]).not.toContain(movedTo.getUTCDay());
    } finally {
      ok(await regulator.request('PUT', `/v1/calendar/${lastDay}`, { working: true, note: 'test holiday undone' }), 200);
    }
  });
});
