import { recallEffectiveness } from './recall-effectiveness';

const ack = (batchId: string, recovered: number, destroyed: number, sold = 0) => ({ batchId, recovered, destroyed, sold });

describe('recallEffectiveness', () => {
  const scope = [
    { batchId: 'lot', quantity: 700, unit: 'kg' },
    { batchId: 'boxes', quantity: 4000, unit: 'box' },
  ];
  const holdings = [
    { batchId: 'lot', quantity: 700, inTransit: 0, unit: 'kg' },
    { batchId: 'boxes', quantity: 500, inTransit: 0, unit: 'box' },
    { batchId: 'boxes', quantity: 1500, inTransit: 0, unit: 'box' },
    { batchId: 'boxes', quantity: 0, inTransit: 2000, unit: 'box' },
  ];

  it('is (recovered + destroyed) over what was held at the start, in transit included, per unit and averaged', () => {
    const r = recallEffectiveness(scope, [ack('lot', 700, 0), ack('boxes', 300, 0), ack('boxes', 0, 1500), ack('boxes', 1000, 0, 1000), ack('boxes', 0, 200)], holdings);
    expect(r.effectiveness).toBe(0.875);
    expect(r.basis).toEqual([
      { unit: 'kg', accountedFor: 700, distributed: 700 },
      { unit: 'box', accountedFor: 3000, distributed: 4000 },
    ]);
  });

  it('never accounts for more of a batch than was held of it', () => {
    expect(recallEffectiveness(scope.slice(0, 1), [ack('lot', 900, 100)], holdings).effectiveness).toBe(1);
    expect(recallEffectiveness(scope, [ack('lot', 900, 100)], holdings).effectiveness).toBe(0.5);
  });

  it('falls back to the batch quantity, then to what was acknowledged, when no holdings are known', () => {
    expect(recallEffectiveness([{ batchId: 'a', quantity: 100, unit: 'pack' }], [ack('a', 40, 0)]).effectiveness).toBe(0.4);
    expect(recallEffectiveness([{ batchId: 'a', quantity: null, unit: null }], [ack('a', 40, 0, 60)]).basis).toEqual([{ unit: null, accountedFor: 40, distributed: 100 }]);
    expect(recallEffectiveness([{ batchId: 'a', quantity: null, unit: null }], []).effectiveness).toBe(0);
  });

  it('leaves out a batch nothing was held of (all of it went into downstream batches)', () => {
    const r = recallEffectiveness([{ batchId: 'used', quantity: 0, unit: 'kg' }, ...scope.slice(0, 1)], [ack('lot', 350, 0)], [
      { batchId: 'used', quantity: 0, inTransit: 0, unit: 'kg' },
      holdings[0],
    ]);
    expect(r).toEqual({ effectiveness: 0.5, basis: [{ unit: 'kg', accountedFor: 350, distributed: 700 }] });
  });
});
