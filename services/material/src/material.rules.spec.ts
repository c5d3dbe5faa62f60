import type { EventContext, RegistrationContext } from '@trace/trace-chain';
import { installationOf, materialRules } from './material.rules';

const reg = (attributes: Record<string, unknown>): RegistrationContext => ({ gtin: '09506000134352', lot: 'L1', productCategory: 'cement', attributes, inputs: [] });
const ev = (bizStep: string, toLocationKind?: string, quantity?: number): EventContext => ({
  batch: { id: 'b1', status: 'active', holderOrgId: 'plant', pendingReceiverOrgId: null, quantity: 40, productCategory: 'cement', attributes: {} },
  event: {
    bizStep: bizStep as never,
    actorOrgId: 'plant',
    toOrgId: 'builder',
    locationId: 'l1',
    toLocationId: toLocationKind ? 'site-1' : undefined,
    toLocationKind,
    ...(quantity ? { quantity: { value: quantity, unit: 't' } } : {}),
  },
});

describe('material rules', () => {
  const rules = materialRules();

  it('accepts a batch stating its standard and grade', () => {
    expect(rules.onRegister!(reg({ standard: 'GB 175-2023', grade: 'P·O 42.5' }))).toBeUndefined();
  });

  it('refuses a batch without standard or grade, naming the rule and the field', () => {
    expect(rules.onRegister!(reg({ grade: 'P·O 42.5' }))).toMatchObject({ status: 422, rule: 'standard-required', field: 'attributes.standard' });
    expect(rules.onRegister!(reg({ standard: 'GB 175-2023', grade: ' ' }))).toMatchObject({ status: 422, rule: 'grade-required' });
    expect(rules.onRegister!(reg({ standard: 175, grade: 'x' }))).toMatchObject({ status: 400, rule: 'standard-format' });
  });

  it('records an installation for shipping to a construction site only', () => {
    expect(installationOf(ev('shipping', 'construction_site'), 40)).toEqual({ siteLocationId: 'site-1', quantity: 40 });
    expect(installationOf(ev('shipping', 'construction_site', 12), 40)).toEqual({ siteLocationId: 'site-1', quantity: 12 });
    expect(installationOf(ev('shipping', 'warehouse'), 40)).toBeUndefined();
    expect(installationOf(ev('storing', 'construction_site'), 40)).toBeUndefined();
  });
});
