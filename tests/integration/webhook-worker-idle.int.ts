import { WebhookDeliveryWorker } from '@trace/service-recall';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * The delivery worker's pause between passes. With nothing pending it waits
 * the poll interval (WEBHOOK_POLL_MS, 1,000 ms by default): it used to answer
 * 0 (PostgreSQL's GREATEST skips a NULL) and query in a tight loop, two
 * statements a pass, thousands a minute in every process, on the cores a
 * recall needs.
 */
describe('webhook delivery worker: the pause between passes', () => {
  let t: EmbeddedTestApp;
  beforeAll(async () => {
    t = await startEmbeddedApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('waits the poll interval when nothing is pending, and not longer than until the next delivery is due', async () => {
    const worker = t.app.get(WebhookDeliveryWorker);
    expect(await worker.untilNextDue()).toBe(1_000);

    // A pending delivery due in 300 ms shortens the pause; one due already makes it 0.
    const [sub] = await t.query<{ id: string }>(
      `INSERT INTO "${t.prefix}recall".webhook_subscriptions (id, org_id, org_role, url, events, secret, created_at)
       VALUES (gen_random_uuid(), 'org-idle', 'operator', 'https://example.org/hook', ARRAY['recall.started'], 'secret', now()) RETURNING id`,
    );
    await worker.stop();
    await t.query(
      `INSERT INTO "${t.prefix}recall".webhook_deliveries (id, subscription_id, event_key, type, occurred_at, data, status, next_attempt_at, created_at)
       VALUES (gen_random_uuid(), $1, 'recall.started:idle', 'recall.started', now(), '{}', 'pending', now() + interval '300 milliseconds', now())`,
      [sub.id],
    );
    const soon = await worker.untilNextDue();
    expect(soon).toBeGreaterThan(0);
    expect(soon).toBeLessThanOrEqual(300);
    await t.query(`UPDATE "${t.prefix}recall".webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE subscription_id = $1`, [sub.id]);
    expect(await worker.untilNextDue()).toBe(0);
  });
});
