import { decodeEnvelope } from '@trace/contracts';
import { generateDrugTraceCode } from '@trace/gs1';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const now = () => new Date().toISOString();
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;
const statusAndType = (r: { status: number; body: any }) => [r.status, r.body?.type];

const VEG = '09506000134352';
const GRAIN = '04012345000016';
const SAUCE = '00012345600012';
const VACCINE = '05012345678900';
const TABLET = '00614141000012';
const CEMENT = '04006381333931';
const TOY = '09780201379624';
const SHIRT = '05000112637922';

const certificate = {
  commitments: ['no_banned_substances', 'withdrawal_periods_respected', 'residues_within_limits'],
  basis: 'self_test',
  contact: '+86 138 0013 8000',
  origin: 'Shouguang, Shandong',
};

/** The rules of each domain, through the public API of the embedded app. */
describe('domain rules (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let maker: TestOrg;
  let distributor: TestOrg;
  let pharmacy: TestOrg;
  let plant: TestOrg;
  let builder: TestOrg;
  let brand: TestOrg;
  let regulator: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Green Farm', 'producer', ['farm']);
    maker = await anOrg(t, 'Sauce Works', 'processor', ['factory']);
    distributor = await anOrg(t, 'Pharma Logistics', 'distributor', ['warehouse']);
    pharmacy = await anOrg(t, 'Corner Pharmacy', 'pharmacy', ['pharmacy']);
    plant = await anOrg(t, 'Cement Plant', 'producer', ['factory']);
    builder = await anOrg(t, 'City Builders', 'construction_company', ['construction_site', 'warehouse']);
    brand = await anOrg(t, 'Toy Brand', 'producer', ['factory']);
    regulator = t.as('nmpa', 'regulator');
    await aProduct(farm.api, 'agri', VEG, 'vegetable');
    await aProduct(farm.api, 'agri', GRAIN, 'grain');
    await aProduct(maker.api, 'food', SAUCE, 'sauce');
    await aProduct(plant.api, 'material', CEMENT, 'cement');
    await aProduct(brand.api, 'goods', TOY, 'toy');
    await aProduct(brand.api, 'goods', SHIRT, 'clothing');
  });
  afterAll(async () => {
    await t?.close();
  });

  const register = async (org: TestOrg, domain: string, gtin: string, lot: string, extra: Record<string, unknown> = {}) => {
    const locationId = Object.values(org.locations)[0]!;
    const r = await org.api.post(`/v1/${domain}/batches`, { ...aBatch(lot, locationId), gtin, ...extra });
    if (r.status !== 201) throw new Error(`${domain} ${lot}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { id: string; lot: string; gtin: string };
  };
  const event = (org: TestOrg, domain: string, id: string, body: Record<string, unknown>) =>
    org.api.post(`/v1/${domain}/batches/${id}/events`, { eventTime: now(), locationId: Object.values(org.locations)[0], ...body });
  const ship = (from: TestOrg, to: TestOrg, domain: string, id: string, extra: Record<string, unknown> = {}) =>
    event(from, domain, id, { bizStep: 'shipping', toOrgId: to.id, ...extra });
  const receive = async (to: TestOrg, domain: string, id: string) => {
    const r = await event(to, domain, id, { bizStep: 'receiving' });
    expect(r.status).toBe(201);
  };

  // ------------------------------------------------------------------ agri

  describe('agri: commitment-to-compliance certificate', () => {
    it('an agri vegetable batch cannot ship without a certificate; with one it can, and the certificate verifies publicly', async () => {
      const b = await register(farm, 'agri', VEG, 'VEG-1');
      const refused = await ship(farm, maker, 'agri', b.id);
      expect(statusAndType(refused)).toEqual([409, problem('certificate-required')]);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.body.detail).toMatch(/certificate/);

      const issued = await farm.api.post(`/v1/agri/batches/${b.id}/certificate`, certificate);
      expect(issued.status).toBe(201);
      expect(issued.body).toMatchObject({
        number: expect.stringMatching(/^AC\d{8}-[0-9A-Z]{8}$/),
        issuedAt: expect.any(String),
        batchId: b.id,
        qrLink: `/v1/certificates/${issued.body.number}`,
      });

      // Public: no token.
      const verified = await t.anonymous.get(issued.body.qrLink);
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({
        number: issued.body.number,
        status: 'valid',
        issuedAt: issued.body.issuedAt,
        batch: { gtin: VEG, lot: 'VEG-1' },
        product: { name: `Product ${VEG}`, category: 'vegetable' },
        quantity: { value: 1200, unit: 'kg' },
        producer: { name: 'Green Farm' },
        origin: certificate.origin,
        basis: 'self_test',
        commitments: certificate.commitments,
      });
      // The public page of a certificate carries no internal ids (the consumer scan links to it).
      expect(JSON.stringify(verified.body)).not.toContain(b.id);
      expect(JSON.stringify(verified.body)).not.toContain(farm.id);

      // Announced through the outbox, in the same transaction.
      const rows = await t.query<{ payload: Buffer }>(`SELECT payload FROM ${t.prefix}agri.outbox WHERE event_type = $1`, ['trace.v1.CertificateIssued']);
      const found = rows.map((r) => decodeEnvelope(r.payload).payload).find((p) => p.case === 'certificateIssued' && p.value.number === issued.body.number);
      expect(found?.value).toMatchObject({ kind: 'agri_compliance', issuerOrgId: farm.id, batch: { batchId: b.id } });

      expect((await ship(farm, maker, 'agri', b.id)).status).toBe(201);
    });

    it('a grain batch ships without a certificate', async () => {
      const b = await register(farm, 'agri', GRAIN, 'GRAIN-1');
      expect((await ship(farm, maker, 'agri', b.id)).status).toBe(201);
    });

    it('issues one certificate per batch, only by its holder, and refuses malformed requests', async () => {
      const b = await register(farm, 'agri', VEG, 'VEG-2');
      const foreign = await maker.api.post(`/v1/agri/batches/${b.id}/certificate`, certificate);
      expect(foreign.status).toBe(404); // not its batch: does not exist for it
      const badBasis = await farm.api.post(`/v1/agri/batches/${b.id}/certificate`, { ...certificate, basis: 'trust_me' });
      expect(badBasis.status).toBe(400);
      const badPhone = await farm.api.post(`/v1/agri/batches/${b.id}/certificate`, { ...certificate, contact: 'ring the bell' });
      expect(statusAndType(badPhone)).toEqual([400, problem('certificate-contact')]);
      expect(badPhone.body.errors).toEqual([{ field: 'contact', message: expect.any(String) }]);
      expect((await farm.api.post(`/v1/agri/batches/${b.id}/certificate`, certificate)).status).toBe(201);
      const again = await farm.api.post(`/v1/agri/batches/${b.id}/certificate`, certificate);
      expect(statusAndType(again)).toEqual([409, problem('certificate-exists')]);
      expect((await farm.api.get(`/v1/agri/batches/${b.id}/certificate`)).body).toMatchObject({ batch: { id: b.id }, status: 'valid' });
    });

    it('answers 404 for an unknown certificate and 400 for a malformed number', async () => {
      expect((await t.anonymous.get('/v1/certificates/AC20260101-00000000')).status).toBe(404);
      expect(statusAndType(await t.anonymous.get('/v1/certificates/not-a-number'))).toEqual([400, problem('certificate-number')]);
    });

    it('a lot mixed from certified lots needs its own certificate', async () => {
      const a = await register(farm, 'agri', VEG, 'VEG-A');
      const c = await register(farm, 'agri', VEG, 'VEG-C');
      for (const x of [a, c]) expect((await farm.api.post(`/v1/agri/batches/${x.id}/certificate`, certificate)).status).toBe(201);
      const mixed = await register(farm, 'agri', VEG, 'VEG-MIX', {
        quantity: { value: 200, unit: 'kg' },
        inputs: [
          { domain: 'agri', batchId: a.id, quantity: { value: 100, unit: 'kg' } },
          { domain: 'agri', batchId: c.id, quantity: { value: 100, unit: 'kg' } },
        ],
      });
      expect(statusAndType(await ship(farm, maker, 'agri', mixed.id))).toEqual([409, problem('certificate-required')]);
      expect((await farm.api.post(`/v1/agri/batches/${mixed.id}/certificate`, certificate)).status).toBe(201);
      expect((await ship(farm, maker, 'agri', mixed.id)).status).toBe(201);
    });
  });

  // ------------------------------------------------------------------ food

  describe('food: ingredients from agri or food batches', () => {
    it('makes a food batch from an agri lot, consuming it, refuses more than it holds, and refuses a non-food input', async () => {
      const veg = await register(farm, 'agri', VEG, 'VEG-FOOD');
      expect((await farm.api.post(`/v1/agri/batches/${veg.id}/certificate`, certificate)).status).toBe(201);
      expect((await ship(farm, maker, 'agri', veg.id)).status).toBe(201);
      await receive(maker, 'agri', veg.id);

      const sauce = await maker.api.post('/v1/food/batches', {
        ...aBatch('SAUCE-1', maker.locations.factory),
        gtin: SAUCE,
        quantity: { value: 400, unit: 'jar' },
        inputs: [{ domain: 'agri', batchId: veg.id, quantity: { value: 1000, unit: 'kg' } }],
      });
      expect(sauce.status).toBe(201);
      expect((await maker.api.get(`/v1/agri/batches/${veg.id}`)).body).toMatchObject({
        quantity: { value: 1200, unit: 'kg' },
        remaining: { value: 200, unit: 'kg' },
        holdings: [{ orgId: maker.id, quantity: 200, inTransit: 0 }],
      });

      const tooMuch = await maker.api.post('/v1/food/batches', {
        ...aBatch('SAUCE-2', maker.locations.factory),
        gtin: SAUCE,
        quantity: { value: 400, unit: 'jar' },
        inputs: [{ domain: 'agri', batchId: veg.id, quantity: { value: 201, unit: 'kg' } }],
      });
      expect(statusAndType(tooMuch)).toEqual([409, problem('insufficient-quantity')]);
      expect((await maker.api.get(`/v1/agri/batches/${veg.id}`)).body).toMatchObject({
        quantity: { value: 1200, unit: 'kg' },
        remaining: { value: 200, unit: 'kg' },
        holdings: [{ orgId: maker.id, quantity: 200, inTransit: 0 }],
      });
      expect((await maker.api.get(`/v1/food/batches/${sauce.body.id}/events`)).body[0]).toMatchObject({
        bizStep: 'transforming',
        inputs: [{ domain: 'agri', batchId: veg.id, quantity: { value: 1000, unit: 'kg' } }],
      });

      // A food batch from a food batch: allowed, and consumes it too.
      const meal = await maker.api.post('/v1/food/batches', {
        ...aBatch('MEAL-1', maker.locations.factory),
        gtin: SAUCE,
        quantity: { value: 100, unit: 'jar' },
        inputs: [{ domain: 'food', batchId: sauce.body.id, quantity: { value: 100, unit: 'jar' } }],
      });
      expect(meal.status).toBe(201);
      expect((await maker.api.get(`/v1/food/batches/${sauce.body.id}`)).body.remaining).toEqual({ value: 300, unit: 'jar' });

      // A building material is no ingredient: refused before anything is taken.
      const cement = await register(plant, 'material', CEMENT, 'CEM-FOOD', { attributes: { standard: 'GB 175-2023', grade: 'P·O 42.5' } });
      const notFood = await maker.api.post('/v1/food/batches', {
        ...aBatch('SAUCE-3', maker.locations.factory),
        gtin: SAUCE,
        inputs: [{ domain: 'material', batchId: cement.id, quantity: { value: 1, unit: 'kg' } }],
      });
      expect(statusAndType(notFood)).toEqual([422, problem('food-input-domain')]);
      expect((await plant.api.get(`/v1/material/batches/${cement.id}`)).body.chainLength).toBe(1);
    });
  });

  // ------------------------------------------------------------------ drug

  describe('drug: unit codes, dispensing, batch release', () => {
    const cn = (serial: string) => generateDrugTraceCode('8123456', serial);

    beforeAll(async () => {
      for (const [gtin, category] of [
        [VACCINE, 'vaccine'],
        [TABLET, 'tablet'],
      ]) {
        const r = await maker.api.post('/v1/drug/products', { gtin, name: `Drug ${gtin}`, category, attributes: { drugProductCode: '8123456' } });
        expect(r.status).toBe(201);
      }
    });
    const drugBatch = (lot: string, gtin = TABLET, expiresAt = '2030-01-01T00:00:00+08:00') =>
      register(maker, 'drug', gtin, lot, { quantity: { value: 100, unit: 'box' }, expiresAt });

    it('a drug code verifies publicly, dispenses once, and a second dispense is refused', async () => {
      const b = await drugBatch('TAB-1');
      const codes = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000001'), cn('000000002')] });
      expect(codes.status).toBe(201);
      expect(codes.body).toMatchObject({ batchId: b.id, registered: 2 });
      const generated = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { count: 3 });
      expect(generated.status).toBe(201);
      expect(generated.body.codes).toHaveLength(3);
      for (const c of generated.body.codes) expect(c).toMatch(/^8123456\d{13}$/);

      const verified = await t.anonymous.post('/v1/drug/verify', { code: cn('000000001') });
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ status: 'VERIFIED', batch: { id: b.id, gtin: TABLET, lot: 'TAB-1', status: 'active' } });
      expect((await t.anonymous.post('/v1/drug/verify', { code: cn('999999999') })).body).toMatchObject({ status: 'UNKNOWN', batch: null });
      const badCheck = await t.anonymous.post('/v1/drug/verify', { code: cn('000000001').slice(0, 16) + '0000' });
      expect(statusAndType(badCheck)).toEqual([400, problem('unit-code-check')]);

      expect((await ship(maker, pharmacy, 'drug', b.id)).status).toBe(201);
      await receive(pharmacy, 'drug', b.id);

      const first = await pharmacy.api.post('/v1/drug/dispense', { code: cn('000000001') });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ code: cn('000000001'), batchId: b.id, status: 'DISPENSED' });
      const second = await pharmacy.api.post('/v1/drug/dispense', { code: cn('000000001') });
      expect(statusAndType(second)).toEqual([409, problem('code-dispensed')]);
      expect((await t.anonymous.post('/v1/drug/verify', { code: cn('000000001') })).body.status).toBe('DISPENSED');
      const chain = (await pharmacy.api.get(`/v1/drug/batches/${b.id}/events`)).body;
      expect(chain.filter((e: { bizStep: string }) => e.bizStep === 'dispensing')).toEqual([
        expect.objectContaining({ disposition: 'partially_dispensed', epcList: [cn('000000001')], orgId: pharmacy.id }),
      ]);
      expect((await pharmacy.api.get(`/v1/drug/batches/${b.id}`)).body.status).toBe('active');

      // Codes are registered by the organisation holding the batch.
      const former = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000003')] });
      expect(statusAndType(former)).toEqual([403, problem('not-the-holder')]);
    });

    it('refuses registering a code twice or of another product, and dispensing by a non-dispenser or of an unknown code', async () => {
      const b = await drugBatch('TAB-2');
      expect((await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000101')] })).status).toBe(201);
      const dup = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000101')] });
      expect(statusAndType(dup)).toEqual([409, problem('duplicate-code')]);
      const other = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [generateDrugTraceCode('7000000', '000000001')] });
      expect(statusAndType(other)).toEqual([422, problem('code-product-mismatch')]);
      const both = await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000102')], count: 2 });
      expect(statusAndType(both)).toEqual([400, problem('codes-or-count')]);

      expect((await ship(maker, distributor, 'drug', b.id)).status).toBe(201);
      await receive(distributor, 'drug', b.id);
      const notADispenser = await distributor.api.post('/v1/drug/dispense', { code: cn('000000101') });
      expect(statusAndType(notADispenser)).toEqual([403, problem('dispenser-kind')]);
      const unknown = await pharmacy.api.post('/v1/drug/dispense', { code: cn('999999998') });
      expect(statusAndType(unknown)).toEqual([422, problem('unknown-code')]);
    });

    it('a recalled code cannot be dispensed and verifies as RECALLED', async () => {
      const b = await drugBatch('TAB-3');
      expect((await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000201')] })).status).toBe(201);
      expect((await ship(maker, pharmacy, 'drug', b.id)).status).toBe(201);
      await receive(pharmacy, 'drug', b.id);
      expect((await event(pharmacy, 'drug', b.id, { bizStep: 'holding', disposition: 'recalled' })).status).toBe(201);
      const refused = await pharmacy.api.post('/v1/drug/dispense', { code: cn('000000201') });
      expect(statusAndType(refused)).toEqual([409, problem('batch-recalled')]);
      expect((await t.anonymous.post('/v1/drug/verify', { code: cn('000000201') })).body.status).toBe('RECALLED');
    });

    it('an expired code verifies as EXPIRED and cannot be dispensed', async () => {
      const b = await register(maker, 'drug', TABLET, 'TAB-OLD', {
        quantity: { value: 10, unit: 'box' },
        producedAt: '2020-01-01T00:00:00+08:00',
        expiresAt: '2021-01-01T00:00:00+08:00',
      });
      expect((await maker.api.post(`/v1/drug/batches/${b.id}/codes`, { codes: [cn('000000301')] })).status).toBe(201);
      expect((await t.anonymous.post('/v1/drug/verify', { code: cn('000000301') })).body.status).toBe('EXPIRED');
      expect((await ship(maker, pharmacy, 'drug', b.id)).status).toBe(201);
      await receive(pharmacy, 'drug', b.id);
      expect(statusAndType(await pharmacy.api.post('/v1/drug/dispense', { code: cn('000000301') }))).toEqual([409, problem('batch-expired')]);
    });

    it('a vaccine batch cannot ship before its release by the regulator, and can after', async () => {
      const b = await drugBatch('VAC-1', VACCINE);
      const early = await ship(maker, pharmacy, 'drug', b.id);
      expect(statusAndType(early)).toEqual([409, problem('batch-release-required')]);

      const byOperator = await maker.api.post(`/v1/drug/batches/${b.id}/release`, {});
      expect(byOperator.status).toBe(403);
      const release = await regulator.post(`/v1/drug/batches/${b.id}/release`, { number: 'BR2026-000123' });
      expect(release.status).toBe(201);
      expect(release.body).toMatchObject({ batchId: b.id, number: 'BR2026-000123', releasedBy: 'nmpa', releasedAt: expect.any(String) });
      expect(statusAndType(await regulator.post(`/v1/drug/batches/${b.id}/release`, {}))).toEqual([409, problem('already-released')]);
      expect((await maker.api.get(`/v1/drug/batches/${b.id}/release`)).body).toMatchObject({ number: 'BR2026-000123' });

      expect((await ship(maker, pharmacy, 'drug', b.id)).status).toBe(201);
    });

    it('a tablet batch needs no release', async () => {
      const b = await drugBatch('TAB-4');
      expect((await ship(maker, pharmacy, 'drug', b.id)).status).toBe(201);
    });
  });

  // -------------------------------------------------------------- material

  describe('material: standard, grade and installations', () => {
    const attrs = { standard: 'GB 175-2023', grade: 'P·O 42.5' };

    it('refuses a batch without standard or grade, naming the rule', async () => {
      const noStandard = await plant.api.post('/v1/material/batches', { ...aBatch('CEM-X', plant.locations.factory), gtin: CEMENT, attributes: { grade: 'P·O 42.5' } });
      expect(statusAndType(noStandard)).toEqual([422, problem('standard-required')]);
      expect(noStandard.body.errors).toEqual([{ field: 'attributes.standard', message: expect.any(String) }]);
      const noGrade = await plant.api.post('/v1/material/batches', { ...aBatch('CEM-X', plant.locations.factory), gtin: CEMENT, attributes: { standard: 'GB 175-2023' } });
      expect(statusAndType(noGrade)).toEqual([422, problem('grade-required')]);
      const none = await plant.api.post('/v1/material/batches', { ...aBatch('CEM-X', plant.locations.factory), gtin: CEMENT });
      expect(statusAndType(none)).toEqual([422, problem('standard-required')]);
    });

    it('records where the material was installed when shipped to a construction site, and lists it', async () => {
      const b = await register(plant, 'material', CEMENT, 'CEM-1', { quantity: { value: 40, unit: 't' }, attributes: attrs });
      expect((await plant.api.get(`/v1/material/batches/${b.id}`)).body.attributes).toEqual(attrs);
      const shipped = await ship(plant, builder, 'material', b.id, { toLocationId: builder.locations.construction_site, quantity: { value: 30, unit: 't' } });
      expect(shipped.status).toBe(201);

      const list = await plant.api.get(`/v1/material/batches/${b.id}/installations`);
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ batchId: b.id, sites: 1, totalInstalled: 30 });
      expect(list.body.installations).toEqual([
        expect.objectContaining({
          site: expect.objectContaining({ locationId: builder.locations.construction_site, orgId: builder.id, name: 'City Builders construction_site' }),
          quantity: { value: 30, unit: 't' },
          eventId: shipped.body.id,
        }),
      ]);
      expect((await regulator.get(`/v1/material/batches/${b.id}/installations`)).body.installations).toHaveLength(1);
      expect((await farm.api.get(`/v1/material/batches/${b.id}/installations`)).status).toBe(404);
    });

    it('records no installation for a shipment to a warehouse', async () => {
      const b = await register(plant, 'material', CEMENT, 'CEM-2', { quantity: { value: 40, unit: 't' }, attributes: attrs });
      expect((await ship(plant, builder, 'material', b.id, { toLocationId: builder.locations.warehouse })).status).toBe(201);
      expect((await plant.api.get(`/v1/material/batches/${b.id}/installations`)).body).toMatchObject({ installations: [], sites: 0 });
    });
  });

  // ----------------------------------------------------------------- goods

  describe('goods: CCC certificate', () => {
    it('refuses a toy batch without a CCC number (422 ccc-required) or with a malformed one (400 ccc-format)', async () => {
      const missing = await brand.api.post('/v1/goods/batches', { ...aBatch('TOY-X', brand.locations.factory), gtin: TOY });
      expect(statusAndType(missing)).toEqual([422, problem('ccc-required')]);
      expect(missing.body.errors).toEqual([{ field: 'attributes.cccCertificate', message: expect.any(String) }]);
      const malformed = await brand.api.post('/v1/goods/batches', {
        ...aBatch('TOY-X', brand.locations.factory),
        gtin: TOY,
        attributes: { cccCertificate: 'CCC-12345' },
      });
      expect(statusAndType(malformed)).toEqual([400, problem('ccc-format')]);
    });

    it('registers a toy batch with a CCC number, and clothing without one', async () => {
      const toy = await brand.api.post('/v1/goods/batches', {
        ...aBatch('TOY-1', brand.locations.factory),
        gtin: TOY,
        attributes: { cccCertificate: '2021010703412345' },
      });
      expect(toy.status).toBe(201);
      expect(toy.body.attributes).toEqual({ cccCertificate: '2021010703412345' });
      expect((await brand.api.post('/v1/goods/batches', { ...aBatch('SHIRT-1', brand.locations.factory), gtin: SHIRT })).status).toBe(201);
    });
  });
});
