import { ServiceCredentials } from '@trace/platform';
import { eventually } from '@trace/testing';
import { aProduct, type Api } from '../support/api';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { WebhookReceiver } from '../support/webhook-receiver';
import { openWebSocket, type TestWebSocket } from '../support/websocket-client';

/**
 * EPCIS query subscriptions in distributed mode: the epcis service's worker runs the subscriber's query
 * against the agri service's chain over HTTP with a service credential acting for the subscriber's
 * organisation and role (no user's token is at hand), and POSTs what matches. Only the internal query
 * route takes such a credential as its caller.
 */
describe('EPCIS subscriptions (distributed mode)', () => {
  let d: DistributedDeployment | undefined;
  let api: Api;
  const capture = async (who: Api, gtin: string, lot: string) => {
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(),
      epcisBody: {
        eventList: [{
          type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active',
          eventTime: new Date().toISOString(), eventTimeZoneOffset: '+00:00',
          quantityList: [{ epcClass: `https://id.gs1.org/01/${gtin}/10/${lot}`, quantity: 100, uom: 'KGM' }],
        }],
      },
    };
    const r = await who.request('POST', '/v1/epcis/capture', doc);
    expect(r.status).toBe(202);
    const job = await eventually(async () => {
      const j = await who.get(`/v1/epcis/capture/${r.body.captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
  };
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await d?.stop();
    await receiver.close();
  });

  it('delivers events stored on a domain service; the acting credential opens the query route only', async () => {
    d = await startDistributed(['agri', 'epcis'], 'e2esub', { env: { epcis: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '200' } } });
    const admin = d.as('platform', 'admin');
    const org = (await admin.post('/v1/orgs', { name: 'EPCIS Subscriber', kind: 'producer' })).body;
    const other = (await admin.post('/v1/orgs', { name: 'EPCIS Neighbour', kind: 'producer' })).body;
    api = d.as(org.id, 'operator');
    const neighbour = d.as(other.id, 'operator');
    await aProduct(api, 'agri', '09506000134352', 'grain');
    await aProduct(neighbour, 'agri', '09506000134376', 'grain');
    const query = { name: 'commissioned', query: { EQ_bizStep: ['commissioning'] } };
    expect((await api.request('POST', '/v1/epcis/queries', query)).status).toBe(201);
    const sub = await api.request('POST', '/v1/epcis/queries/commissioned/subscriptions', { dest: receiver.url('/dist'), stream: true });
    expect(sub.status).toBe(201);

    // The neighbour's lot first, then ours: a look that could see the neighbour's would have sent it with or before ours.
    await capture(neighbour, '09506000134376', 'NEIGHBOUR-LOT');
    await capture(api, '09506000134352', 'SUB-LOT');
    const [delivery] = await receiver.until(() => receiver.at('/dist').length >= 1 && receiver.at('/dist'), 60_000);
    const events = delivery.body.epcisBody.queryResults.resultsBody.eventList;
    expect(events.map((e: { quantityList: { epcClass: string }[] }) => e.quantityList[0].epcClass)).toEqual(['https://id.gs1.org/01/09506000134352/10/SUB-LOT']);
    expect(delivery.body.epcisBody.queryResults).toMatchObject({ queryName: 'commissioned', subscriptionID: sub.body.subscriptionID });

    // The credential acting for an organisation is the caller of the query route, and of no other internal route.
    const acting = await new ServiceCredentials(d.secret).header('test', { clientId: 'c', orgId: org.id, role: 'operator' });
    const agri = d.services.agri!.url;
    const asked = await fetch(`${agri}/internal/v1/agri/epcis/query`, { method: 'POST', headers: { ...acting, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 10 }) });
    expect(asked.status).toBe(200);
    expect(((await asked.json()) as unknown[]).length).toBeGreaterThan(0);
    const resolve = await fetch(`${agri}/internal/v1/agri/epcis/resolve`, { method: 'POST', headers: { ...acting, 'content-type': 'application/json' }, body: JSON.stringify({ gtins: [], objects: [] }) });
    expect(resolve.status).toBe(401);
    const plain = await fetch(`${agri}/internal/v1/agri/epcis/query`, { method: 'POST', headers: { ...(await new ServiceCredentials(d.secret).header('test')), 'content-type': 'application/json' }, body: JSON.stringify({ limit: 10 }) });
    expect(plain.status).toBe(401);
  }, 300_000);

  it('WebSocket subscriptions pass through the gateway: the handshake, a refusal, then the events', async () => {
    const at = `${d!.gateway.url}/v1/epcis/queries/commissioned/events?stream=true`;
    const refused = await openWebSocket(at);
    expect([refused.status, (refused as { body: { type: string } }).body.type]).toEqual([401, expect.stringMatching(/unauthorized$/)]);
    const opened = await openWebSocket(at, await api.headers());
    expect(opened.status).toBe(101);
    const ws = (opened as { ws: TestWebSocket }).ws;
    await capture(api, '09506000134352', 'WS-LOT');
    const lots = () => ws.documents.flatMap((doc) => doc.epcisBody.queryResults.resultsBody.eventList.map((e: { quantityList: { epcClass: string }[] }) => e.quantityList[0].epcClass));
    await ws.until(() => lots().length >= 1, 60_000);
    expect(lots()).toEqual(['https://id.gs1.org/01/09506000134352/10/WS-LOT']);
    ws.close();
  }, 120_000);
});
