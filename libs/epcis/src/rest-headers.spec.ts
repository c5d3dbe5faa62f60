import { cbvValue, companyPrefixesOf, compareVersions, epcAsDigitalLink, epcAsUrn, negotiateVersion, parseVersion, withCbvFormat, withEpcFormat } from './rest-headers';
import type { EpcisEvent } from './types';

describe('GS1-CBV-XML-Format', () => {
  it('writes standard values as URN or Web URI from any form, and leaves other vocabularies alone', () => {
    for (const v of ['receiving', 'urn:epcglobal:cbv:bizstep:receiving', 'https://ref.gs1.org/cbv/BizStep-receiving']) {
      expect(cbvValue(v, 'bizstep', 'Always_URN')).toBe('urn:epcglobal:cbv:bizstep:receiving');
      expect(cbvValue(v, 'bizstep', 'Always_Web_URI')).toBe('https://ref.gs1.org/cbv/BizStep-receiving');
      expect(cbvValue(v, 'bizstep', 'Never_Translates')).toBe(v);
      expect(cbvValue(v, 'bizstep', 'No_Preference')).toBe(v);
    }
    expect(cbvValue('https://example.com/steps/unpack', 'bizstep', 'Always_URN')).toBe('https://example.com/steps/unpack');
    expect(cbvValue('example:unpack', 'bizstep', 'Always_Web_URI')).toBe('example:unpack');
  });

  it('formats every CBV field of an event, on a copy', () => {
    const e = {
      type: 'ObjectEvent', eventTime: '2026-11-24T09:00:00Z', eventTimeZoneOffset: '+00:00', action: 'OBSERVE',
      bizStep: 'shipping', disposition: 'in_transit', persistentDisposition: { set: ['completeness_verified'], unset: ['urn:epcglobal:cbv:disp:needs_replacement'] },
      bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:PO-1' }, { bizTransaction: 'urn:x:untyped' }],
      sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:0614141.00001' }],
      destinationList: [{ type: 'https://ref.gs1.org/cbv/SDT-location', destination: 'urn:epc:id:sgln:0614141.00777.0' }],
      errorDeclaration: { declarationTime: '2026-11-25T00:00:00Z', reason: 'incorrect_data' },
      sensorElementList: [{ sensorReport: [{ type: 'gs1:Temperature', value: 4, uom: 'CEL' }] }],
    } as EpcisEvent;
    const before = JSON.stringify(e);
    expect(withCbvFormat(e, 'Always_URN')).toEqual({
      ...e,
      bizStep: 'urn:epcglobal:cbv:bizstep:shipping',
      disposition: 'urn:epcglobal:cbv:disp:in_transit',
      persistentDisposition: { set: ['urn:epcglobal:cbv:disp:completeness_verified'], unset: ['urn:epcglobal:cbv:disp:needs_replacement'] },
      bizTransactionList: [{ type: 'urn:epcglobal:cbv:btt:po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:PO-1' }, { bizTransaction: 'urn:x:untyped' }],
      sourceList: [{ type: 'urn:epcglobal:cbv:sdt:owning_party', source: 'urn:epc:id:pgln:0614141.00001' }],
      destinationList: [{ type: 'urn:epcglobal:cbv:sdt:location', destination: 'urn:epc:id:sgln:0614141.00777.0' }],
      errorDeclaration: { declarationTime: '2026-11-25T00:00:00Z', reason: 'urn:epcglobal:cbv:er:incorrect_data' },
    });
    expect(withCbvFormat(e, 'Always_Web_URI')).toMatchObject({
      bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping',
      disposition: 'https://ref.gs1.org/cbv/Disp-in_transit',
      bizTransactionList: [{ type: 'https://ref.gs1.org/cbv/BTT-po' }, { bizTransaction: 'urn:x:untyped' }],
      destinationList: [{ type: 'https://ref.gs1.org/cbv/SDT-location' }],
      errorDeclaration: { reason: 'https://ref.gs1.org/cbv/ER-incorrect_data' },
      sensorElementList: [{ sensorReport: [{ type: 'gs1:Temperature' }] }],
    });
    expect(withCbvFormat(e, 'Never_Translates')).toBe(e);
    expect(JSON.stringify(e)).toBe(before);
  });
});

