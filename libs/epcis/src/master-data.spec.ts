import { attributeName, descendantKeys, masterDataFilter, masterDataFromXml, masterDataParameter, vocabularyElementsOf, type VocabularyElement } from './master-data';
import type { EpcisEvent } from './types';

const BL = 'urn:epcglobal:epcis:vtype:BusinessLocation';
const doc = {
  epcisHeader: {
    epcisMasterData: {
      vocabularyList: [
        {
          type: BL,
          vocabularyElementList: [
            {
              id: 'urn:epc:id:sgln:0614141.00888.0',
              attributes: [{ id: 'urn:epcglobal:cbv:mda#name', attribute: 'Site 888' }, { id: 'cbvmda:sst', attribute: 201 }, { id: 'urn:epcglobal:cbv:mda#flag' }],
              children: ['urn:epc:id:sgln:0614141.00888.dock', 'https://id.gs1.org/414/0614141007776'],
            },
            { id: 'https://id.gs1.org/414/0614141007776', children: ['urn:epc:id:sgln:0614141.00777.bay'] },
          ],
        },
        { type: 'urn:epcglobal:epcis:vtype:BusinessStep', vocabularyElementList: [{ id: 'urn:epcglobal:cbv:bizstep:shipping', attributes: [{ id: 'example:risk', attribute: 'high' }] }] },
      ],
    },
  },
};
const at = (bizLocation: string, extra: Partial<EpcisEvent> = {}): EpcisEvent =>
  ({ type: 'ObjectEvent', eventTime: '2026-11-20T08:00:00Z', eventTimeZoneOffset: '+00:00', bizLocation: { id: bizLocation }, ...extra }) as EpcisEvent;

