import { Domain } from '@trace/contracts';
import { PoisonMessageError } from '@trace/messaging';
import { domainName, statusFromEvent } from './lineage.projector';

describe('lineage projection rules', () => {
  it('takes the status from the dispositions that change it, and keeps it otherwise', () => {
    expect(statusFromEvent('holding', 'recalled')).toBe('recalled');
    expect(statusFromEvent('destroying', '')).toBe('destroyed');
    expect(statusFromEvent('storing', 'destroyed')).toBe('destroyed');
    expect(statusFromEvent('dispensing', 'dispensed')).toBe('dispensed');
    for (const [step, disposition] of [['shipping', 'in_transit'], ['receiving', 'in_progress'], ['inspecting', 'conformant'], ['storing', '']]) {
      expect(statusFromEvent(step, disposition)).toBeUndefined();
    }
  });

  it('names the five domains and refuses any other for good', () => {
    expect([Domain.AGRI, Domain.FOOD, Domain.DRUG, Domain.MATERIAL, Domain.GOODS].map(domainName)).toEqual(['agri', 'food', 'drug', 'material', 'goods']);
    expect(() => domainName(Domain.UNSPECIFIED)).toThrow(PoisonMessageError);
  });
});
