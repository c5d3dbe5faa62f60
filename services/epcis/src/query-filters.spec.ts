import type { EpcisEvent } from '@trace/epcis';
import { emptyFilterParams, epcMatcher, eventFilter, locationWithDescendants, needsEventFilter } from './query-filters';

const event = (extra: Partial<EpcisEvent>): EpcisEvent => ({ type: 'ObjectEvent', eventTime: '2026-11-20T08:00:00Z', eventTimeZoneOffset: '+00:00', ...extra });

describe('EPCIS query filters', () => {
  it('matches EPCs in URN or Digital Link form, and urn:epc:idpat patterns by GTIN, company prefix or SSCC prefix', () => {
    const serial = 'https://id.gs1.org/01/10614141073464/21/2017';
    expect(epcMatcher('urn:epc:id:sgtin:0614141.107346.2017')(serial)).toBe(true);
    expect(epcMatcher('urn:epc:id:sgtin:0614141.107346.2018')(serial)).toBe(false);
    expect(epcMatcher('urn:epc:idpat:sgtin:0614141.107346.*')(serial)).toBe(true);
    expect(epcMatcher('urn:epc:idpat:sgtin:0614141.107346.*')('https://id.gs1.org/01/10614141073464/10/LOT')).toBe(true);
    expect(epcMatcher('urn:epc:idpat:sgtin:0614141.107347.*')(serial)).toBe(false);
    expect(epcMatcher('urn:epc:idpat:sgtin:0614141.*.*')(serial)).toBe(true);
    expect(epcMatcher('urn:epc:idpat:sgtin:0614142.*.*')(serial)).toBe(false);
    expect(epcMatcher('urn:epc:idpat:sscc:0614141.*')('https://id.gs1.org/00/106141411234567896')).toBe(true);
    expect(epcMatcher('urn:epc:idpat:grai:0614141.12345.*')('urn:epc:id:grai:0614141.12345.400')).toBe(true);
    expect(epcMatcher('urn:epc:idpat:grai:0614141.12345.*')('urn:epc:id:grai:0614141.12346.400')).toBe(false);
  });

  it('looks at the fields each MATCH_ parameter names: MATCH_epc never matches a parent or an input', () => {
    const parent = 'urn:epc:id:sgtin:0614141.107346.1';
    const child = 'urn:epc:id:sgtin:0614141.107346.2';
    const agg = event({ type: 'AggregationEvent', action: 'ADD', parentID: parent, childEPCs: [child] });
    const byParam = (param: string, value: string) => eventFilter({ ...emptyFilterParams(), epc: { [param]: [value] } })(agg);
    expect(byParam('MATCH_epc', parent)).toBe(false);
    expect(byParam('MATCH_epc', child)).toBe(true);
    expect(byParam('MATCH_parentID', parent)).toBe(true);
    expect(byParam('MATCH_anyEPC', parent)).toBe(true);
    expect(byParam('MATCH_inputEPC', child)).toBe(false);
  });

  it('tests actions, business transactions by type in any CBV form, sources, quantities, locations with descendants and EXISTS_', () => {
    const e = event({
      action: 'OBSERVE',
      quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 200, uom: 'KGM' }],
      bizTransactionList: [{ type: 'urn:epcglobal:cbv:btt:po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }],
      sourceList: [{ type: 'https://ref.gs1.org/cbv/SDT-owning_party', source: 'urn:epc:id:pgln:0614141.00000' }],
      bizLocation: { id: 'urn:epc:id:sgln:0614141.00888.dock' },
    });
    const f = (patch: Partial<ReturnType<typeof emptyFilterParams>>) => eventFilter({ ...emptyFilterParams(), ...patch })(e);
    expect(f({ actions: ['OBSERVE'] })).toBe(true);
    expect(f({ actions: ['ADD', 'DELETE'] })).toBe(false);
    expect(f({ bizTransactions: [{ type: 'po', values: ['urn:epcglobal:cbv:bt:0614141073467:1152'] }] })).toBe(true);
    expect(f({ bizTransactions: [{ type: 'inv', values: ['urn:epcglobal:cbv:bt:0614141073467:1152'] }] })).toBe(false);
    expect(f({ sources: [{ type: 'owning_party', values: ['urn:epc:id:pgln:0614141.00000'] }] })).toBe(true);
    expect(f({ quantity: [{ op: 'GE', value: 200 }] })).toBe(true);
    expect(f({ quantity: [{ op: 'GT', value: 200 }] })).toBe(false);
    // WD_: a GLN's extensions are below it; master data's descendants (canonical keys) too.
    expect(locationWithDescendants(['urn:epc:id:sgln:0614141.00888.0'])(e.bizLocation?.id)).toBe(true);
    expect(locationWithDescendants(['urn:epc:id:sgln:0614141.00889.0'])(e.bizLocation?.id)).toBe(false);
    expect(locationWithDescendants(['urn:epc:id:sgln:0614141.00889.0'], new Set(['https://id.gs1.org/414/0614141008889/254/dock']))(e.bizLocation?.id)).toBe(true);
    expect(f({ exists: ['sourceList'] })).toBe(true);
    expect(f({ exists: ['destinationList'] })).toBe(false);
    expect(needsEventFilter(emptyFilterParams())).toBe(false);
    expect(needsEventFilter({ ...emptyFilterParams(), exists: ['ilmd'] })).toBe(true);
  });
});
