import { createHmac } from 'node:crypto';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { WebhookReceiver } from '../support/webhook-receiver';

const AGRI_GTIN = '09506000134352';
const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
};

/**
 * Webhooks in distributed mode: agri, lineage and recall each their own
 * process over Kafka, the gateway in front (it routes /v1/webhooks to the
 * recall service). The recall service is killed (SIGKILL) while its worker
 * waits for the receiver's answer to a recall delivery; the process that
 * comes back sends the same delivery again (same id, same signed bytes) once
 * the dead worker's lease has run out, and the log shows it delivered.
 */
describe('webhooks over Kafka: a recall delivery survives the recall service being killed mid-POST', () => {
  let d: DistributedDeployment | undefined;
  let receiver: WebhookReceiver | undefined;

  afterAll(async () => {
    await d?.stop();
    await receiver?.close();
  });

  it('subscribed through the gateway, delivered signed after a SIGKILL of the recall service', async () => {
    receiver = await new WebhookReceiver().start();
    // A 2 s timeout makes the lease of a claimed delivery 9 s: the process that comes back retries after it.
    d = await startDistributed(['agri', 'lineage', 'recall'], 'e2ewebhook', {
      env: { recall: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_POLL_MS: '200', WEBHOOK_RETRY_BASE_MS: '500' } },
    });
    const dep = d;
    const org = async (name: string, kind: string, locationKind?: string) => {
      const id = ok<{ id: string }>(await dep.as('platform', 'admin').post('/v1/orgs', { name, kind })).id;
      const api = dep.as(id, kind === 'regulator' ? 'regulator' : 'operator');
      const loc = locationKind ? ok<{ id: string }>(await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).id : '';
      return { id, api, loc };
    };
    const F = await org('Grain Farm', 'producer', 'farm');
    const P = await org('Noodle Works', 'processor', 'factory');
    const regulator: Api = (await org('Market Supervision Bureau', 'regulator')).api;
    await aProduct(F.api, 'agri', AGRI_GTIN, 'grain');

    const hook = ok(await P.api.post('/v1/webhooks', { url: receiver.url('/processor'), events: ['recall.started'] }));
    expect(ok(await P.api.get('/v1/webhooks'), 200).items.map((w: { id: string }) => w.id)).toEqual([hook.id]);

    const lot = ok(await F.api.post('/v1/agri/batches', aBatch('WHEAT-E2E-WH', F.loc)));
    const now = () => new Date().toISOString();
    ok(await F.api.post(`/v1/agri/batches/${lot.id}/events`, { eventTime: now(), locationId: F.loc, bizStep: 'shipping', toOrgId: P.id }));
    ok(await P.api.post(`/v1/agri/batches/${lot.id}/events`, { eventTime: now(), locationId: P.loc, bizStep: 'receiving' }));
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${lot.id}?direction=downstream`);
      return tr.status === 200 && tr.body.nodes.some((n: { batchId: string; holderOrgId: string }) => n.batchId === lot.id && n.holderOrgId === P.id);
    }, 60_000);

    // The first try is never answered: the recall service dies while waiting for it.
    receiver.answer('/processor', 0);
    const recall = ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: lot.id }], level: 2, reason: 'Aflatoxin above the limit' }));
    const ofRecall = () => receiver!.at('/processor').filter((r) => r.body?.data?.recallId === recall.id);
    const [first] = await receiver.until(() => ofRecall().length > 0 && ofRecall(), 60_000);
    const { exitCode } = await dep.restart('recall', 'SIGKILL');
    expect(exitCode).not.toBe(0);

    const [, second] = await receiver.until(() => ofRecall().length > 1 && ofRecall(), 60_000);
    expect(second.headers['x-trace-delivery']).toBe(first.headers['x-trace-delivery']);
    expect(second.raw).toBe(first.raw);
    expect(second.headers['x-trace-signature']).toBe(`sha256=${createHmac('sha256', hook.secret).update(second.raw).digest('hex')}`);
    expect(second.body).toMatchObject({ type: 'recall.started', data: { recallId: recall.id, batches: [{ domain: 'agri', batchId: lot.id }] } });

    const [delivered] = await eventually(async () => {
      const page = ok(await P.api.get(`/v1/webhooks/${hook.id}/deliveries`), 200);
      return page.items[0]?.status === 'delivered' ? page.items : undefined;
    }, 30_000);
    // Two tries; the one the killed process made was never recorded as answered.
    expect(delivered).toMatchObject({ id: second.body.id, status: 'delivered', attemptCount: 2, lastStatusCode: 200 });
    expect(delivered.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([200]);
  });
});
