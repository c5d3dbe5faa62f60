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
});
