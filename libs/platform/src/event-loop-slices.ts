/**
 * Long loops of synchronous work (planning a 10,000-event capture: half a second) in slices: every service
 * of the embedded app shares one event loop, and a scan or a health check must not wait behind such a loop.
 * `due()` is cheap enough to call every iteration; when it says so, `await yieldNow()` lets what queued
 * meanwhile run (setImmediate: after pending I/O callbacks), then the loop goes on.
 */
export class EventLoopSlices {
  private sliceStart = performance.now();

  /** `budgetMs`: the longest the loop keeps the event loop to itself. */
  constructor(private readonly budgetMs = 20) {}

  due(): boolean {
    return performance.now() - this.sliceStart >= this.budgetMs;
  }

  async yieldNow(): Promise<void> {
    await nextTurn();
    this.sliceStart = performance.now();
  }

  /** `fn` over `items` in order, in slices: like `items.map(fn)`, with the event loop given back between slices. */
  async map<T, R>(items: readonly T[], fn: (item: T, index: number) => R): Promise<R[]> {
    const out: R[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      if (this.due()) await this.yieldNow();
      out[i] = fn(items[i], i);
    }
    return out;
  }
}

/**
 * Resolves once the event loop has been round once: after the timers that are due and the I/O that is
 * ready (another request's bytes, a query's answer). One setImmediate is not always that: set while the
 * loop is handling I/O (a request body's last chunk arrived, and was parsed), it runs in the same turn,
 * before any timer; set from another setImmediate, it runs in the next. Two in a row always are.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
