import { applyInspection, isRefusal, movementRefusal, type BatchState } from './custody';

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
