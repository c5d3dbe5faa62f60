/**
 * Webhook latency of a recall, end to end in the embedded app: from
 * `POST /v1/recalls` until every holder's endpoint has received its signed
 * `recall.started` delivery (the requirement: within 2 s).
 *
 *   node scripts/run.js scripts/bench/webhook-recall.ts [holders=50] [runs=5]
 *   # BENCH_WARMUP=1: runs before the counted ones (printed with "warmup": true, left out of the summary)
 *   # DATABASE_URL=postgres://…/some_test_db (default postgres://postgres@127.0.0.1:5432/test)
 *
 * Each run: a farm lot is shipped in equal parts to `holders` retailers, each
 * of which receives it and has subscribed its own URL on one local receiver
 * (127.0.0.1, hence WEBHOOK_ALLOW_PRIVATE=true); once lineage holds the
 * holdings, the regulator recalls the lot. Timed from just before the POST:
 * the answer, the first delivery, the last one (each signature checked).
 * The path a delivery takes is the production one: recall transaction →
 * outbox → relay → the recall service's inbox (delivery rows, NOTIFY) →
 * delivery worker → HTTP POST.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { aBatch, aProduct } from '../../tests/support/api';
import { startEmbeddedApp } from '../../tests/support/embedded-app';
import { WebhookReceiver } from '../../tests/support/webhook-receiver';
import { anOrg } from '../../tests/support/world';

const AGRI_GTIN = '09506000134352';

async function main() {
  const [holdersArg, runsArg] = process.argv.slice(3);
  const holders = Number(holdersArg ?? 50);
  const runs = Number(runsArg ?? 5);
  const warmup = Number(process.env.BENCH_WARMUP ?? 1);
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  process.env.WEBHOOK_ALLOW_PRIVATE = 'true';
  const receiver = await new WebhookReceiver().start();
  // The pool size npm start uses.
  const t = await startEmbeddedApp({ DB_POOL_SIZE: '10', OUTBOX_POLL_MS: '200' });
  try {
    const farm = await anOrg(t, 'Bench Farm', 'producer', ['farm']);
    const regulator = t.as((await anOrg(t, 'Bench Regulator', 'regulator', [])).id, 'regulator');
    await aProduct(farm.api, 'agri', AGRI_GTIN, 'grain');
    const shops = [];
    const secrets = new Map<string, string>();
    for (let i = 0; i < holders; i++) {
      const shop = await anOrg(t, `Bench Shop ${i}`, 'retailer', ['store']);
      const hook = await shop.api.post('/v1/webhooks', { url: receiver.url(`/shop/${shop.id}`), events: ['recall.started'] });
      if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}`);
      secrets.set(`/shop/${shop.id}`, hook.body.secret);
      shops.push(shop);
    }
    const results: Record<string, number>[] = [];
    for (let run = 1 - warmup; run <= runs; run++) {
      const lot = await farm.api.post('/v1/agri/batches', { ...aBatch(`BENCH-${randomUUID().slice(0, 8)}`, farm.locations.farm), quantity: { value: holders * 10, unit: 'kg' } });
      if (lot.status !== 201) throw new Error(`lot: ${lot.status} ${JSON.stringify(lot.body)}`);
      for (const shop of shops) {
        const now = new Date().toISOString();
        const ship = await farm.api.post(`/v1/agri/batches/${lot.body.id}/events`, { eventTime: now, locationId: farm.locations.farm, bizStep: 'shipping', toOrgId: shop.id, quantity: { value: 10, unit: 'kg' } });
        if (ship.status !== 201) throw new Error(`shipping: ${ship.status} ${JSON.stringify(ship.body)}`);
        const recv = await shop.api.post(`/v1/agri/batches/${lot.body.id}/events`, { eventTime: now, locationId: shop.locations.store, bizStep: 'receiving' });
        if (recv.status !== 201) throw new Error(`receiving: ${recv.status} ${JSON.stringify(recv.body)}`);
      }
      // Lineage (the recall's source of holdings) follows the events: wait until it knows every holder.
      for (let attempt = 0; ; attempt++) {
        const [row] = await t.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${t.prefix}lineage".lineage_holdings, jsonb_array_elements(holdings) h WHERE batch_id = $1 AND (h->>'quantity')::numeric > 0`,
          [lot.body.id],
        );
        if (row?.n === holders) break;
        if (attempt > 600) throw new Error(`lineage knows ${row?.n} holders of ${holders}`);
        await new Promise((r) => setTimeout(r, 50));
      }

      const started = performance.now();
      const res = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: lot.body.id }], level: 1, reason: 'benchmark' });
      const createdMs = performance.now() - started;
      if (res.status !== 201) throw new Error(`recall: ${res.status} ${JSON.stringify(res.body)}`);
      const mine = () => receiver.received.filter((d) => d.body?.data?.recallId === res.body.id);
      const got = await receiver.until(() => mine().length >= holders && mine(), 60_000);
      const bad = got.filter((d) => d.headers['x-trace-signature'] !== `sha256=${createHmac('sha256', secrets.get(d.path) ?? '').update(d.raw).digest('hex')}`);
      if (bad.length) throw new Error(`${bad.length} deliveries with a wrong signature`);
      if (new Set(got.map((d) => d.path)).size !== holders) throw new Error('not every holder got its delivery');
      const times = got.map((d) => d.at - started).sort((a, b) => a - b);
      const result = { run, holders, createdMs: Math.round(createdMs), firstDeliveryMs: Math.round(times[0]), lastDeliveryMs: Math.round(times[times.length - 1]) };
      if (run < 1) {
        console.log(JSON.stringify({ warmup: true, ...result }));
        continue;
      }
      results.push(result);
      console.log(JSON.stringify(result));
    }
    const sorted = (k: string) => results.map((r) => r[k]).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        summary: true,
        holders,
        runs,
        createdMsMedian: sorted('createdMs')[Math.floor(runs / 2)],
        lastDeliveryMsMedian: sorted('lastDeliveryMs')[Math.floor(runs / 2)],
        lastDeliveryMsMax: sorted('lastDeliveryMs').at(-1),
      }),
    );
  } finally {
    await t.close();
    await receiver.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
