import { applyInspection, isRefusal, movementRefusal, statusAfter, statusChange, type BatchState } from './custody';

const batch = (over: Partial<BatchState> = {}): BatchState => ({
  status: 'active',
  holderOrgId: 'farm',
  pendingReceiverOrgId: null,
  quantity: 100,
  ...over,
});

describe('applyInspection', () => {
  it('holds an active batch on a fail without touching custody', () => {
    const inTransit = batch({ pendingReceiverOrgId: 'shop' });
    expect(applyInspection(inTransit, { conclusion: 'fail', clearsHold: false })).toEqual({
      status: 'held',
      holderOrgId: 'farm',
      pendingReceiverOrgId: 'shop',
      quantity: 100,
    });
  });

  it('lifts a hold only with a clearing pass', () => {
    const held = batch({ status: 'held' });
    expect(applyInspection(held, { conclusion: 'pass', clearsHold: false })).toMatchObject({ status: 'held' });
    expect(applyInspection(held, { conclusion: 'fail', clearsHold: false })).toMatchObject({ status: 'held' });
    expect(applyInspection(held, { conclusion: 'pass', clearsHold: true })).toMatchObject({ status: 'active' });
  });

  it('keeps a recall and refuses a closed chain', () => {
    expect(applyInspection(batch({ status: 'recalled' }), { conclusion: 'fail', clearsHold: false })).toMatchObject({ status: 'recalled' });
    expect(applyInspection(batch({ status: 'recalled' }), { conclusion: 'pass', clearsHold: true })).toMatchObject({ status: 'recalled' });
    const r = applyInspection(batch({ status: 'destroyed' }), { conclusion: 'pass', clearsHold: false });
    expect(isRefusal(r) && r.rule).toBe('batch-destroyed');
  });

  it('leaves the held batch blocked for shipping by the movement rule', () => {
    expect(movementRefusal('held', 'shipping')).toMatchObject({ status: 409, rule: 'batch-held' });
    expect(movementRefusal('held', 'storing')).toBeUndefined();
  });
});

describe('statusChange / statusAfter', () => {
  it('takes the status from the steps and dispositions that change it, and keeps it otherwise', () => {
    expect(statusChange({ bizStep: 'holding', disposition: 'recalled' })).toBe('recalled');
    expect(statusChange({ bizStep: 'destroying', disposition: '' })).toBe('destroyed');
    expect(statusChange({ bizStep: 'storing', disposition: 'destroyed' })).toBe('destroyed');
    expect(statusChange({ bizStep: 'dispensing', disposition: 'dispensed' })).toBe('dispensed');
    for (const [bizStep, disposition] of [['shipping', 'in_transit'], ['receiving', 'in_progress'], ['inspecting', 'conformant'], ['storing', '']]) {
      expect(statusChange({ bizStep, disposition })).toBeUndefined();
    }
  });

  it('lets destroying win over a recalled disposition, the same for every reader of the chain', () => {
    expect(statusChange({ bizStep: 'destroying', disposition: 'recalled' })).toBe('destroyed');
    expect(statusAfter('held', { bizStep: 'destroying', disposition: 'recalled' })).toBe('destroyed');
    expect(statusAfter('held', { bizStep: 'storing', disposition: 'active' })).toBe('held');
  });
});
