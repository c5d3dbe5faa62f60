import { readFile } from 'node:fs';
import { EventLoopSlices, nextTurn } from './event-loop-slices';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: synchronous work, as a capture's planning is
  }
};

describe('EventLoopSlices', () => {
  it('maps in order, as Array#map does', async () => {
    expect(await new EventLoopSlices().map(['a', 'b', 'c'], (x, i) => `${x}${i}`)).toEqual(['a0', 'b1', 'c2']);
  });

  it('lets a timer that is due run between slices of a long loop, not only after it', async () => {
    // Counted at each hand-back, not timed: on a loaded machine the process itself is paused for longer than a
    // slice (CI saw a 271 ms gap between two ticks), which says nothing about the slicing.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const handBacks: { before: number; after: number }[] = [];
    class Counted extends EventLoopSlices {
      override async yieldNow(): Promise<void> {
        const before = ticks;
        await super.yieldNow();
        handBacks.push({ before, after: ticks });
      }
    }
    try {
      // 60 items of 5 ms: 300 ms of work, in slices of 20 ms.
      await new Counted(20).map(Array.from({ length: 60 }), () => busy(5));
    } finally {
      clearInterval(timer);
    }
    // At least 20 ms since the last hand-back each time, so the 5 ms timer is due at every one: it runs in each.
    expect(handBacks.length).toBeGreaterThanOrEqual(10);
    expect(handBacks.filter((h) => h.after <= h.before)).toEqual([]);
  });

  it('nextTurn lets a due timer run first even when called while the loop handles I/O, where one setImmediate does not', async () => {
    const order = await new Promise<string[]>((resolve) => {
      // A file read's callback runs where a request body's last chunk is handled: in the loop's I/O phase.
      readFile(__filename, () => {
        const seen: string[] = [];
        setTimeout(() => seen.push('timer'), 0);
        busy(5); // the timer is due now
        setImmediate(() => seen.push('setImmediate'));
        void nextTurn().then(() => {
          seen.push('nextTurn');
          resolve(seen);
        });
      });
    });
    expect(order).toEqual(['setImmediate', 'timer', 'nextTurn']);
  });
});
