import { createHash } from 'node:crypto';
import { epcisEventHash, preHashString } from './event-hash';
import { parseLocationId, parseObjectId } from './identifiers';
import { cbvName, eventObjects, nativeToEpcis } from './mapping';
import { opaqueName, partyGlnOf, partyKey } from './identifiers';
import { validateEpcis } from './schema';
import type { EpcisEvent } from './types';

describe('EPCIS identifiers', () => {
  it('reads SGTIN, LGTIN and SSCC URNs and Digital Links into one canonical form', () => {
    expect(parseObjectId('urn:epc:id:sgtin:0614141.107346.2017')).toEqual({
      kind: 'trade-item', gtin: '10614141073464', lot: undefined, serial: '2017', key: 'https://id.gs1.org/01/10614141073464/21/2017',
    });
    expect(parseObjectId('https://example.com/01/10614141073464/21/2017').key).toBe('https://id.gs1.org/01/10614141073464/21/2017');
    expect(parseObjectId('urn:epc:class:lgtin:4012345.012345.998877')).toMatchObject({ gtin: '04012345123456', lot: '998877' });
    expect(parseObjectId('https://id.gs1.org/01/04012345123456/10/998877')).toMatchObject({ gtin: '04012345123456', lot: '998877' });
    expect(parseObjectId('urn:epc:id:sscc:0614141.1234567890')).toEqual({ kind: 'other', key: 'https://id.gs1.org/00/106141412345678908' });
    expect(parseObjectId('urn:epc:idpat:sgtin:4012345.098765.*')).toEqual({ kind: 'other', key: 'https://id.gs1.org/01/04012345987652' });
    // A bad check digit is no trade item of ours: kept as a name.
    expect(parseObjectId('https://id.gs1.org/01/09506000134353/10/X')).toEqual({ kind: 'other', key: 'https://id.gs1.org/01/09506000134353/10/X' });
  });

  it('gives GRAI, GIAI, GDTI, SGLN and PGLN URNs and Digital Links on any host one canonical Digital Link', () => {
    expect(parseObjectId('urn:epc:id:grai:0614141.12345.400').key).toBe('https://id.gs1.org/8003/00614141123452400');
    expect(parseObjectId('urn:epc:id:giai:0614141.12345ABC').key).toBe('https://id.gs1.org/8004/061414112345ABC');
    expect(parseObjectId('urn:epc:id:gdti:0614141.12345.006847').key).toBe('https://id.gs1.org/253/0614141123452006847');
    expect(parseObjectId('urn:epc:id:sgln:0614141.12345.400').key).toBe('https://id.gs1.org/414/0614141123452/254/400');
    expect(parseObjectId('urn:epc:id:pgln:0614141.12345').key).toBe('https://id.gs1.org/417/0614141123452');
    expect(parseObjectId('https://example.com/00/106141412345678908?x=1').key).toBe('https://id.gs1.org/00/106141412345678908');
    expect(parseObjectId('https://example.com/8003/00614141123452400').key).toBe('https://id.gs1.org/8003/00614141123452400');
  });

  it('reads SGLN URNs and GLN Digital Links', () => {
    expect(parseLocationId('urn:epc:id:sgln:0012345.11111.400')).toEqual({ gln: '0012345111112', extension: '400', key: 'https://id.gs1.org/414/0012345111112/254/400' });
    expect(parseLocationId('urn:epc:id:sgln:0012345.11111.0').key).toBe('https://id.gs1.org/414/0012345111112');
    expect(parseLocationId('https://id.gs1.org/414/0012345111112/254/400').key).toBe('https://id.gs1.org/414/0012345111112/254/400');
    expect(parseLocationId('urn:epc:id:pgln:4012345.00000').key).toBe('https://id.gs1.org/417/4012345000009');
    expect(parseLocationId('urn:uuid:5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d').key).toBe('urn:uuid:5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d');
  });
});

const shipping: EpcisEvent = {
  type: 'ObjectEvent',
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  epcList: ['urn:epc:id:sgtin:0614141.107346.2018', 'urn:epc:id:sgtin:0614141.107346.2017'],
  eventTime: '2005-04-03T20:33:31.116000-06:00',
  eventTimeZoneOffset: '-06:00',
  readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
  bizTransactionList: [{ type: 'po', bizTransaction: 'http://transaction.acme.com/po/12345678' }],
};

