import { DomainError } from '@trace/platform';
import { searchTerm } from './lists.query';

describe('searchTerm (GET /v1/search?q=)', () => {
  it('reads a Digital Link as GTIN + lot or GTIN + serial, never one for the other', () => {
    expect(searchTerm('https://id.gs1.org/01/09506000134352/10/LOT-1')).toEqual({ gtin: '09506000134352', lot: 'LOT-1', kind: 'lot' });
    expect(searchTerm('/01/9506000134352/21/2017')).toEqual({ gtin: '09506000134352', lot: '2017', kind: 'serial' });
    expect(searchTerm('/01/09506000134352')).toEqual({ gtin: '09506000134352' });
  });

  it('reads digits with a valid check digit as a GTIN or a lot spelt the same, anything else as a lot', () => {
    expect(searchTerm(' 9506000134352 ')).toEqual({ gtin: '09506000134352', lot: '9506000134352', either: true });
    expect(searchTerm('9506000134353')).toEqual({ lot: '9506000134353' });
    expect(searchTerm('LOT-2026-001')).toEqual({ lot: 'LOT-2026-001' });
  });

  it('refuses nothing to search for, and a Digital Link with a bad check digit', () => {
    for (const q of [undefined, '', '   ', 'x'.repeat(401), '/01/09506000134353/10/A']) {
      expect(() => searchTerm(q)).toThrow(DomainError);
    }
  });
});
