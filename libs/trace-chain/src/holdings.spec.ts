import { acknowledgeable, applyMovement, currentHolders, holdingsAfter, massBalanceRefusal, upstreamOf, type Holding, type MovementResult } from './holdings';
import { isRefusal, type Refusal } from './custody';

const h = (orgId: string, quantity: number, inTransit = 0, received = quantity + inTransit): Holding => ({ orgId, quantity, inTransit, received });
const ok = (r: Refusal | MovementResult): MovementResult => {
  if ('rule' in r) throw new Error(`refused: ${r.rule}`);
  return r;
};
const rule = (r: Refusal | MovementResult) => ('rule' in r ? [r.status, r.rule] : 'allowed');

describe('applyMovement', () => {
  const farm = [h('farm', 1200)];

  it('ships part of a holding into transit to the receiver, all of it when no quantity is given', () => {
    const part = ok(applyMovement('active', farm, { bizStep: 'shipping', actorOrgId: 'farm', toOrgId: 'p1', quantity: 500 }));
    expect(part.changed).toEqual([h('farm', 700, 0, 1200), h('p1', 0, 500)]);
    expect([part.moved, part.remaining]).toEqual([500, 1200]);
    const rest = ok(applyMovement('active', [h('farm', 700, 0, 1200), h('p1', 0, 500)], { bizStep: 'shipping', actorOrgId: 'farm', toOrgId: 'p2' }));
    expect(rest.changed).toEqual([h('farm', 0, 0, 1200), h('p2', 0, 700)]);
  });

  it('refuses taking more than held (409 insufficient-quantity), and events by an organisation holding nothing (403)', () => {
    expect(rule(applyMovement('active', farm, { bizStep: 'shipping', actorOrgId: 'farm', toOrgId: 'p1', quantity: 1201 }))).toEqual([409, 'insufficient-quantity']);
    expect(rule(applyMovement('active', farm, { bizStep: 'destroying', actorOrgId: 'farm', quantity: 1300 }))).toEqual([409, 'insufficient-quantity']);
    expect(rule(applyMovement('active', [h('farm', 0, 0, 1200), h('p1', 500)], { bizStep: 'storing', actorOrgId: 'farm' }))).toEqual([403, 'not-the-holder']);
    // Had some, has none left: a shipment asks for more than it holds.
    expect(rule(applyMovement('active', [h('farm', 0, 0, 1200), h('p1', 500)], { bizStep: 'shipping', actorOrgId: 'farm', toOrgId: 'p2', quantity: 100 }))).toEqual([409, 'insufficient-quantity']);
    expect(rule(applyMovement('active', [h('p1', 500)], { bizStep: 'shipping', actorOrgId: 'shop', toOrgId: 'p2', quantity: 100 }))).toEqual([403, 'not-the-holder']);
    expect(rule(applyMovement('active', farm, { bizStep: 'shipping', actorOrgId: 'farm', toOrgId: 'p1', quantity: 0 }))).toEqual([422, 'quantity']);
    expect(rule(applyMovement('active', farm, { bizStep: 'shipping', actorOrgId: 'farm' }))).toEqual([422, 'shipping-receiver']);
  });

  it('lets several holders write their own events', () => {
    const split = [h('farm', 0, 0, 1200), h('p1', 500), h('p2', 700)];
    expect(ok(applyMovement('active', split, { bizStep: 'storing', actorOrgId: 'p2' })).changed).toEqual([]);
    expect(ok(applyMovement('active', split, { bizStep: 'transforming', actorOrgId: 'p1', quantity: 500 })).changed).toEqual([h('p1', 0, 0, 500)]);
  });

  it('receives what is in transit to the receiver; less records a shortage; nothing in transit is refused', () => {
    const inTransit = [h('farm', 700, 0, 1200), h('p1', 0, 500)];
    const all = ok(applyMovement('active', inTransit, { bizStep: 'receiving', actorOrgId: 'p1' }));
    expect(all.changed).toEqual([h('p1', 500, 0, 500)]);
    const short = ok(applyMovement('active', inTransit, { bizStep: 'receiving', actorOrgId: 'p1', quantity: 480 }));
    expect([short.changed, short.shortage, short.remaining]).toEqual([[h('p1', 480, 0, 500)], 20, 1180]);
    expect(rule(applyMovement('active', inTransit, { bizStep: 'receiving', actorOrgId: 'p1', quantity: 501 }))).toEqual([409, 'insufficient-quantity']);
    expect(rule(applyMovement('active', inTransit, { bizStep: 'receiving', actorOrgId: 'p2' }))).toEqual([403, 'not-the-receiver']);
    expect(rule(applyMovement('active', farm, { bizStep: 'receiving', actorOrgId: 'p2' }))).toEqual([409, 'not-in-transit']);
  });

  it('voids a shipment: what was in transit goes back to the sender', () => {
    const r = ok(applyMovement('active', [h('farm', 700, 0, 1200), h('p1', 0, 500)], { bizStep: 'void_shipping', actorOrgId: 'farm', toOrgId: 'p1', voidable: 500 }));
    expect(r.changed).toEqual([h('farm', 1200, 0, 1200), h('p1', 0, 0, 0)]);
    expect(rule(applyMovement('active', farm, { bizStep: 'void_shipping', actorOrgId: 'farm', toOrgId: 'p1', voidable: 0 }))).toEqual([409, 'not-in-transit']);
  });

  it('finishes the batch only when nothing of it is left anywhere', () => {
    const two = [h('a', 10), h('b', 5)];
    expect(ok(applyMovement('active', two, { bizStep: 'destroying', actorOrgId: 'a' })).status).toBe('active');
    expect(ok(applyMovement('recalled', [h('a', 10)], { bizStep: 'destroying', actorOrgId: 'a' })).status).toBe('destroyed');
    expect(ok(applyMovement('active', [h('a', 1)], { bizStep: 'dispensing', actorOrgId: 'a', quantity: 1 })).status).toBe('dispensed');
    expect(rule(applyMovement('destroyed', [h('a', 1)], { bizStep: 'storing', actorOrgId: 'a' }))).toEqual([409, 'batch-destroyed']);
  });

  it('under a recall: only a return (disposition returned) to an organisation it came from, or destroying', () => {
    const shop = [h('p1', 0, 0, 4000), h('shop', 500)];
    const back = { bizStep: 'shipping', actorOrgId: 'shop', toOrgId: 'p1', quantity: 200, cameFrom: ['p1'] } as const;
    expect(rule(applyMovement('recalled', shop, { ...back, disposition: 'returned' }))).toBe('allowed');
    expect(rule(applyMovement('recalled', shop, back))).toEqual([409, 'batch-recalled']);
    expect(rule(applyMovement('recalled', shop, { ...back, disposition: 'returned', toOrgId: 'elsewhere' }))).toEqual([409, 'batch-recalled']);
    expect(rule(applyMovement('recalled', shop, { bizStep: 'retail_selling', actorOrgId: 'shop', quantity: 1 }))).toEqual([409, 'batch-recalled']);
    expect(rule(applyMovement('held', shop, { ...back, disposition: 'returned' }))).toEqual([409, 'batch-held']);
    expect(rule(applyMovement('recalled', shop, { bizStep: 'destroying', actorOrgId: 'shop', quantity: 100 }))).toBe('allowed');
  });
});

