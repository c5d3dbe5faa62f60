import { EmbeddedTransport } from './embedded-transport';
import type { DeadLetterSink, DispatchOutcome, InboundMessage, OutboundMessage } from './types';

const msg = (topic: string, key: string, body = key): OutboundMessage => ({
  topic,
  key,
  value: Buffer.from(body),
  headers: { 'x-key': key },
});

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('EmbeddedTransport', () => {
  it('is the embedded kind and healthy', async () => {
    const t = new EmbeddedTransport();
    expect(t.kind).toBe('embedded');
    await expect(t.health()).resolves.toMatchObject({ ok: true });
  });

  it('delivers each message only to subscribers of its topic, in order', async () => {
    const t = new EmbeddedTransport({ concurrency: 1 });
    const got: Record<string, string[]> = { a: [], b: [], c: [] };
    const record = (name: string) => async (m: InboundMessage): Promise<DispatchOutcome> => {
      got[name].push(`${m.topic}:${m.key}`);
      return 'processed';
    };
    await t.subscribe('a', ['t1'], record('a'));
    await t.subscribe('b', ['t2'], record('b'));
    await t.subscribe('c', ['t1', 't2'], record('c'));

    await t.publish([msg('t1', 'k1'), msg('t2', 'k2'), msg('t3', 'k3'), msg('t1', 'k4')]);

    expect(got.a).toEqual(['t1:k1', 't1:k4']);
    expect(got.b).toEqual(['t2:k2']);
    expect(got.c).toEqual(['t1:k1', 't2:k2', 't1:k4']);
  });

  it('hands over topic, key, value and headers unchanged', async () => {
    const t = new EmbeddedTransport();
    const received: InboundMessage[] = [];
    await t.subscribe('c', ['t1'], async (m) => {
      received.push(m);
      return 'processed';
    });
    const out = msg('t1', 'subject-1', 'payload-bytes');
    await t.publish([out]);
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({ topic: 't1', key: 'subject-1', value: out.value, headers: { 'x-key': 'subject-1' } });
    expect(received[0].value.toString()).toBe('payload-bytes');
  });

  it('awaits each dispatch before the next, and publish resolves only after all of them', async () => {
    const t = new EmbeddedTransport({ concurrency: 1 });
    const log: string[] = [];
    const slow = (name: string) => async (m: InboundMessage): Promise<DispatchOutcome> => {
      log.push(`${name}:start:${m.key}`);
      await tick();
      log.push(`${name}:end:${m.key}`);
      return 'processed';
    };
    await t.subscribe('a', ['t1'], slow('a'));
    await t.subscribe('b', ['t1'], slow('b'));

    await t.publish([msg('t1', 'k1'), msg('t1', 'k2')]);
    log.push('published');

    expect(log).toEqual([
      'a:start:k1',
      'a:end:k1',
      'b:start:k1',
      'b:end:k1',
      'a:start:k2',
      'a:end:k2',
      'b:start:k2',
      'b:end:k2',
      'published',
    ]);
  });

  it('refuses to subscribe the same consumer twice', async () => {
    const t = new EmbeddedTransport();
    const d = async (): Promise<DispatchOutcome> => 'processed';
    await t.subscribe('lineage', ['t1'], d);
    await expect(t.subscribe('lineage', ['t2'], d)).rejects.toThrow(/lineage is already subscribed/);
  });

  it('propagates a dispatch error from publish and stops delivering', async () => {
    const t = new EmbeddedTransport({ concurrency: 1 });
    const delivered: string[] = [];
    await t.subscribe('a', ['t1'], async (m) => {
      delivered.push(`a:${m.key}`);
      if (m.key === 'bad') throw new Error('database down');
      return 'processed';
    });
    await t.subscribe('b', ['t1'], async (m) => {
      delivered.push(`b:${m.key}`);
      return 'processed';
    });

    await expect(t.publish([msg('t1', 'ok'), msg('t1', 'bad'), msg('t1', 'later')])).rejects.toThrow('database down');
    expect(delivered).toEqual(['a:ok', 'b:ok', 'a:bad']);
  });

  it('publishing with no subscribers or no messages is a no-op', async () => {
    const t = new EmbeddedTransport();
    await expect(t.publish([msg('t1', 'k')])).resolves.toBeUndefined();
    await expect(t.publish([])).resolves.toBeUndefined();
  });

  it('close drops the subscriptions, so the consumer may subscribe again', async () => {
    const t = new EmbeddedTransport();
    const seen: string[] = [];
    await t.subscribe('a', ['t1'], async (m) => {
      seen.push(m.key ?? '');
      return 'processed';
    });
    await t.close();
    await t.publish([msg('t1', 'after-close')]);
    expect(seen).toEqual([]);
    await expect(t.subscribe('a', ['t1'], async () => 'processed')).resolves.toBeUndefined();
  });

  it('uses the table sink for dead letters', () => {
    const sink: DeadLetterSink = { deadLetter: async () => undefined };
    expect(new EmbeddedTransport().deadLetterSink('c', sink)).toBe(sink);
  });

  describe('with concurrency', () => {
    it('keeps each key in order per consumer while different keys overlap', async () => {
      const t = new EmbeddedTransport({ concurrency: 4 });
      const log: string[] = [];
      let running = 0;
      let peak = 0;
      await t.subscribe('a', ['t1'], async (m) => {
        running++;
        peak = Math.max(peak, running);
        log.push(`start:${m.value.toString()}`);
        await tick();
        log.push(`end:${m.value.toString()}`);
        running--;
        return 'processed';
      });
      await t.publish([msg('t1', 'k1', 'k1#1'), msg('t1', 'k2', 'k2#1'), msg('t1', 'k1', 'k1#2'), msg('t1', 'k3', 'k3#1'), msg('t1', 'k2', 'k2#2')]);

      expect(peak).toBeGreaterThan(1);
      for (const key of ['k1', 'k2']) {
        // The second message of a key starts only after the first has ended.
        expect(log.indexOf(`start:${key}#2`)).toBeGreaterThan(log.indexOf(`end:${key}#1`));
      }
      expect(log.filter((l) => l.startsWith('end:'))).toHaveLength(5);
    });

    it('never runs more deliveries at once than allowed, across consumers', async () => {
      const t = new EmbeddedTransport({ concurrency: 2 });
      let running = 0;
      let peak = 0;
      const slow = async (): Promise<DispatchOutcome> => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        return 'processed';
      };
      await t.subscribe('a', ['t1'], slow);
      await t.subscribe('b', ['t1'], slow);
      await t.publish(Array.from({ length: 6 }, (_, i) => msg('t1', `k${i}`)));
      expect(peak).toBe(2);
    });

    it('on a failure, stops that key, lets started lanes finish, then rejects', async () => {
      const t = new EmbeddedTransport({ concurrency: 2 });
      const delivered: string[] = [];
      await t.subscribe('a', ['t1'], async (m) => {
        const v = m.value.toString();
        if (v === 'bad#1') throw new Error('database down');
        await tick();
        delivered.push(v);
        return 'processed';
      });
      await expect(t.publish([msg('t1', 'bad', 'bad#1'), msg('t1', 'ok', 'ok#1'), msg('t1', 'bad', 'bad#2'), msg('t1', 'ok', 'ok#2')])).rejects.toThrow('database down');
      // The failing key went no further (its later message waits for the re-delivery); the other lane completed.
      expect(delivered).toEqual(['ok#1', 'ok#2']);
    });
  
    it('bounds deliveries across publishes and gives a freed slot to the priority topic first', async () => {
      const t = new EmbeddedTransport({ concurrency: 1, priorityTopics: ['urgent'] });
      const order: string[] = [];
      let running = 0;
      let peak = 0;
      let releaseFirst!: () => void;
      const firstHeld = new Promise<void>((r) => (releaseFirst = r));
      await t.subscribe('reader', ['bulk', 'urgent'], async (m) => {
        running++;
        peak = Math.max(peak, running);
        order.push(m.value.toString());
        if (m.value.toString() === 'bulk-1') await firstHeld;
        await tick();
        running--;
        return 'processed';
      });
      // concurrency 1: bulk-1 holds the slot, bulk-2..3 queue (other keys), then the urgent one queues last.
      const bulk = t.publish([msg('bulk', 'a', 'bulk-1'), msg('bulk', 'b', 'bulk-2'), msg('bulk', 'c', 'bulk-3')]);
      await tick();
      const urgent = t.publish([msg('urgent', 'r', 'urgent-1')]);
      await tick();
      releaseFirst();
      await Promise.all([bulk, urgent]);
      expect(peak).toBe(1);
      expect(order).toEqual(['bulk-1', 'urgent-1', 'bulk-2', 'bulk-3']);
    });

  describe('a consumer that takes batches', () => {
    it('gets runs of up to batchSize with every key in publish order, and a priority message alone', async () => {
      const t = new EmbeddedTransport({ concurrency: 2, batchSize: 3, priorityTopics: ['urgent'] });
      const calls: string[][] = [];
      await t.subscribe(
        'reader',
        ['bulk', 'urgent'],
        async (m) => {
          calls.push([m.value.toString()]);
          return 'processed';
        },
        async (ms) => {
          calls.push(ms.map((m) => m.value.toString()));
          await tick();
          return ms.map(() => 'processed' as const);
        },
      );
      // Twelve messages over three keys, an urgent one for k0 in the middle.
      const out: OutboundMessage[] = [];
      for (let i = 0; i < 12; i++) out.push(msg('bulk', `k${i % 3}`, `k${i % 3}-${i}`));
      out.splice(6, 0, msg('urgent', 'k0', 'urgent'));
      await t.publish(out);

      expect(calls.every((c) => c.length <= 3)).toBe(true);
      expect(calls.some((c) => c.length > 1)).toBe(true);
      expect(calls.filter((c) => c.includes('urgent'))).toEqual([['urgent']]);
      const delivered = calls.flat();
      expect([...delivered].sort()).toEqual(out.map((m) => m.value.toString()).sort());
      // A key's messages sit in one lane, one call after the other: their order is the order published.
      for (const key of ['k0', 'k1', 'k2']) {
        expect(delivered.filter((v) => v.startsWith(`${key}-`))).toEqual(out.filter((m) => m.key === key && m.topic === 'bulk').map((m) => m.value.toString()));
      }
      expect(delivered.indexOf('urgent')).toBeGreaterThan(delivered.indexOf('k0-3'));
      expect(delivered.indexOf('urgent')).toBeLessThan(delivered.indexOf('k0-6'));
    });

    it('goes one message at a time while a priority delivery waits or runs, and back to batches after', async () => {
      const t = new EmbeddedTransport({ concurrency: 2, batchSize: 10, priorityTopics: ['urgent'] });
      let releaseUrgent!: () => void;
      const urgentHeld = new Promise<void>((r) => (releaseUrgent = r));
      await t.subscribe('domain', ['urgent'], async () => {
        await urgentHeld;
        return 'processed';
      });
      const calls: number[] = [];
      await t.subscribe(
        'read-model',
        ['bulk'],
        async () => {
          calls.push(1);
          return 'processed';
        },
        async (ms) => {
          calls.push(ms.length);
          return ms.map(() => 'processed' as const);
        },
      );
      const urgent = t.publish([msg('urgent', 'recall')]);
      await tick();
      await t.publish(Array.from({ length: 6 }, (_, i) => msg('bulk', `k${i}`)));
      expect(calls.every((n) => n === 1)).toBe(true);
      releaseUrgent();
      await urgent;
      calls.length = 0;
      await t.publish(Array.from({ length: 6 }, (_, i) => msg('bulk', `k${i}`)));
      expect(calls.some((n) => n > 1)).toBe(true);
    });
  });
});
});
