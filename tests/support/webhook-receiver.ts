import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, as signed. */
  raw: string;
  body: any;
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1: records every POST with its raw body and
 * answers each path with the statuses given for it, in order, then 200.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly holds = new Map<string, { arrived: () => void; answered: Promise<number> }>();
  private server?: Server;
  private waiters: (() => void)[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, raw, body, at: performance.now() });
        const hold = this.holds.get(path);
        if (hold) {
          this.holds.delete(path);
          hold.arrived();
          void hold.answered.then((status) => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok'));
          for (const w of this.waiters.splice(0)) w();
          return;
        }
        const status = this.scripts.get(path)?.shift() ?? 200;
        // 0: no answer at all (the sender times out, or dies waiting).
        if (status === 0) {
          for (const w of this.waiters.splice(0)) w();
          return;
        }
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path: string): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  /** The next answers for `path` (then 200); 0 holds the request without answering. */
  answer(path: string, ...statuses: number[]): void {
    this.scripts.set(path, statuses);
  }

  /**
   * Holds the next request to `path` unanswered: `arrived` resolves when it is here (the sender now waits
   * for the answer), `answer(status)` sends it.
   */
  holdNext(path: string): { arrived: Promise<void>; answer(status?: number): void } {
    let arrived!: () => void;
    let answer!: (status: number) => void;
    const here = new Promise<void>((resolve) => (arrived = resolve));
    this.holds.set(path, { arrived, answered: new Promise<number>((resolve) => (answer = resolve)) });
    return { arrived: here, answer: (status = 200) => answer(status) };
  }

  at(path: string): ReceivedDelivery[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once `done()` holds (checked at every request), or fails after `timeoutMs`. */
  async until<T>(done: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = done();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${this.received.length} requests: ${this.received.map((r) => r.path).join(', ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
