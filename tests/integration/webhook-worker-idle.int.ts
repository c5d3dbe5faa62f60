import { WebhookDeliveryWorker } from '@trace/service-recall';
import { eventually } from '@trace/testing';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

/**
 * The delivery worker's pause between passes. With nothing pending it waits
 * 30 s while its LISTEN connection is up (a commit that writes deliveries
 * wakes it), the poll interval (WEBHOOK_POLL_MS, 1,000 ms by default) while
 * it is down. It used to answer
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

  it('waits 30 s listening or the poll interval without LISTEN when nothing is pending, and not longer than until the next delivery is due', async () => {
    const worker = t.app.get(WebhookDeliveryWorker);
    await eventually(async () => worker.listening, 10_000);
    expect(await worker.untilNextDue()).toBe(30_000);

    // A pending delivery due in 300 ms shortens the pause; one due already makes it 0.
    const [sub] = await t.query<{ id: string }>(
      `INSERT INTO "${t.prefix}recall".webhook_subscriptions (id, org_id, org_role, url, events, secret, created_at)
       VALUES (gen_random_uuid(), 'org-idle', 'operator', 'https://example.org/hook', ARRAY['recall.started'], 'secret', now()) RETURNING id`,
    );
    await worker.stop();
    expect(worker.listening).toBe(false);
    expect(await worker.untilNextDue()).toBe(1_000);
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