describe('massBalanceRefusal', () => {
  it('holds while holdings, in transit and what left add up to at most what was produced', () => {
    expect(massBalanceRefusal(1200, [h('farm', 0), h('p1', 0), h('p2', 700)], 500)).toBeUndefined();
    expect(massBalanceRefusal(1200, [h('farm', 100), h('p2', 700, 500)], 0)?.rule).toBe('mass-balance');
    expect(massBalanceRefusal(1200, [h('farm', -1)], 0)?.rule).toBe('mass-balance');
  });
});

describe('upstreamOf', () => {
  it('follows shipments to the holder back up to the producer', () => {
    const s = [
      { fromOrgId: 'farm', toOrgId: 'p1' },
      { fromOrgId: 'p1', toOrgId: 'shop' },
      { fromOrgId: 'farm', toOrgId: 'p2' },
    ];
    expect(upstreamOf('shop', s).sort()).toEqual(['farm', 'p1']);
    expect(upstreamOf('p2', s)).toEqual(['farm']);
    expect(upstreamOf('farm', s)).toEqual([]);
  });
});

describe('acknowledgeable', () => {
  it('is what was held and in transit at the start plus what was given since', () => {
    expect(acknowledgeable(h('shop', 500, 0, 500), h('shop', 0, 0, 500))).toBe(500);
    expect(acknowledgeable(h('shop', 0, 2000, 2000), h('shop', 2000, 0, 2000))).toBe(2000);
    expect(acknowledgeable(h('p1', 0, 0, 4000), h('p1', 200, 0, 4200))).toBe(200);
    expect(acknowledgeable(undefined, undefined)).toBe(0);
  });
});

it('isRefusal tells refusals apart', () => {
  expect(isRefusal({ status: 409, rule: 'x', message: '' })).toBe(true);
});

describe('holdingsAfter', () => {
  it('replaces the changed holdings, adds new organisations and keeps the others, in organisation order', () => {
    const before = [h('p1', 500), h('farm', 700, 0, 1200)];
    expect(holdingsAfter(before, [h('farm', 400, 0, 1200), h('retail', 0, 300)])).toEqual([h('farm', 400, 0, 1200), h('p1', 500), h('retail', 0, 300)]);
    expect(holdingsAfter(before, [])).toEqual([h('farm', 700, 0, 1200), h('p1', 500)]);
  });
});

describe('currentHolders', () => {
  it('names who holds some or has some in transit, not who held and passed it on', () => {
    const holdings: Holding[] = [
      { orgId: 'farm', quantity: 0, inTransit: 0, received: 1200 },
      { orgId: 'p1', quantity: 500, inTransit: 0, received: 500 },
      { orgId: 'p2', quantity: 0, inTransit: 700, received: 700 },
    ];
    expect(currentHolders(holdings)).toEqual(['p1', 'p2']);
    expect(currentHolders([])).toEqual([]);
  });
});
