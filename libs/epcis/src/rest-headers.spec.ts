import { cbvValue, compareVersions, negotiateVersion, parseVersion, withCbvFormat } from './rest-headers';
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
