import type { DataSource } from 'typeorm';
import { createServiceDataSource, initializeServiceDatabase, webhookOptions, type Principal } from '@trace/platform';
import { ANY_SUBSCRIBED, WEBHOOK_MIGRATIONS, WebhookService } from '@trace/service-recall';
import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';

/**
 * For each event it handles, the recall service asks whether any live webhook subscription names the event's
 * type (ANY_SUBSCRIBED); for most events none does. Asked of webhook_subscriptions, with the few event types all
 * in the planner's statistics, PostgreSQL guessed a match in the first rows and, for LIMIT 1, read the whole
 * table whenever nobody had subscribed to the type (10,000 subscriptions: 13 of 13 probes a sequential scan).
 * It is now one row of webhook_event_types, which WebhookService keeps as it creates and deletes subscriptions,
 * and which the migration fills from the subscriptions already there.
 */
describe('webhook subscriptions: the count of live subscriptions per event type', () => {
  const prefix = uniquePrefix('probe');
  let ds: DataSource;
  let service: WebhookService;
  const operator = (orgId: string): Principal => ({ clientId: `c-${orgId}`, orgId, role: 'operator' });
  const subscribed = async (type: string) => (await ds.query(ANY_SUBSCRIBED, [type])).length === 1;
  const counts = async () =>
    Object.fromEntries(((await ds.query('SELECT type, subscriptions FROM webhook_event_types WHERE subscriptions > 0 ORDER BY type')) as { type: string; subscriptions: number }[]).map((r) => [r.type, r.subscriptions]));
  /** What the counters must say: the live subscriptions, counted per type. */
  const truth = async () =>
    Object.fromEntries(
      ((await ds.query(`SELECT t AS type, count(*)::int AS n FROM webhook_subscriptions, unnest(events) AS t WHERE deleted_at IS NULL GROUP BY t ORDER BY t`)) as { type: string; n: number }[]).map((r) => [r.type, r.n]),
    );

  afterAll(async () => {
    await ds?.destroy();
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  it('is filled by its migration from the live subscriptions already there', async () => {
    // The schema as it was before the counters, with subscriptions in it, one of them deleted.
    const before = createServiceDataSource({ service: 'recall', url: testDatabaseUrl(), schemaPrefix: prefix, poolSize: 2, entities: [], migrations: WEBHOOK_MIGRATIONS.slice(0, 1) });
    await initializeServiceDatabase(before);
    await before.query(
      `INSERT INTO webhook_subscriptions (id, org_id, org_role, url, events, secret, created_at, deleted_at) VALUES
         (gen_random_uuid(), 'org-a', 'operator', 'https://example.org/a', ARRAY['recall.started', 'recall.closed'], 's', now(), NULL),
         (gen_random_uuid(), 'org-b', 'regulator', 'https://example.org/b', ARRAY['recall.started'], 's', now(), NULL),
         (gen_random_uuid(), 'org-c', 'operator', 'https://example.org/c', ARRAY['inspection.failed'], 's', now(), now())`,
    );
    await before.destroy();
    ds = createServiceDataSource({ service: 'recall', url: testDatabaseUrl(), schemaPrefix: prefix, poolSize: 4, entities: [], migrations: WEBHOOK_MIGRATIONS });
    await initializeServiceDatabase(ds);
    service = new WebhookService(ds, { ...webhookOptions(), allowPrivate: true });
    expect(await counts()).toEqual({ 'recall.closed': 1, 'recall.started': 2 });
    expect([await subscribed('recall.started'), await subscribed('inspection.failed')]).toEqual([true, false]);
  }, 60_000);

  it('counts each subscription created and deleted, so the probe says yes exactly while one names the type', async () => {
    const made = await service.create({ url: 'http://127.0.0.1:9/hook', events: ['inspection.failed', 'recall.started'] } as never, operator('org-d'));
    expect(await subscribed('inspection.failed')).toBe(true);
    expect(await counts()).toEqual({ 'inspection.failed': 1, 'recall.closed': 1, 'recall.started': 3 });
    await service.remove(made.id, operator('org-d'));
    expect(await subscribed('inspection.failed')).toBe(false);
    expect(await counts()).toEqual(await truth());
    // A refused delete (another organisation's subscription) changes nothing.
    const kept = await service.create({ url: 'http://127.0.0.1:9/hook', events: ['batch.held'] } as never, operator('org-e'));
    await expect(service.remove(kept.id, operator('org-f'))).rejects.toMatchObject({ status: 404 });
    expect(await subscribed('batch.held')).toBe(true);
  }, 60_000);

  it('stays equal to the live subscriptions under concurrent creations and deletions of overlapping types, without a deadlock', async () => {
    const types = ['recall.started', 'recall.closed', 'inspection.failed', 'batch.held', 'incident.overdue'];
    const made = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        // Each its own organisation (no per-organisation lock between them), the types in differing orders.
        const events = [types[i % 5], types[(i + 2) % 5], types[(i + 4) % 5]].sort(() => (i % 2 ? 1 : -1));
        return service.create({ url: 'http://127.0.0.1:9/hook', events } as never, operator(`org-x${i}`)).then((r) => ({ id: r.id, org: `org-x${i}` }));
      }),
    );
    await Promise.all([
      ...made.filter((_, i) => i % 3 === 0).map((m) => service.remove(m.id, operator(m.org))),
      ...Array.from({ length: 8 }, (_, i) => service.create({ url: 'http://127.0.0.1:9/hook', events: [types[(i + 1) % 5], types[i % 5]] } as never, operator(`org-y${i}`))),
    ]);
    expect(await counts()).toEqual(await truth());
  }, 60_000);
});
