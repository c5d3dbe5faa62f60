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
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const started = performance.now();
    let finished = 0;
    try {
      // 60 items of 5 ms: 300 ms of work, in slices of 20 ms.
      await new EventLoopSlices(20).map(Array.from({ length: 60 }), () => busy(5));
      finished = performance.now();
    } finally {
      clearInterval(timer);
    }
    const during = ticks.filter((t) => t > started && t < finished);
    expect(during.length).toBeGreaterThanOrEqual(4);
    // No gap between two ticks near the whole loop's 300 ms (a slice is 20 ms; the margin is for a busy machine).
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    expect(Math.max(...gaps)).toBeLessThan(150);
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