describe('EPCIS master data', () => {
  const elements: VocabularyElement[] = vocabularyElementsOf(doc);

  it('reads the vocabulary elements of a JSON header, attribute names in their URI form', () => {
    expect(elements).toHaveLength(3);
    expect(elements[0]).toEqual({
      type: BL,
      id: 'urn:epc:id:sgln:0614141.00888.0',
      attributes: { 'urn:epcglobal:cbv:mda#name': 'Site 888', 'urn:epcglobal:cbv:mda#sst': 201, 'urn:epcglobal:cbv:mda#flag': null },
      children: ['urn:epc:id:sgln:0614141.00888.dock', 'https://id.gs1.org/414/0614141007776'],
    });
    expect(vocabularyElementsOf({ type: 'EPCISDocument' })).toEqual([]);
    expect(attributeName('urn:epcglobal:cbv:mda:sst')).toBe('urn:epcglobal:cbv:mda#sst');
  });

  it('reads EPCISMasterData of an XML header (1.2 and 2.0: EPCISHeader/extension) into the JSON shape', () => {
    const xml = `<?xml version="1.0"?><epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-11-20T08:00:00Z">
      <EPCISHeader><extension><EPCISMasterData><VocabularyList>
        <Vocabulary type="${BL}"><VocabularyElementList>
          <VocabularyElement id="urn:epc:id:sgln:0614141.00888.0">
            <attribute id="urn:epcglobal:cbv:mda#sst">201</attribute><attribute id="urn:epcglobal:cbv:mda#flag"/>
            <children><id>urn:epc:id:sgln:0614141.00888.dock</id></children>
          </VocabularyElement>
        </VocabularyElementList></Vocabulary>
      </VocabularyList></EPCISMasterData></extension></EPCISHeader>
      <EPCISBody><EventList/></EPCISBody></epcis:EPCISDocument>`;
    expect(masterDataFromXml(xml)).toEqual({
      vocabularyList: [
        {
          type: BL,
          vocabularyElementList: [
            { id: 'urn:epc:id:sgln:0614141.00888.0', attributes: [{ id: 'urn:epcglobal:cbv:mda#sst', attribute: '201' }, { id: 'urn:epcglobal:cbv:mda#flag' }], children: ['urn:epc:id:sgln:0614141.00888.dock'] },
          ],
        },
      ],
    });
    expect(masterDataFromXml('<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody/></epcis:EPCISDocument>')).toBeUndefined();
  });

  it('parses HASATTR_/EQATTR_ parameters, refusing fields master data does not describe', () => {
    expect(masterDataParameter('HASATTR_bizLocation', ['cbvmda:sst'])).toEqual({ condition: { kind: 'HASATTR', field: 'bizLocation', attributes: ['urn:epcglobal:cbv:mda#sst'] } });
    expect(masterDataParameter('EQATTR_readPoint_urn:epcglobal:cbv:mda#sst', ['201'])).toEqual({
      condition: { kind: 'EQATTR', field: 'readPoint', attribute: 'urn:epcglobal:cbv:mda#sst', values: ['201'] },
    });
    expect(masterDataParameter('HASATTR_example:x', ['y'])?.error).toMatch(/not example:x/);
    expect(masterDataParameter('EQATTR_colour_x', ['y'])?.error).toMatch(/not colour/);
    expect(masterDataParameter('EQ_bizLocation', ['y'])).toBeUndefined();
  });

  it('matches events whose field names an element with the attribute (or the value), in any identifier form', () => {
    const has = masterDataFilter([{ kind: 'HASATTR', field: 'bizLocation', attributes: ['urn:epcglobal:cbv:mda#flag'] }], elements);
    expect(has(at('https://id.gs1.org/414/0614141008889'))).toBe(true);
    expect(has(at('urn:epc:id:sgln:0614141.00888.dock'))).toBe(false);
    const eq = (values: string[]) => masterDataFilter([{ kind: 'EQATTR', field: 'bizLocation', attribute: 'urn:epcglobal:cbv:mda#sst', values }], elements);
    expect(eq(['201'])(at('urn:epc:id:sgln:0614141.00888.0'))).toBe(true);
    expect(eq(['202'])(at('urn:epc:id:sgln:0614141.00888.0'))).toBe(false);
    // A location's master data serves readPoint too; a bizStep its own vocabulary, in any CBV form.
    const rp = masterDataFilter([{ kind: 'HASATTR', field: 'readPoint', attributes: ['urn:epcglobal:cbv:mda#name'] }], elements);
    expect(rp(at('x', { readPoint: { id: 'urn:epc:id:sgln:0614141.00888.0' } }))).toBe(true);
    expect(rp(at('urn:epc:id:sgln:0614141.00888.0'))).toBe(false);
    const step = masterDataFilter([{ kind: 'EQATTR', field: 'bizStep', attribute: 'example:risk', values: ['high'] }], elements);
    expect(step(at('x', { bizStep: 'shipping' }))).toBe(true);
    expect(step(at('x', { bizStep: 'receiving' }))).toBe(false);
    // Conditions together: all must hold.
    expect(masterDataFilter([{ kind: 'HASATTR', field: 'bizLocation', attributes: ['urn:epcglobal:cbv:mda#flag'] }, { kind: 'HASATTR', field: 'bizStep', attributes: ['example:risk'] }], elements)(at('urn:epc:id:sgln:0614141.00888.0'))).toBe(false);
  });

  it('finds descendants at any depth, and survives a cycle', () => {
    const below = descendantKeys('bizLocation', ['urn:epc:id:sgln:0614141.00888.0'], elements);
    expect([...below].sort()).toEqual([
      'https://id.gs1.org/414/0614141007776',
      'https://id.gs1.org/414/0614141007776/254/bay',
      'https://id.gs1.org/414/0614141008889',
      'https://id.gs1.org/414/0614141008889/254/dock',
    ]);
    const cycle: VocabularyElement[] = [
      { type: BL, id: 'urn:x:a', attributes: {}, children: ['urn:x:b'] },
      { type: BL, id: 'urn:x:b', attributes: {}, children: ['urn:x:a'] },
    ];
    expect([...descendantKeys('bizLocation', ['urn:x:a'], cycle)].sort()).toEqual(['urn:x:a', 'urn:x:b']);
  });

  it('describes the other vocabulary-typed fields: EPC classes (of quantity lists and of EPCs), EPCs, bizTransactions and their types, sources, destinations and their types, error reasons', () => {
    const VT = 'urn:epcglobal:epcis:vtype:';
    const md: VocabularyElement[] = [
      // A product class by its GTIN pattern, and one lot of another GTIN (LGTIN), and an instance.
      { type: `${VT}EPCClass`, id: 'urn:epc:idpat:sgtin:4012345.012345.*', attributes: { 'urn:epcglobal:cbv:mda#tradeItemDescription': 'Apples' }, children: [] },
      { type: `${VT}EPCClass`, id: 'urn:epc:class:lgtin:4012345.077889.L7', attributes: { 'urn:epcglobal:cbv:mda#countryOfOrigin': 'DE' }, children: [] },
      { type: `${VT}EPCInstance`, id: 'urn:epc:id:sscc:4012345.0000000001', attributes: { 'example:colour': 'blue' }, children: [] },
      { type: `${VT}BusinessTransactionType`, id: 'urn:epcglobal:cbv:btt:po', attributes: { 'example:binding': 'yes' }, children: [] },
      { type: `${VT}BusinessTransaction`, id: 'urn:epcglobal:cbv:bt:4012345000009:PO-1', attributes: { 'example:buyer': 'X' }, children: [] },
      { type: `${VT}SourceDest`, id: 'urn:epc:id:pgln:4012345.00000', attributes: { 'urn:epcglobal:cbv:mda#name': 'Farm' }, children: [] },
      { type: `${VT}SourceDestType`, id: 'https://ref.gs1.org/cbv/SDT-owning_party', attributes: { 'example:legal': 'yes' }, children: [] },
      { type: `${VT}ErrorReason`, id: 'urn:epcglobal:cbv:er:incorrect_data', attributes: { 'example:severity': 'high' }, children: [] },
    ];
    const f = (field: string, attributes: string[]) => masterDataFilter([{ kind: 'HASATTR', field, attributes }], md);
    const apples = f('epcClass', ['urn:epcglobal:cbv:mda#tradeItemDescription']);
    // The GTIN pattern describes its lots (LGTIN, Digital Link on any host) and its instances (SGTIN), in any list.
    expect(apples(at('x', { quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.012345.998877', quantity: 1 }] }))).toBe(true);
    expect(apples(at('x', { outputQuantityList: [{ epcClass: 'https://example.com/01/04012345123456/10/A', quantity: 1 }] }))).toBe(true);
    expect(apples(at('x', { epcList: ['urn:epc:id:sgtin:4012345.012345.400'] }))).toBe(true);
    expect(apples(at('x', { epcList: ['urn:epc:id:sgtin:4012345.077889.400'] }))).toBe(false);
    // A lot's class describes that lot only.
    const lot = f('epcClass', ['urn:epcglobal:cbv:mda#countryOfOrigin']);
    expect(lot(at('x', { quantityList: [{ epcClass: 'https://id.gs1.org/01/04012345778892/10/L7' }] }))).toBe(true);
    expect(lot(at('x', { quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.077889.L8' }] }))).toBe(false);
    // epc: the EPCs' own (EPCInstance) and their classes' master data; parentID is one of them.
    expect(f('epc', ['example:colour'])(at('x', { parentID: 'https://id.gs1.org/00/040123450000000016' }))).toBe(true);
    expect(f('parentID', ['example:colour'])(at('x', { parentID: 'urn:epc:id:sscc:4012345.0000000001' }))).toBe(true);
    expect(f('epcList', ['example:colour'])(at('x', { parentID: 'urn:epc:id:sscc:4012345.0000000001' }))).toBe(false);
    expect(f('epc', ['urn:epcglobal:cbv:mda#tradeItemDescription'])(at('x', { childEPCs: ['urn:epc:id:sgtin:4012345.012345.9'] }))).toBe(true);
    const bt = { bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:4012345000009:PO-1' }] };
    expect(f('bizTransactionType', ['example:binding'])(at('x', bt))).toBe(true);
    expect(f('bizTransactionType', ['example:binding'])(at('x', { bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:x' }] }))).toBe(false);
    expect(f('bizTransaction', ['example:buyer'])(at('x', bt))).toBe(true);
    const src = { sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:4012345.00000' }] };
    expect(f('source', ['urn:epcglobal:cbv:mda#name'])(at('x', src))).toBe(true);
    expect(f('destination', ['urn:epcglobal:cbv:mda#name'])(at('x', src))).toBe(false);
    expect(f('sourceType', ['example:legal'])(at('x', src))).toBe(true);
    expect(f('destinationType', ['example:legal'])(at('x', { destinationList: [{ type: 'urn:epcglobal:cbv:sdt:owning_party', destination: 'urn:x' }] }))).toBe(true);
    expect(f('errorReason', ['example:severity'])(at('x', { errorDeclaration: { declarationTime: '2026-11-20T08:00:00Z', reason: 'incorrect_data' } }))).toBe(true);
    expect(masterDataParameter('HASATTR_toString', ['x'])?.error).toMatch(/not toString/);
    expect(masterDataParameter('EQATTR_epcClass_cbvmda:countryOfOrigin', ['DE'])?.condition).toMatchObject({ field: 'epcClass', attribute: 'urn:epcglobal:cbv:mda#countryOfOrigin' });
  });
});