describe('EPCIS version negotiation', () => {
  it('parses and compares versions as the binding writes them', () => {
    expect(parseVersion('2.0.0')).toEqual([2, 0, 0]);
    expect(parseVersion(' 2 ')).toEqual([2]);
    for (const bad of ['', 'v2', '2.0.', '2..0', '2.0-beta', 'latest']) expect(parseVersion(bad)).toBeUndefined();
    expect(compareVersions([2], [2, 0, 0])).toBe(0);
    expect(compareVersions([1, 2], [2, 0])).toBeLessThan(0);
    expect(compareVersions([2, 1], [2, 0, 9])).toBeGreaterThan(0);
  });

  it('serves a version or range holding one it has, refuses (406) one that holds none, and calls malformed headers malformed (400)', () => {
    const answers = ['2.0.0'];
    const capture = ['2.0.0', '1.2.0'];
    for (const ok of [{}, { version: '2.0.0' }, { version: '2.0' }, { version: '2' }, { min: '1.0', max: '2.0.0' }, { min: '2.0.0' }, { max: '2.0' }, { min: '1.2', max: '3' }]) {
      expect(negotiateVersion('GS1-EPCIS', ok, answers)).toEqual({ ok: true });
    }
    for (const refused of [{ version: '1.2.0' }, { version: '2.1.0' }, { version: '3.0' }, { min: '2.1' }, { max: '1.2.0' }, { min: '1.0', max: '1.2' }]) {
      expect(negotiateVersion('GS1-EPCIS', refused, answers)).toMatchObject({ ok: false, malformed: false });
    }
    expect(negotiateVersion('GS1-EPCIS', { version: '1.2.0' }, capture)).toEqual({ ok: true });
    expect(negotiateVersion('GS1-EPCIS', { max: '1.2' }, capture)).toEqual({ ok: true });
    expect(negotiateVersion('GS1-EPCIS', { version: '1.1' }, capture)).toMatchObject({ ok: false, malformed: false });
    expect(negotiateVersion('GS1-CBV', { version: 'two' }, answers)).toMatchObject({ ok: false, malformed: true, message: expect.stringContaining('GS1-CBV-Version') });
    expect(negotiateVersion('GS1-EPCIS', { min: '2.0', max: '1.0' }, answers)).toMatchObject({ ok: false, malformed: true });
  });
});

describe('GS1-EPC-Format', () => {
  const ev = {
    type: 'ObjectEvent', eventTime: '2026-11-20T08:00:00Z', eventTimeZoneOffset: '+00:00', action: 'OBSERVE',
    epcList: ['urn:epc:id:sgtin:4012345.011111.A%2F1', 'https://id.gs1.org/01/04012345111118/21/B2'],
    quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.L1', quantity: 1 }, { epcClass: 'urn:epc:idpat:sgtin:4012345.012345.*' }],
    parentID: 'urn:epc:id:sscc:4012345.0000000001',
    readPoint: { id: 'urn:epc:id:sgln:4012345.00001.0' },
    bizLocation: { id: 'https://id.gs1.org/414/4012345000016/254/dock' },
    sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:4012345.00001' }],
    destinationList: [{ type: 'owning_party', destination: 'https://id.gs1.org/417/0614141000005' }],
  } as unknown as EpcisEvent;

  it('translates EPC URNs to Digital Links (always defined: the URN names the prefix); patterns and other values stay', () => {
    const dl = withEpcFormat(ev, 'Always_GS1_Digital_Link');
    expect(dl.epcList).toEqual(['https://id.gs1.org/01/04012345111118/21/A%2F1', 'https://id.gs1.org/01/04012345111118/21/B2']);
    expect(dl.quantityList).toEqual([{ epcClass: 'https://id.gs1.org/01/04012345123456/10/L1', quantity: 1 }, { epcClass: 'urn:epc:idpat:sgtin:4012345.012345.*' }]);
    expect(dl.parentID).toBe('https://id.gs1.org/00/040123450000000016');
    expect(dl.readPoint?.id).toBe('https://id.gs1.org/414/4012345000016');
    expect(dl.sourceList?.[0].source).toBe('https://id.gs1.org/417/4012345000016');
    expect(epcAsDigitalLink('urn:uuid:6f1c4a4e-0000-4000-8000-000000000000', true)).toBe('urn:uuid:6f1c4a4e-0000-4000-8000-000000000000');
    expect(ev.epcList?.[0]).toBe('urn:epc:id:sgtin:4012345.011111.A%2F1');
  });

  it('translates Digital Links to EPC URNs where a known company prefix splits the key; otherwise keeps them', () => {
    const prefixes = companyPrefixesOf([ev]);
    expect([...prefixes]).toEqual(['4012345']);
    const urn = withEpcFormat(ev, 'Always_EPC_URN', prefixes);
    expect(urn.epcList).toEqual(['urn:epc:id:sgtin:4012345.011111.A%2F1', 'urn:epc:id:sgtin:4012345.011111.B2']);
    expect(urn.bizLocation?.id).toBe('urn:epc:id:sgln:4012345.00001.dock');
    // 0614141 is named by no URN: its prefix length is unknown, the Digital Link stays.
    expect(urn.destinationList?.[0].destination).toBe('https://id.gs1.org/417/0614141000005');
    expect(epcAsUrn('https://example.com/00/040123450000000016', prefixes)).toBe('urn:epc:id:sscc:4012345.0000000001');
    expect(epcAsUrn('https://id.gs1.org/01/04012345123456/10/L%2F1', prefixes)).toBe('urn:epc:class:lgtin:4012345.012345.L%2F1');
    expect(withEpcFormat(ev, 'Never_Translates')).toBe(ev);
    expect(withEpcFormat(ev, 'No_Preference')).toBe(ev);
  });
});
