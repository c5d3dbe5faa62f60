import { validateEpcis } from '@trace/epcis';
import { eventually } from '@trace/testing';
import { ServiceCredentials } from '@trace/platform';
import { aProduct, Api } from '../support/api';
import { startDistributed, type DistributedDeployment } from '../support/distributed';

/**
 * EPCIS in distributed mode: the epcis service writes captured events onto the
 * agri and food services' chains over HTTP, their outboxes carry them over
 * Kafka, and lineage and the public scan see them like any other event.
 */
describe('EPCIS capture over Kafka (distributed mode)', () => {
  let d: DistributedDeployment | undefined;

  afterAll(async () => {
    await d?.stop();
  });

  it('captured events reach lineage and the scan; the query and export answer through the gateway', async () => {
    d = await startDistributed(['agri', 'food', 'lineage', 'epcis'], 'e2eep');
    const admin = d.as('platform', 'admin');
    const org = (await admin.post('/v1/orgs', { name: 'EPCIS Mill', kind: 'processor' })).body;
    const api = d.as(org.id, 'operator');
    await aProduct(api, 'agri', '09506000134352', 'grain');
    await aProduct(api, 'food', '04012345000016', 'flour');
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2026-11-20T08:00:00.000Z',
      epcisBody: {
        eventList: [
          {
            type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active',
            eventTime: '2026-11-20T08:00:00.000+08:00', eventTimeZoneOffset: '+08:00',
            quantityList: [{ epcClass: 'urn:epc:class:lgtin:9506000.013435.KAFKA-GRAIN', quantity: 1000, uom: 'KGM' }],
            bizLocation: { id: 'urn:epc:id:sgln:9506000.13435.0' },
          },
          {
            type: 'TransformationEvent', bizStep: 'commissioning',
            eventTime: '2026-11-21T08:00:00.000+08:00', eventTimeZoneOffset: '+08:00',
            inputQuantityList: [{ epcClass: 'https://id.gs1.org/01/09506000134352/10/KAFKA-GRAIN', quantity: 500, uom: 'KGM' }],
            outputQuantityList: [{ epcClass: 'https://id.gs1.org/01/04012345000016/10/KAFKA-FLOUR', quantity: 450, uom: 'KGM' }],
            bizLocation: { id: 'urn:epc:id:sgln:9506000.13435.0' },
          },
        ],
      },
    };
    const r = await fetch(`${d.gateway.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify(doc),
    });
    expect(r.status).toBe(202);
    const location = r.headers.get('location') as string;
    const job = await eventually(async () => {
      const j = await api.get(location);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [], progress: { total: 2, done: 2 } });

    // The public scan (gateway → food, lineage) shows the flour lot made from the grain lot.
    const scan = await eventually(async () => {
      const s = await new Api(d!.gateway.url).get('/01/04012345000016/10/KAFKA-FLOUR');
      return s.status === 200 && s.body.madeFrom?.length ? s.body : undefined;
    }, 60_000);
    expect(scan.batch).toMatchObject({ domain: 'food', lot: 'KAFKA-FLOUR' });
    expect(scan.madeFrom).toEqual([expect.objectContaining({ domain: 'agri', lot: 'KAFKA-GRAIN' })]);
    // The public scan shows no internal ids; the food service's own view (not routed by the gateway, for services only) has it.
    const internal = await fetch(`${d.services.food!.url}/internal/v1/food/public/04012345000016/KAFKA-FLOUR`, {
      headers: await new ServiceCredentials(d.secret).header('test'),
    });
    expect(internal.status).toBe(200);
    const flourId = ((await internal.json()) as { batch: { id: string } }).batch.id;
    // Lineage reads the batch, event and transformation topics independently: ask until the edge is in and the
    // grain's registration too (the edge may come first: its input is then a placeholder node until then).
    const trace = await eventually(async () => {
      const t = await api.get(`/v1/trace/food/${flourId}?direction=upstream`);
      return t.status === 200 && t.body.nodes.some((n: any) => n.domain === 'agri' && n.registered) ? t : undefined;
    }, 60_000);
    expect(trace.body.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ domain: 'agri', lot: 'KAFKA-GRAIN' })]));

    // A lot is a class (quantity lists): MATCH_anyEPCClass, as EPCIS says (MATCH_anyEPC looks at EPC lists only).
    const events = await api.get('/v1/epcis/events?MATCH_anyEPCClass=https://id.gs1.org/01/09506000134352/10/KAFKA-GRAIN');
    expect(events.status).toBe(200);
    expect(validateEpcis(events.body)).toEqual([]);
    expect(events.body.epcisBody.queryResults.resultsBody.eventList.map((e: any) => e.type)).toEqual(['ObjectEvent', 'TransformationEvent']);
    const exported = await api.get(`/v1/food/batches/${flourId}/epcis`);
    expect(exported.status).toBe(200);
    expect(validateEpcis(exported.body)).toEqual([]);
  }, 240_000);
});
