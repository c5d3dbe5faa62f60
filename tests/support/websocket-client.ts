import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { encodeFrame, FrameReader, OPCODE, webSocketAccept } from '@trace/platform';

/** What a WebSocket handshake got: the socket (101) or the HTTP refusal. */
export type Opened = { status: 101; headers: Record<string, string | string[] | undefined>; ws: TestWebSocket } | { status: number; headers: Record<string, string | string[] | undefined>; body: any };

/**
 * A minimal RFC 6455 client for tests (Node 20 has no WebSocket client): opens the handshake, collects
 * text messages, answers pings, closes.
 */
export class TestWebSocket {
  readonly messages: string[] = [];
  closedWith?: number;
  private waiters: (() => void)[] = [];

  constructor(private readonly socket: Socket, head: Buffer) {
    const reader = new FrameReader(64 << 20);
    const onData = (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.opcode === OPCODE.text) this.messages.push(f.payload.toString('utf8'));
        else if (f.opcode === OPCODE.close) this.closedWith = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        else if (f.opcode === OPCODE.ping) socket.write(encodeFrame(OPCODE.pong, f.payload, randomBytes(4)));
      }
      this.notify();
    };
    socket.on('data', onData);
    socket.on('close', () => {
      this.closedWith ??= 1006;
      this.notify();
    });
    if (head.length) onData(head);
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
    if (!this.socket.destroyed) {
      this.socket.write(encodeFrame(OPCODE.close, Buffer.from([0x03, 0xe8]), randomBytes(4)));
      this.socket.end();
    }
  }

  private notify() {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<Opened> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key, ...headers } });
    req.on('upgrade', (res, socket, head) => {
      if (res.headers['sec-websocket-accept'] !== webSocketAccept(key)) {
        socket.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      resolve({ status: 101, headers: res.headers, ws: new TestWebSocket(socket as Socket, head) });
    });
    req.on('response', (res) => {
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
    req.on('error', reject);
    req.end();
  });
}
