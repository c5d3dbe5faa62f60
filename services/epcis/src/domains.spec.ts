import { epcisDomains } from './domains';

describe('epcisDomains', () => {
  it('is every domain unless EPCIS_DOMAINS names fewer (unknown names ignored)', () => {
    expect(epcisDomains({})).toEqual(['agri', 'food', 'drug', 'material', 'goods']);
    expect(epcisDomains({ EPCIS_DOMAINS: 'food, agri,nothing' })).toEqual(['agri', 'food']);
    expect(epcisDomains({ EPCIS_DOMAINS: ' ' })).toEqual(['agri', 'food', 'drug', 'material', 'goods']);
  });
});
