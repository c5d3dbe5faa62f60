import { compensationRefusal, type CompensationRequest, type NamedConsume } from './compensation';

const consume: NamedConsume = {
  bizStep: 'transforming',
  orgId: 'mill',
  content: { quantity: { value: 100, unit: 'kg' }, output: { domain: 'food', batchId: 'flour-1' } },
};
const req: CompensationRequest = { quantity: 100, unit: 'kg', outputRef: { domain: 'food', batchId: 'flour-1' }, actorOrgId: 'mill', batchStatus: 'active' };

describe('compensationRefusal', () => {
  it('lets the consumer give back exactly what it took, once', () => {
    expect(compensationRefusal(consume, req, false)).toBeUndefined();
    // A held or recalled batch still takes its own quantity back: giving back is no movement.
    expect(compensationRefusal(consume, { ...req, batchStatus: 'recalled' }, false)).toBeUndefined();
    expect(compensationRefusal(consume, req, true)).toMatchObject({ status: 409, rule: 'already-restored' });
  });

  it('refuses an event that is not a consume: unknown, another step, a correction', () => {
    expect(compensationRefusal(undefined, req, false)).toMatchObject({ status: 422, rule: 'not-a-consume' });
    expect(compensationRefusal({ ...consume, bizStep: 'shipping' }, req, false)).toMatchObject({ rule: 'not-a-consume' });
    expect(compensationRefusal({ ...consume, content: { ...consume.content, correctionOf: 'e1' } }, req, false)).toMatchObject({ rule: 'not-a-consume' });
    expect(compensationRefusal({ ...consume, content: { quantity: { value: 100, unit: 'kg' } } }, req, false)).toMatchObject({ rule: 'not-a-consume' });
  });

  it('refuses another organisation, another output, another quantity or unit', () => {
    expect(compensationRefusal(consume, { ...req, actorOrgId: 'rival' }, false)).toMatchObject({ status: 403, rule: 'not-the-consumer' });
    expect(compensationRefusal(consume, { ...req, quantity: 1_000_000 }, false)).toMatchObject({ status: 422, rule: 'compensation-mismatch' });
    expect(compensationRefusal(consume, { ...req, unit: 't' }, false)).toMatchObject({ rule: 'compensation-mismatch' });
    expect(compensationRefusal(consume, { ...req, outputRef: { domain: 'food', batchId: 'other' } }, false)).toMatchObject({ rule: 'compensation-mismatch' });
    expect(compensationRefusal(consume, { ...req, outputRef: { domain: 'drug', batchId: 'flour-1' } }, false)).toMatchObject({ rule: 'compensation-mismatch' });
  });

  it('a finished chain takes nothing back', () => {
    expect(compensationRefusal(consume, { ...req, batchStatus: 'destroyed' }, false)).toMatchObject({ status: 409, rule: 'batch-destroyed' });
    expect(compensationRefusal(consume, { ...req, batchStatus: 'dispensed' }, false)).toMatchObject({ status: 409, rule: 'batch-dispensed' });
  });
});