describe('EPCIS event hash', () => {
  it('builds the pre-hash string in the CBV order, lists sorted, times in UTC, EPCs as Digital Links, bizTransaction type first', () => {
    expect(preHashString(shipping)).toBe(
      'eventType=ObjectEventeventTime=2005-04-04T02:33:31.116ZeventTimeZoneOffset=-06:00' +
        'epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018' +
        'action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit' +
        'readPointid=https://id.gs1.org/414/0614141073467/254/1234' +
        'bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=http://transaction.acme.com/po/12345678',
    );
    expect(epcisEventHash(shipping)).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
  });

  // GS1's published cases, every event of them, are in event-hash.spec.ts; these pin single rules.
  it('follows the CBV 2.0 rules: {namespace} names, no certificationInfo, parentID after epcList, rounding, extensions after the ILMD', () => {
    const ns = { example: 'http://ns.example.com/epcis/' };
    expect(preHashString({ ...shipping, 'example:myField': 'myValue' }, ns)).toMatch(/BTT-pobizTransaction=http:\/\/transaction\.acme\.com\/po\/12345678\{http:\/\/ns\.example\.com\/epcis\/\}myField=myValue$/);
    expect(preHashString({ ...shipping, 'example:outer': { 'example:inner': 2.50 } }, ns)).toMatch(
      /\{http:\/\/ns\.example\.com\/epcis\/\}outer\{http:\/\/ns\.example\.com\/epcis\/\}inner=2\.5$/,
    );
    // certificationInfo is not in the CBV 2.0 property order: it does not take part.
    expect(preHashString({ ...shipping, certificationInfo: 'https://cert.example/1' })).toBe(preHashString(shipping));
    const tx = preHashString({ ...shipping, type: 'TransactionEvent', action: 'ADD', parentID: 'urn:epc:id:sscc:0614141.1234567890' });
    expect(tx.indexOf('parentID=https://id.gs1.org/00/106141412345678908')).toBeGreaterThan(tx.indexOf('epcList'));
    // Fractions beyond the millisecond are rounded half up, carrying into the second.
    const at = (eventTime: string) => /eventTime=([^e]+Z)/.exec(preHashString({ ...shipping, eventTime }))![1];
    expect(at('2005-04-03T20:33:31.1164-06:00')).toBe('2005-04-04T02:33:31.116Z');
    expect(at('2005-04-03T20:33:31.1166-06:00')).toBe('2005-04-04T02:33:31.117Z');
    expect(at('2005-04-03T20:33:31.1165-06:00')).toBe('2005-04-04T02:33:31.117Z');
    expect(at('2005-04-03T20:33:31.9996-06:00')).toBe('2005-04-04T02:33:32.000Z');
    // A sensor report's own extension is written after the standard fields, under its path of field names.
    const sensed = (report: Record<string, unknown>) =>
      preHashString({ ...shipping, sensorElementList: [{ sensorReport: [{ type: 'gs1:Temperature', value: 4, uom: 'CEL', ...report }] }] }, ns);
    expect(sensed({ 'example:probe': 'A' })).toContain('sensorElementsensorReporttype=https://ref.gs1.org/voc/Temperaturevalue=4uom=CEL');
    expect(sensed({ 'example:probe': 'A' })).toMatch(/sensorElementsensorReport\{http:\/\/ns\.example\.com\/epcis\/\}probe=A$/);
    expect(sensed({ 'example:probe': 'A' })).not.toBe(sensed({ 'example:probe': 'B' }));
    // Bare CBV values and their Web URIs hash alike; numbers lose trailing zeros.
    expect(preHashString({ ...shipping, bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping' })).toBe(preHashString(shipping));
    expect(preHashString({ ...shipping, quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 200.50 }] })).toContain(
      'quantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877quantity=200.5action',
    );
  });

  it('gives the same id to the same event in any syntax, and leaves out eventID, recordTime, errorDeclaration and our extensions', () => {
    const same: EpcisEvent = {
      ...shipping,
      eventID: 'urn:uuid:0f0c3a7e-9c53-4b39-9a32-0f4a9d1c2b11',
      recordTime: '2026-01-01T00:00:00Z',
      epcList: ['https://id.gs1.org/01/10614141073464/21/2017', 'https://id.gs1.org/01/10614141073464/21/2018'],
      bizStep: 'urn:epcglobal:cbv:bizstep:shipping',
      eventTime: '2005-04-04T02:33:31.116Z',
      errorDeclaration: { declarationTime: '2026-01-01T00:00:00Z' },
      'trace:chain': { seq: 1 },
    };
    expect(epcisEventHash(same)).toBe(epcisEventHash(shipping));
    expect(epcisEventHash({ ...shipping, disposition: 'in_progress' })).not.toBe(epcisEventHash(shipping));
    expect(epcisEventHash({ ...shipping, 'example:f': 'x' }, { example: 'http://ns.example.com/' })).not.toBe(epcisEventHash(shipping));
  });
});

describe('EPCIS mapping', () => {
  it('names CBV values by their short name whatever their form', () => {
    expect(cbvName('urn:epcglobal:cbv:bizstep:receiving', 'bizstep')).toBe('receiving');
    expect(cbvName('https://ref.gs1.org/cbv/BizStep-receiving', 'bizstep')).toBe('receiving');
    expect(cbvName('https://ns.trace.dev/epcis/BizStep-transforming', 'bizstep')).toBe('transforming');
    expect(cbvName('in_transit', 'disp')).toBe('in_transit');
    expect(cbvName('http://epcis.example.org/hc/bizstep/discharge', 'bizstep')).toBe('http://epcis.example.org/hc/bizstep/discharge');
  });

  it('lists objects by role with quantities (a count when uom is absent)', () => {
    const objects = eventObjects({
      type: 'TransformationEvent',
      eventTime: '2026-01-01T00:00:00Z',
      eventTimeZoneOffset: '+00:00',
      inputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 10, uom: 'KGM' }],
      outputEPCList: ['urn:epc:id:sgtin:0614141.107346.2017'],
      outputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.077777.987', quantity: 30 }],
    });
    expect(objects.map((o) => [o.role, o.ref.key, o.quantity])).toEqual([
      ['input', 'https://id.gs1.org/01/04012345123456/10/998877', { value: 10, unit: 'KGM' }],
      ['output', 'https://id.gs1.org/01/10614141073464/21/2017', undefined],
      ['output', 'https://id.gs1.org/01/00614141777778/10/987', { value: 30, unit: 'EA' }],
    ]);
  });

  it('maps REST-recorded chain events to schema-valid EPCIS events', () => {
    const base = { recordTime: '2026-11-20T00:00:01.000Z', eventTime: '2026-11-20T00:00:00.000Z', batch: { gtin: '09506000134352', lot: 'L1', instance: false }, locationUri: 'urn:uuid:5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d' };
    const events = [
      nativeToEpcis({ ...base, id: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c40', seq: 1, bizStep: 'commissioning', disposition: 'active', content: { quantity: { value: 5, unit: 'kg' } } }),
      nativeToEpcis({
        ...base, id: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c41', seq: 2, bizStep: 'shipping', disposition: 'in_transit',
        content: {
          orgId: 'a1b2c3d4-0000-4000-8000-000000000001',
          toOrgId: 'a1b2c3d4-0000-4000-8000-000000000002',
          documents: [{ type: 'waybill', id: 'W 1' }],
          sensors: [{ type: 'temperature', value: 4, unit: 'Cel', time: base.eventTime }],
        },
        parties: { source: 'https://id.gs1.org/417/4012345000009', destination: opaqueName('party', 'a1b2c3d4-0000-4000-8000-000000000002') },
      }),
      nativeToEpcis({
        ...base, id: '5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c42', seq: 1, bizStep: 'transforming', disposition: 'active',
        content: { quantity: { value: 2, unit: 'jar' }, inputs: [{ gtin: '04012345000016', lot: 'IN', quantity: { value: 1, unit: 'weird unit' } }] },
      }),
    ];
    expect(events.map((e) => [e.type, e.action, e.bizStep])).toEqual([
      ['ObjectEvent', 'ADD', 'commissioning'],
      ['ObjectEvent', 'OBSERVE', 'shipping'],
      ['TransformationEvent', undefined, 'https://ns.trace.dev/epcis/BizStep-transforming'],
    ]);
    // The shipment names its shipper and receiver, as capture reads a receiver; other events name no parties.
    expect(events[1].sourceList).toEqual([
      { type: 'possessing_party', source: 'https://id.gs1.org/417/4012345000009' },
      { type: 'owning_party', source: 'https://id.gs1.org/417/4012345000009' },
    ]);
    const opaque = opaqueName('party', 'a1b2c3d4-0000-4000-8000-000000000002');
    expect(events[1].destinationList).toEqual([
      { type: 'possessing_party', destination: opaque },
      { type: 'owning_party', destination: opaque },
    ]);
    expect([events[0].destinationList, events[2].sourceList]).toEqual([undefined, undefined]);
    const doc = { '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: base.eventTime, epcisBody: { eventList: events } };
    expect(validateEpcis(doc)).toEqual([]);
  });

  it('reads a party GLN from a PGLN EPC URN or a Digital Link with AI 417, and nothing else', () => {
    expect(partyGlnOf('urn:epc:id:pgln:4012345.00000')).toBe('4012345000009');
    expect(partyGlnOf('https://id.gs1.org/417/4012345000009')).toBe('4012345000009');
    expect(partyGlnOf('https://example.com/417/4012345000009?x=1')).toBe('4012345000009');
    expect(partyKey('4012345000009')).toBe('https://id.gs1.org/417/4012345000009');
    for (const other of ['urn:uuid:a1b2c3d4-0000-4000-8000-000000000002', 'https://id.gs1.org/414/4012345000009', 'urn:epc:id:sgln:4012345.00000.0', 'urn:epc:id:pgln:4012345.0000'])
      expect(partyGlnOf(other)).toBeUndefined();
  });

  it('names an organisation or location without GLN by a stable opaque URN that carries no internal id', () => {
    const id = 'a1b2c3d4-0000-4000-8000-000000000002';
    const party = opaqueName('party', id);
    expect(party).toMatch(/^urn:trace:party:[0-9a-f]{32}$/);
    // Fixed forever: stored event hashes contain it.
    expect(party).toBe(opaqueName('party', id.toUpperCase()));
    expect(party).toBe('urn:trace:party:' + createHash('sha256').update(`party:${id}`).digest('hex').slice(0, 32));
    expect(party).not.toContain(id.replace(/-/g, '').slice(0, 8));
    expect(opaqueName('location', id)).not.toBe(party.replace('party', 'location'));
  });
});
