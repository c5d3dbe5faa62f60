import { Domain } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';
import { domainName } from './lineage.projector';

describe('lineage projection rules', () => {
  it('names the five domains and refuses any other for good', () => {
    expect([Domain.AGRI, Domain.FOOD, Domain.DRUG, Domain.MATERIAL, Domain.GOODS].map(domainName)).toEqual(['agri', 'food', 'drug', 'material', 'goods']);
    expect(() => domainName(Domain.UNSPECIFIED)).toThrow(PoisonMessageError);
  });
});
