import { gs1LinkType, gs1LinkTypeUri } from './link-type';

describe('GS1 link types', () => {
  it('reads the CURIE and the full URI of a link type alike', () => {
    expect(gs1LinkType('gs1:recallStatus')).toBe('recallStatus');
    expect(gs1LinkType('https://gs1.org/voc/certificationInfo')).toBe('certificationInfo');
    expect(gs1LinkType('http://gs1.org/voc/pip')).toBe('pip');
    expect(gs1LinkTypeUri('traceability')).toBe('https://gs1.org/voc/traceability');
  });

  it('knows nothing of other vocabularies, unserved types or prototype keys', () => {
    for (const v of ['all', 'gs1:unknownThing', 'schema:pip', 'gs1:toString', 'gs1:constructor', 'gs1:', 'https://gs1.org/voc/pip/x']) {
      expect(gs1LinkType(v)).toBeUndefined();
    }
  });
});
