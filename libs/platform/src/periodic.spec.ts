import type { Logger } from './logging';
import { deleteInChunks, PeriodicTask } from './periodic';

const quiet = { info: () => undefined, error: () => undefined } as unknown as Logger;

/** Runs `work`; idle (nothing to watch) while `idle` says so. */
class Task extends PeriodicTask {
  runs: number[] = [];
  constructor(
    intervalMs: number,
    idleIntervalMs: number,
    private readonly nothingToWatch: () => boolean,
    private readonly work: () => Promise<void> = async () => undefined,
    firstAfterMs?: number,
  ) {
    super(quiet, intervalMs, 'test task', idleIntervalMs, firstAfterMs);
  }
  protected async run(): Promise<number> {
    this.runs.push(Date.now());
    await this.work();
    this.idle = this.nothingToWatch();
    return 0;
  }
}

const until = async (check: () => boolean, ms = 2000) => {
  const giveUp = Date.now() + ms;
  while (!check()) {
    if (Date.now() > giveUp) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('PeriodicTask', () => {
  it('runs every intervalMs while there is something to watch', async () => {
    const task = new Task(50, 60_000, () => false);
    task.onApplicationBootstrap();
    try {
      await until(() => task.runs.length >= 3);
      expect(task.runs[2] - task.runs[0]).toBeLessThan(1000);
    } finally {
      task.onModuleDestroy();
    }
  });

  it('after a run that found nothing to watch, waits for wake() instead of the interval, and runs at once when woken', async () => {
    const task: Task = new Task(50, 60_000, () => task.runs.length < 2);
    task.onApplicationBootstrap();
    try {
      await until(() => task.runs.length === 1);
      const woken = Date.now();
      task.wake();
      await until(() => task.runs.length === 2);
      expect(task.runs[1] - woken).toBeLessThan(500);
      // Something to watch again: back to the short interval on its own.
      await until(() => task.runs.length === 4);
    } finally {
      task.onModuleDestroy();
    }
  });

  it('a wake() during a run is not lost: the next run follows at once', async () => {
    let release!: () => void;
    const task: Task = new Task(50, 60_000, () => true, (): Promise<void> => (task.runs.length === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve()));
    task.onApplicationBootstrap();
    try {
      await until(() => task.runs.length === 1);
      task.wake();
      release();
      await until(() => task.runs.length === 2);
      expect(task.runs.length).toBe(2);
    } finally {
      task.onModuleDestroy();
    }
  });

  it('0 never runs by itself', async () => {
    const task = new Task(0, 0, () => true);
    task.onApplicationBootstrap();
    task.wake();
    expect(await task.tick()).toBe(0);
    expect(task.runs).toHaveLength(1);
    task.onModuleDestroy();
  });

  it('runs the first time after firstAfterMs, not after a whole interval', async () => {
    const started = Date.now();
    const task = new Task(60_000, 60_000, () => false, undefined, 20);
    task.start();
    try {
      await until(() => task.runs.length === 1);
      expect(task.runs[0] - started).toBeLessThan(1000);
    } finally {
      await task.stop();
    }
  });

  it('stop() resolves only after the run in progress has finished', async () => {
    let release!: () => void;
    let finished = false;
    const task: Task = new Task(10, 10, () => false, async () => {
      if (task.runs.length > 1) return;
      await new Promise<void>((r) => (release = r));
      finished = true;
    }, 0);
    task.start();
    await until(() => task.runs.length === 1);
    const stopped = task.stop();
    let stopResolved = false;
    void stopped.then(() => (stopResolved = true));
    await Promise.resolve();
    expect(stopResolved).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    // Started again, it runs again: stop() did not leave the task marked as running.
    task.start();
    await until(() => task.runs.length === 2);
    await task.stop();
  });
});

describe('deleteInChunks', () => {
  it('deletes chunk after chunk until one comes back short, and answers the total', async () => {
    const answers = [3, 3, 1, 3];
    let calls = 0;
    expect(await deleteInChunks(async () => answers[calls++], 3)).toBe(7);
    expect(calls).toBe(3);
  });
});
