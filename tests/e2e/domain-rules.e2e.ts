import { Client } from 'pg';
import { generateDrugTraceCode } from '@trace/gs1';
import { eventually, testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { aBatch, aProduct, Api } from '../support/api';

const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const now = () => new Date().toISOString();

/**
 * The domain rules in distributed mode: agri, drug and the gateway as their
 * own processes, Kafka between them (KAFKA_BROKERS, or a private
 * Kafka-protocol mock cluster). Certificates and releases are announced on
 * trace.certificate.v1 through each service's outbox.
 */
describe('domain rules, distributed (agri, drug, gateway over Kafka)', () => {
  let d: DistributedDeployment | undefined;
  let prefix = '';

  afterAll(async () => {
    await d?.stop();
  });

  const sentCertificateEvents = async (service: string) => {
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const r = await client.query(
        `SELECT count(*)::int AS n FROM ${prefix}${service}.outbox WHERE event_type = 'trace.v1.CertificateIssued' AND sent_at IS NOT NULL`,
      );
      return r.rows[0].n as number;
    } finally {
      await client.end();
    }
  };

  it('certificate before shipping, public verification, vaccine release, dispense once — through the gateway', async () => {
    d = await startDistributed(['agri', 'drug'], 'e2edr');
    ({ prefix } = d);
    const { gateway, secret } = d;

    const admin = new Api(gateway.url).as(secret, 'platform', 'admin');
    const anOrg = async (name: string, kind: string, locationKind: string) => {
      const org = (await admin.post('/v1/orgs', { name, kind })).body;
      const api = new Api(gateway.url).as(secret, org.id, 'operator');
      const location = (await api.post('/v1/locations', { name: `${name} ${locationKind}`, kind: locationKind })).body;
      return { id: org.id as string, api, locationId: location.id as string };
    };
    const farm = await anOrg('Green Farm', 'producer', 'farm');
    const market = await anOrg('Fresh Market', 'retailer', 'store');
    const maker = await anOrg('Vaccine Maker', 'producer', 'factory');
    const pharmacy = await anOrg('Corner Pharmacy', 'pharmacy', 'pharmacy');
    const regulator = new Api(gateway.url).as(secret, 'nmpa', 'regulator');
    const ship = (o: { api: Api; locationId: string }, domain: string, id: string, toOrgId: string) =>
      o.api.post(`/v1/${domain}/batches/${id}/events`, { bizStep: 'shipping', eventTime: now(), locationId: o.locationId, toOrgId });

    // agri: no certificate, no shipping; the certificate verifies publicly through the gateway.
    await aProduct(farm.api, 'agri', '09506000134352', 'vegetable');
    const veg = (await farm.api.post('/v1/agri/batches', aBatch('E2E-VEG-1', farm.locationId))).body;
    const refused = await ship(farm, 'agri', veg.id, market.id);
    expect([refused.status, refused.body.type]).toEqual([409, problem('certificate-required')]);
    const cert = await farm.api.post(`/v1/agri/batches/${veg.id}/certificate`, {
      commitments: ['no_banned_substances', 'withdrawal_periods_respected', 'residues_within_limits'],
      basis: 'entrusted_test',
      contact: '13800138000',
      origin: 'Shouguang, Shandong',
    });
    expect(cert.status).toBe(201);
    const verified = await new Api(gateway.url).get(cert.body.qrLink);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ status: 'valid', batch: { gtin: '09506000134352', lot: 'E2E-VEG-1' }, producer: { name: 'Green Farm' } });
    expect((await ship(farm, 'agri', veg.id, market.id)).status).toBe(201);

    // drug: a vaccine batch ships after its release; a code dispenses once.
    expect(
      (await maker.api.post('/v1/drug/products', { gtin: '05012345678900', name: 'Vaccine', category: 'vaccine', attributes: { drugProductCode: '8123456' } }))
        .status,
    ).toBe(201);
    const vac = (
      await maker.api.post('/v1/drug/batches', {
        ...aBatch('E2E-VAC-1', maker.locationId),
        gtin: '05012345678900',
        quantity: { value: 100, unit: 'box' },
        expiresAt: '2030-01-01T00:00:00+08:00',
      })
    ).body;
    const code = generateDrugTraceCode('8123456', '000000042');
    expect((await maker.api.post(`/v1/drug/batches/${vac.id}/codes`, { codes: [code] })).status).toBe(201);
    const early = await ship(maker, 'drug', vac.id, pharmacy.id);
    expect([early.status, early.body.type]).toEqual([409, problem('batch-release-required')]);
    expect((await regulator.post(`/v1/drug/batches/${vac.id}/release`, {})).status).toBe(201);
    expect((await ship(maker, 'drug', vac.id, pharmacy.id)).status).toBe(201);
    const received = await pharmacy.api.post(`/v1/drug/batches/${vac.id}/events`, { bizStep: 'receiving', eventTime: now(), locationId: pharmacy.locationId });
    expect(received.status).toBe(201);
    expect((await new Api(gateway.url).post('/v1/drug/verify', { code })).body.status).toBe('VERIFIED');
    expect((await pharmacy.api.post('/v1/drug/dispense', { code })).status).toBe(201);
    const twice = await pharmacy.api.post('/v1/drug/dispense', { code });
    expect([twice.status, twice.body.type]).toEqual([409, problem('code-dispensed')]);
    expect((await new Api(gateway.url).post('/v1/drug/verify', { code })).body.status).toBe('DISPENSED');

    // Both certificates left their outboxes for the broker.
    await eventually(async () => (await sentCertificateEvents('agri')) === 1 && (await sentCertificateEvents('drug')) === 1, 30_000);
  });
});
