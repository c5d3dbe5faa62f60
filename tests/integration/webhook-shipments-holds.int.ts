import { createHmac } from 'node:crypto';
import { epcisDocumentFromXml, opaqueName, validateEpcis } from '@trace/epcis';
import { XsdValidation } from '@trace/service-epcis';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { WebhookReceiver, type ReceivedDelivery } from '../support/webhook-receiver';
import { anOrg, type TestOrg } from '../support/world';

const GRAIN = '09506000134352';
const ok = <T = any>(r: { status: number; body: any }, status = 201): T => {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
};
const signedWith = (d: ReceivedDelivery, secret: string) =>
  d.headers['x-trace-signature'] === `sha256=${createHmac('sha256', secret).update(d.raw).digest('hex')}`;

const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_POLL_MS: '200' } as const;

/**
 * `shipment.incoming` and `batch.held` (API.md "Notifications (webhooks)"),
 * and the EPCIS export of a REST shipping naming its parties (so the receiver
 * survives an export and a capture). A real receiver on 127.0.0.1, every
 * delivery's signature checked, each delivered once per subscription.
 */
describe('webhooks: shipment.incoming to the receiver, batch.held to every holder; EPCIS export names the shipment parties', () => {
  let t: EmbeddedTestApp;
  let receiver: WebhookReceiver;
  let F: TestOrg; // farm: ships
  let P: TestOrg; // processor
  let Q: TestOrg; // second processor
  let X: TestOrg; // holds nothing
  let regulator: Api;
  let inspector: Api;
  const secrets: Record<string, string> = {};
  const hooks: Record<string, string> = {};
  const before: Record<string, string | undefined> = {};

  const at = (minute: number) => new Date(Date.now() - (60 - minute) * 60_000).toISOString();
  const post = (org: TestOrg, id: string, body: Record<string, unknown>) =>
    org.api.post(`/v1/agri/batches/${id}/events`, { eventTime: new Date().toISOString(), locationId: org.locations.farm ?? org.locations.factory ?? org.locations.store, ...body });
  const subscribe = async (path: string, api: Api, events: string[]) => {
    const created = ok(await api.post('/v1/webhooks', { url: receiver.url(path), events }));
    secrets[path] = created.secret;
    hooks[path] = created.id;
  };
  const deliveries = async (api: Api, path: string) => ok(await api.get(`/v1/webhooks/${hooks[path]}/deliveries`), 200).items as any[];
  const lot = async (name: string) => ok(await F.api.post('/v1/agri/batches', aBatch(name, F.locations.farm)));
  const holdings = async (id: string) => ok(await F.api.get(`/v1/agri/batches/${id}`), 200).holdings as { orgId: string; quantity: number; inTransit: number }[];
  const capture = async (org: TestOrg, events: unknown[]) => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify({
        '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
        type: 'EPCISDocument',
        schemaVersion: '2.0',
        creationDate: new Date().toISOString(),
        epcisBody: { eventList: events },
      }),
    });
    if (r.status !== 202) throw new Error(`capture: ${r.status} ${await r.text()}`);
    const location = r.headers.get('location') as string;
    return eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
  };
  const ofType = (path: string, type: string, match: (data: any) => boolean) => receiver.at(path).filter((d) => d.body?.type === type && match(d.body.data));
  /** Waits for the deliveries of one event to a path; each must be signed with that subscription's secret. */
  const received = async (path: string, type: string, match: (data: any) => boolean, n = 1) => {
    const got = await receiver.until(() => ofType(path, type, match).length >= n && ofType(path, type, match));
    for (const d of got) expect(signedWith(d, secrets[path])).toBe(true);
    return got;
  };

  beforeAll(async () => {
    for (const [k, v] of Object.entries(FAST)) {
      before[k] = process.env[k];
      process.env[k] = v;
    }
    receiver = await new WebhookReceiver().start();
    t = await startEmbeddedApp();
    F = await anOrg(t, 'Ship Farm', 'producer', ['farm']);
    P = await anOrg(t, 'Ship Mill', 'processor', ['factory']);
    Q = await anOrg(t, 'Ship Bakery', 'processor', ['factory']);
    X = await anOrg(t, 'Ship Bystander', 'retailer', ['store']);
    regulator = t.as((await anOrg(t, 'Ship Market Supervision', 'regulator', [])).id, 'regulator');
    inspector = t.as((await anOrg(t, 'Ship Inspection Centre', 'inspection_agency', [])).id, 'inspector');
    await aProduct(F.api, 'agri', GRAIN, 'grain');
    await subscribe('/farm', F.api, ['shipment.incoming', 'batch.held']);
    await subscribe('/mill', P.api, ['shipment.incoming', 'batch.held']);
    await subscribe('/bakery', Q.api, ['shipment.incoming', 'batch.held', 'inspection.failed']);
    await subscribe('/bystander', X.api, ['shipment.incoming', 'batch.held', 'inspection.failed']);
    await subscribe('/regulator', regulator, ['shipment.incoming', 'batch.held']);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('risk.warning is accepted as a subscription (planned: nothing is sent for it yet)', async () => {
    const created = ok(await X.api.post('/v1/webhooks', { url: receiver.url('/risk'), events: ['risk.warning'] }));
    expect(created.events).toEqual(['risk.warning']);
    const docs = (await (await fetch(`${t.url}/docs-json`)).json()) as any;
    expect(docs.paths['/v1/webhooks'].post.description).toMatch(/Planned, nothing is sent yet: risk\.warning/);
  });

  it('a REST shipment is announced to its receiver (and regulators) once, with what is on its way; not to the sender or anyone else', async () => {
    const grain = await lot('SHIP-1');
    const shippedAt = at(1);
    const first = ok(await post(F, grain.id, { bizStep: 'shipping', eventTime: shippedAt, toOrgId: P.id, quantity: { value: 500, unit: 'kg' } }));
    const [toP] = await received('/mill', 'shipment.incoming', (d) => d.shipmentId === first.id);
    expect(toP.headers['x-trace-delivery']).toBe(toP.body.id);
    expect(toP.body).toEqual({
      id: expect.any(String),
      type: 'shipment.incoming',
      occurredAt: shippedAt,
      data: {
        shipmentId: first.id,
        domain: 'agri',
        batchId: grain.id,
        gtin: GRAIN,
        lot: 'SHIP-1',
        serial: false,
        quantity: 500,
        unit: 'kg',
        inTransit: 500,
        fromOrgId: F.id,
        toOrgId: P.id,
        toLocationId: null,
        disposition: 'in_transit',
        shippedAt,
        href: `/v1/agri/batches/${grain.id}`,
      },
    });
    const [toReg] = await received('/regulator', 'shipment.incoming', (d) => d.shipmentId === first.id);
    expect(toReg.body.data).toEqual(toP.body.data);

    // A second shipment before the first is received: its own delivery, and all 700 kg are to be expected.
    const second = ok(await post(F, grain.id, { bizStep: 'shipping', toOrgId: P.id, quantity: { value: 200, unit: 'kg' } }));
    const [again] = await received('/mill', 'shipment.incoming', (d) => d.shipmentId === second.id);
    expect(again.body.data).toMatchObject({ quantity: 200, inTransit: 700, fromOrgId: F.id });
    expect(again.body.id).not.toBe(toP.body.id);

    // Delivered once each (the log has one delivery per shipment, sent at the first try). The sender and the
    // organisations the goods do not go to had nothing written in the transactions that wrote P's deliveries.
    const log = await eventually(async () => {
      const items = await deliveries(P.api, '/mill');
      return items.length === 2 && items.every((i) => i.status === 'delivered') ? items : undefined;
    });
    expect(log.map((i) => [i.type, i.attemptCount, i.data.shipmentId]).sort()).toEqual(
      [['shipment.incoming', 1, first.id], ['shipment.incoming', 1, second.id]].sort(),
    );
    expect(ofType('/mill', 'shipment.incoming', (d) => d.batchId === grain.id)).toHaveLength(2);
    expect(await deliveries(F.api, '/farm')).toEqual([]);
    expect(await deliveries(Q.api, '/bakery')).toEqual([]);
    expect(await deliveries(X.api, '/bystander')).toEqual([]);
  });

  it('an EPCIS shipping captured with a destination of ours is announced to that organisation', async () => {
    const grain = await lot('SHIP-CAP');
    const job = await capture(F, [
      {
        type: 'ObjectEvent',
        action: 'OBSERVE',
        bizStep: 'shipping',
        eventTime: at(2),
        eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: `https://id.gs1.org/01/${GRAIN}/10/SHIP-CAP`, quantity: 100, uom: 'KGM' }],
        bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
        destinationList: [{ type: 'possessing_party', destination: `urn:uuid:${Q.id}` }],
      },
    ]);
    expect(job).toMatchObject({ success: true, errors: [] });
    const [toQ] = await received('/bakery', 'shipment.incoming', (d) => d.batchId === grain.id);
    expect(toQ.body.data).toMatchObject({ domain: 'agri', gtin: GRAIN, lot: 'SHIP-CAP', quantity: 100, inTransit: 100, fromOrgId: F.id, toOrgId: Q.id });
    expect(await deliveries(P.api, '/mill')).not.toContainEqual(expect.objectContaining({ data: expect.objectContaining({ batchId: grain.id }) }));
  });

  it('the EPCIS export of a REST shipping names shipper and receiver; captured again, it ships to that receiver', async () => {
    const grain = await lot('SHIP-EXPORT');
    const shipped = ok(await post(F, grain.id, { bizStep: 'shipping', eventTime: at(3), toOrgId: P.id, quantity: { value: 300, unit: 'kg' } }));
    const epcClass = `https://id.gs1.org/01/${GRAIN}/10/SHIP-EXPORT`;
    const parties = {
      sourceList: [
        { type: 'possessing_party', source: `urn:uuid:${F.id}` },
        { type: 'owning_party', source: `urn:uuid:${F.id}` },
      ],
      destinationList: [
        { type: 'possessing_party', destination: `urn:uuid:${P.id}` },
        { type: 'owning_party', destination: `urn:uuid:${P.id}` },
      ],
    };
    // For a partner (query answers, the export without include=chain) organisations without a GLN are opaque names,
    // never our ids (tests/integration/epcis-parties.int.ts has those with a GLN: PGLNs).
    const partnerParties = {
      sourceList: parties.sourceList.map((p) => ({ ...p, source: opaqueName('party', F.id) })),
      destinationList: parties.destinationList.map((p) => ({ ...p, destination: opaqueName('party', P.id) })),
    };
    // The query interface and the batch's export say the same, and name the event alike: by its event hash.
    const partnerExport = ok(await F.api.get(`/v1/agri/batches/${grain.id}/epcis`), 200).epcisBody.eventList as any[];
    const shippedId = partnerExport.find((e) => e.bizStep === 'shipping')?.eventID as string;
    expect(shippedId).toMatch(/^ni:\/\/\/sha-256;/);
    const answer = ok(await F.api.get(`/v1/epcis/events?EQ_bizStep=shipping&MATCH_epcClass=${encodeURIComponent(epcClass)}`), 200);
    expect(validateEpcis(answer)).toEqual([]);
    const queried = answer.epcisBody.queryResults.resultsBody.eventList;
    expect(queried).toEqual([expect.objectContaining({ eventID: shippedId, ...partnerParties })]);
    expect(partnerExport.find((e) => e.bizStep === 'shipping')).toMatchObject(partnerParties);
    // The same answer in EPCIS 2.0 XML is valid against GS1's query XSD and reads back with the parties.
    const xmlAnswer = await fetch(`${t.url}/v1/epcis/events?EQ_bizStep=shipping&MATCH_epcClass=${encodeURIComponent(epcClass)}`, {
      headers: { ...(await F.api.headers()), accept: 'application/xml' },
    });
    const xml = await xmlAnswer.text();
    const xsd = new XsdValidation();
    try {
      expect(await xsd.validate(xml, 'urn:epcglobal:epcis-query:xsd:2')).toEqual([]);
    } finally {
      await xsd.onModuleDestroy();
    }
    const fromXml = epcisDocumentFromXml(xml);
    expect(fromXml.errors).toEqual([]);
    expect(fromXml.document!.epcisBody.eventList).toEqual([expect.objectContaining(partnerParties)]);
    // …and a query by receiver (our id of it) finds it.
    const byReceiver = ok(await F.api.get(`/v1/epcis/events?MATCH_epcClass=${encodeURIComponent(epcClass)}&EQ_destination_possessing_party=${encodeURIComponent(`urn:uuid:${P.id}`)}`), 200);
    expect(byReceiver.epcisBody.queryResults.resultsBody.eventList.map((e: any) => e.eventID)).toEqual([shippedId]);
    const exported = ok(await F.api.get(`/v1/agri/batches/${grain.id}/epcis?include=chain`), 200).epcisBody.eventList as any[];
    // The round trip's form names them by our ids, as capture reads them.
    const shipping = exported.find((e) => e.eventID === `urn:uuid:${shipped.id}`);
    expect(shipping).toMatchObject(parties);
    expect(exported.find((e) => e.bizStep === 'commissioning')?.destinationList).toBeUndefined();

    // The exported event as another system would send it back (a new event: no id or carried link, another time and
    // quantity): capture reads its destination as the receiver, as it reads any partner's.
    const { eventID: _id, recordTime: _rt, 'trace:chain': _link, ...sent } = shipping;
    expect(await capture(F, [{ ...sent, eventTime: at(4), quantityList: [{ epcClass, quantity: 50, uom: 'KGM' }] }])).toMatchObject({ success: true, errors: [] });
    expect(await holdings(grain.id)).toEqual(
      expect.arrayContaining([
        { orgId: F.id, quantity: 850, inTransit: 0 },
        { orgId: P.id, quantity: 0, inTransit: 350 },
      ]),
    );
  });

  it('a return under a recall is a shipment to the organisation it goes back to (disposition returned)', async () => {
    const grain = await lot('SHIP-RETURN');
    ok(await post(F, grain.id, { bizStep: 'shipping', toOrgId: P.id, quantity: { value: 400, unit: 'kg' } }));
    ok(await post(P, grain.id, { bizStep: 'receiving' }));
    await eventually(async () => {
      const tr = await regulator.get(`/v1/trace/agri/${grain.id}?direction=downstream`);
      return tr.status === 200 && tr.body.nodes.some((n: { batchId: string }) => n.batchId === grain.id);
    }, 20_000);
    ok(await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: grain.id }], level: 2, reason: 'Aflatoxin B1 above the limit' }));
    await eventually(async () => ((await F.api.get(`/v1/agri/batches/${grain.id}`)).body.status === 'recalled' ? true : undefined), 20_000);
    const back = ok(await post(P, grain.id, { bizStep: 'shipping', disposition: 'returned', toOrgId: F.id, quantity: { value: 150, unit: 'kg' } }));
    const [toF] = await received('/farm', 'shipment.incoming', (d) => d.shipmentId === back.id);
    expect(toF.body.data).toMatchObject({ batchId: grain.id, lot: 'SHIP-RETURN', quantity: 150, inTransit: 150, fromOrgId: P.id, toOrgId: F.id, disposition: 'returned' });
  });

  it('a failed sample puts the batch on hold: batch.held to every organisation holding part of it and regulators, once', async () => {
    const grain = await lot('HOLD-1');
    ok(await post(F, grain.id, { bizStep: 'shipping', toOrgId: P.id, quantity: { value: 500, unit: 'kg' } }));
    ok(await post(P, grain.id, { bizStep: 'receiving' }));
    ok(await post(F, grain.id, { bizStep: 'shipping', toOrgId: Q.id, quantity: { value: 400, unit: 'kg' } }));
    const sample = (reportNo: string) => ({
      reportNo,
      sampledAt: new Date(Date.now() - 86_400_000).toISOString(),
      agency: 'Provincial Agricultural Product Quality Inspection Centre',
      items: [{ name: 'chlorpyrifos residue', value: 0.12, unit: 'mg/kg', limit: 0.05, result: 'fail' }],
      conclusion: 'fail',
    });
    const failed = ok(await inspector.post(`/v1/agri/batches/${grain.id}/inspections`, sample('SJ-HOLD-1')));
    expect(failed.batchStatus).toBe('held');

    // The farm keeps 300 kg, the mill received 500, 400 are on their way to the bakery: all three hear it.
    const ofIt = (d: any) => d.batchId === grain.id;
    const [toF] = await received('/farm', 'batch.held', ofIt);
    await received('/mill', 'batch.held', ofIt);
    await received('/bakery', 'batch.held', ofIt);
    await received('/regulator', 'batch.held', ofIt);
    expect(toF.body).toEqual({
      id: expect.any(String),
      type: 'batch.held',
      occurredAt: expect.any(String),
      data: {
        domain: 'agri',
        batchId: grain.id,
        gtin: GRAIN,
        lot: 'HOLD-1',
        status: 'held',
        cause: 'inspection.failed',
        inspectionId: failed.id,
        reportNo: 'SJ-HOLD-1',
        retestDeadline: failed.retestDeadline,
        href: `/v1/agri/batches/${grain.id}`,
      },
    });
    // The bakery, with only goods in transit, is told of the failed sample too.
    await received('/bakery', 'inspection.failed', (d) => d.inspectionId === failed.id);

    // A second failed sample of the held batch: a new inspection.failed, but the batch was held already.
    const second = ok(await inspector.post(`/v1/agri/batches/${grain.id}/inspections`, sample('SJ-HOLD-2')));
    await received('/bakery', 'inspection.failed', (d) => d.inspectionId === second.id);
    const bakeryLog = await deliveries(Q.api, '/bakery');
    expect(bakeryLog.filter((i) => i.type === 'batch.held' && i.data.batchId === grain.id).map((i) => i.data.inspectionId)).toEqual([failed.id]);
    expect(bakeryLog.filter((i) => i.type === 'inspection.failed' && i.data.batchId === grain.id)).toHaveLength(2);
    const held = await eventually(async () => {
      const items = (await deliveries(F.api, '/farm')).filter((i) => i.type === 'batch.held');
      return items.length > 0 && items.every((i) => i.status === 'delivered') ? items : undefined;
    });
    expect(held.map((i) => [i.data.inspectionId, i.attemptCount])).toEqual([[failed.id, 1]]);
    // Someone holding nothing of it hears neither.
    expect((await deliveries(X.api, '/bystander')).filter((i) => i.data.batchId === grain.id)).toEqual([]);
  });
});
