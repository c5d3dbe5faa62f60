import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { decodeEnvelope } from '@trace/contracts';
import { LOGGER } from '@trace/platform';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { RecallScopeFollower, RecallService } from '@trace/service-recall';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { seedTree, type SeedBatch, type SeedOrgs } from '../support/seed-tree';
import { anOrg, type TestOrg } from '../support/world';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const AGRI_GTIN = '09506000134352';
const FOOD_GTIN = '04012345000016';

/**
 * A recall's scope follows lineage while the recall is active. Lineage is
 * eventually consistent, so a batch made from one in scope just before its
 * domain marked it (after which custody refuses transforming it), or whose
 * events reached lineage late, is not in the scope computed at the start:
 * it joins later, is marked recalled in its domain, and a recall cannot be
 * closed over batches nobody was told about. The late batches are written the
 * way another lineage replica's projection arrives: rows committed in the
 * domain and lineage tables, picked up by this replica's catch-up.
 *
 * The app runs with the periodic follower off (RECALL_SCOPE_FOLLOW_MS=0) so
 * each step is the test's; the last test runs the follower's timer itself.
 */
describe('recall scope follows lineage while the recall is active', () => {
  let t: EmbeddedTestApp;
  let db: Client;
  let F: TestOrg;
  let P: TestOrg;
  let regulator: Api;
  let orgs: SeedOrgs;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.RECALL_SCOPE_FOLLOW_MS = '0';
    process.env.RECALL_LINEAGE_WAIT_MS = '3000';
    t = await startEmbeddedApp();
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    F = await anOrg(t, 'Late Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Late Mill', 'processor', ['factory']);
    regulator = t.as((await anOrg(t, 'Late Bureau', 'regulator', [])).id, 'regulator');
    orgs = { farm: { org: F.id, location: F.locations.farm! }, plant: { org: P.id, location: P.locations.factory! } };
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');
    await aProduct(P.api, 'food', FOOD_GTIN, 'flour');
  });
  afterAll(async () => {
    process.env = saved;
    await db?.end();
    await t?.close();
  });

  const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const status = async (domain: string, id: string) => (await regulator.get(`/v1/${domain}/batches/${id}`)).body.status;
  const foodBatch = (lot: string, parent: string, parentDomain: 'agri' | 'food'): SeedBatch => ({
    id: randomUUID(),
    domain: 'food',
    gtin: FOOD_GTIN,
    lot,
    parent,
    parentDomain,
    quantity: 40,
    unit: 'bag',
  });
  /** Commits batches as their services would and lets this lineage replica catch up on them. */
  const arriveLate = async (batches: SeedBatch[]) => {
    await db.query('BEGIN');
    await seedTree(db, t.prefix, batches, orgs);
    await db.query('COMMIT');
    const root = batches[0].parent!;
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/${batches[0].parentDomain}/${root}?direction=downstream`);
      return tr.status === 200 && batches.every((b) => tr.body.nodes.some((n: { batchId: string }) => n.batchId === b.id));
    }, 20_000);
  };
  const waves = async (recallId: string) =>
    (await t.query(`SELECT message_key, payload FROM ${t.prefix}recall.outbox ORDER BY id`))
      .map((r) => ({ key: r.message_key as string, value: decodeEnvelope(r.payload).payload }))
      .filter((e) => e.value.case === 'recallInitiated' && e.value.value.recallId === recallId)
      .map((e) => ({ key: e.key, wave: (e.value.value as { wave: number }).wave, items: (e.value.value as { items: { batch: { batchId: string } }[] }).items.map((i) => i.batch.batchId) }));

  it('batches lineage learns of after the start join the scope, turn recalled, and keep the recall from closing until then', async () => {
    const grain = ok(await F.api.post('/v1/agri/batches', aBatch('LATE-1', F.locations.farm)));
    const recall = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: grain.id }], level: 2, reason: 'Aflatoxin B1 above the limit' }));
    expect(recall.scope.batches.map((b: { batchId: string; addedAt: string }) => [b.batchId, b.addedAt])).toEqual([[grain.id, recall.createdAt]]);
    await eventually(async () => (await status('agri', grain.id)) === 'recalled', 20_000);

    // Flour milled from the grain (and a mix made from the flour) before the farm's lot was marked, reaching lineage only now.
    const flour = foodBatch('FLOUR-LATE', grain.id, 'agri');
    const mix = foodBatch('MIX-LATE', flour.id, 'food');
    await arriveLate([flour, mix]);
    expect(await status('food', flour.id)).toBe('active');

    // Closing now would close over two batches nobody was told about: they join the scope and the recall stays open.
    const refused = await regulator.post(`/v1/recalls/${recall.id}/close`, {});
    expect([refused.status, refused.body.type, refused.body.joined]).toEqual([409, problem('recall-scope-grew'), 2]);
    const grown = ok(await regulator.get(`/v1/recalls/${recall.id}`), 200);
    expect(grown.status).toBe('active');
    const joined = grown.scope.batches.filter((b: { root: boolean }) => !b.root);
    expect(joined.map((b: { batchId: string }) => b.batchId).sort()).toEqual([flour.id, mix.id].sort());
    for (const b of joined) {
      expect(b).toMatchObject({ domain: 'food', gtin: FOOD_GTIN, holderOrgId: P.id, quantity: { value: 40, unit: 'bag' }, root: false });
      expect(Date.parse(b.addedAt)).toBeGreaterThan(Date.parse(recall.createdAt));
    }
    expect(grown.scope.organisations.sort()).toEqual([F.id, P.id].sort());

    // Announced as a second wave, which the food service applies like the first.
    const announced = await waves(recall.id);
    expect(announced.map((w) => [w.key, w.wave])).toEqual([
      [`${recall.id}/agri/1`, 0],
      [`${recall.id}/1/food/1`, 1],
    ]);
    expect(announced[1].items.sort()).toEqual([flour.id, mix.id].sort());
    await eventually(async () => (await status('food', flour.id)) === 'recalled' && (await status('food', mix.id)) === 'recalled', 20_000);
    const chain = ok<any[]>(await regulator.get(`/v1/food/batches/${mix.id}/events`), 200);
    expect(chain.at(-1)).toMatchObject({ bizStep: 'holding', disposition: 'recalled', recallId: recall.id, level: 2 });

    // Nothing more to add: following again changes nothing, and the recall closes.
    expect(await t.app.get(RecallService).followScope(recall.id)).toBe(0);
    const closed = ok(await regulator.post(`/v1/recalls/${recall.id}/close`, {}), 200);
    expect(closed.status).toBe('closed');
    expect(await waves(recall.id)).toHaveLength(2);
    // A closed recall no longer follows: a batch arriving now is another recall's business.
    const after = foodBatch('FLOUR-AFTER-CLOSE', grain.id, 'agri');
    await arriveLate([after]);
    expect(await t.app.get(RecallService).followAll()).toBe(0);
    expect(ok(await regulator.get(`/v1/recalls/${recall.id}`), 200).scope.batches).toHaveLength(3);
  });

  it('waits for lineage to learn of a root registered a moment ago, and still refuses one that never comes', async () => {
    const grain: SeedBatch = { id: randomUUID(), domain: 'agri', gtin: AGRI_GTIN, lot: 'JUST-NOW', parent: null, parentDomain: null, quantity: 900, unit: 'kg' };
    // The recall is asked for before the batch's rows reach this lineage replica…
    const asked = regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: grain.id }], level: 1, reason: 'Mycotoxins' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await db.query('BEGIN');
    await seedTree(db, t.prefix, [grain], orgs);
    await db.query('COMMIT');
    // …and is answered once they do, instead of "unknown batch".
    const recall = ok(await asked);
    expect(recall.scope.batches.map((b: { batchId: string }) => b.batchId)).toEqual([grain.id]);

    const started = Date.now();
    const unknown = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: randomUUID() }], level: 1, reason: 'typo' });
    expect([unknown.status, unknown.body.type]).toEqual([422, problem('unknown-batch')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });

  it('the follower runs on its own every RECALL_SCOPE_FOLLOW_MS', async () => {
    const grain = ok(await F.api.post('/v1/agri/batches', aBatch('LATE-TIMER', F.locations.farm)));
    await eventually(async () => (await regulator.get(`/v1/trace/agri/${grain.id}`)).status === 200, 20_000);
    const recall = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: grain.id }], level: 3, reason: 'Labelling' }));
    const follower = new RecallScopeFollower(t.app.get(RecallService), { followIntervalMs: 200, lineageWaitMs: 0 }, t.app.get(LOGGER));
    follower.onApplicationBootstrap();
    try {
      const flour = foodBatch('FLOUR-TIMER', grain.id, 'agri');
      await arriveLate([flour]);
      await eventually(async () => (await status('food', flour.id)) === 'recalled', 20_000);
      const view = ok(await regulator.get(`/v1/recalls/${recall.id}`), 200);
      expect(view.scope.batches.map((b: { batchId: string }) => b.batchId)).toEqual([grain.id, flour.id]);
    } finally {
      follower.onModuleDestroy();
    }
  });
});
