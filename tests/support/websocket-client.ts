import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';

/** What a WebSocket handshake got: the socket (101) or the HTTP refusal. */
export type Opened = { status: 101; headers: IncomingHttpHeaders; ws: TestWebSocket } | { status: number; headers: IncomingHttpHeaders; body: any };

/** A WebSocket client for tests (the `ws` package's): collects text messages, closes. */
export class TestWebSocket {
  readonly messages: string[] = [];
  closedWith?: number;
  private waiters: (() => void)[] = [];

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.messages.push(data.toString());
      this.notify();
    });
    ws.on('close', (code) => {
      this.closedWith ??= code;
      this.notify();
    });
    ws.on('error', () => undefined);
  }

  get documents(): any[] {
    return this.messages.map((m) => JSON.parse(m));
  }

  /** Resolves once `done()` holds (checked at every message), or fails after `timeoutMs`. */
  async until<T>(done: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = done();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`websocket: condition not met within ${timeoutMs} ms (${this.messages.length} messages, closed: ${this.closedWith})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  private notify() {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Opens `url` (http: or ws:) with `headers`; answers the 101 with the connection, or the refusal's status, headers and (JSON) body. */
export function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers, perMessageDeflate: false });
    let upgraded: IncomingHttpHeaders = {};
    // Listening from the start: a message sent right after the 101 is not missed.
    const client = new TestWebSocket(ws);
    ws.on('upgrade', (res) => (upgraded = res.headers));
    ws.once('open', () => resolve({ status: 101, headers: upgraded, ws: client }));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.once('error', reject);
  });
}
