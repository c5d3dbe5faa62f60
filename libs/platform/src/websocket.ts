import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The little of RFC 6455 (WebSocket) the EPCIS subscriptions need, written out rather than taken from a
 * package the lock file does not hold: the opening handshake, text/close/ping/pong frames, and a reader
 * of frames (a client's are masked). No extensions (no compression), no fragmented sends.
 */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export const webSocketAccept = (key: string) => createHash('sha1').update(key + GUID).digest('base64');

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One frame; `mask` is given by clients only (RFC 6455 5.3: a client masks every frame, a server none). */
export function encodeFrame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.alloc(head + (mask ? 4 : 0) + len);
  out[0] = 0x80 | opcode;
  out[1] = (mask ? 0x80 : 0) | (len < 126 ? len : len < 65_536 ? 126 : 127);
  if (len >= 126 && len < 65_536) out.writeUInt16BE(len, 2);
  else if (len >= 65_536) out.writeBigUInt64BE(BigInt(len), 2);
  if (mask) {
    mask.copy(out, head);
    for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i] ^ mask[i % 4];
  } else payload.copy(out, head);
  return out;
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Reads frames out of a byte stream; answers undefined until a whole frame is there. Refuses frames over `maxPayload`. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = 1 << 20) {}

  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Frame[] = [];
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) break;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayload)) throw new Error('WebSocket frame too large');
        len = Number(big);
        at = 10;
      }
      if (len > this.maxPayload) throw new Error('WebSocket frame too large');
      const need = at + (masked ? 4 : 0) + len;
      if (b.length < need) break;
      const payload = Buffer.from(b.subarray(at + (masked ? 4 : 0), need));
      if (masked) {
        const mask = b.subarray(at, at + 4);
        for (let i = 0; i < len; i++) payload[i] ^= mask[i % 4];
      }
      frames.push({ fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload });
      this.buffered = b.subarray(need);
    }
    return frames;
  }
}

/** A server-side connection: send text, close; `onClose` once the peer or we ended it. */
export class WebSocketConnection {
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];

  constructor(private readonly socket: Duplex, private readonly maxBuffered = 16 << 20) {
    const reader = new FrameReader(64 << 10);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch {
        this.close(1009, 'frame too large');
        return;
      }
      for (const f of frames) {
        if (f.opcode === OPCODE.close) this.close(f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1000, '');
        else if (f.opcode === OPCODE.ping) this.write(OPCODE.pong, f.payload);
        // Text and binary frames from the client mean nothing to a subscription: ignored.
      }
    });
    const ended = () => this.ended();
    socket.on('close', ended);
    socket.on('end', ended);
    socket.on('error', ended);
  }

  get open(): boolean {
    return !this.closed;
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Sends a text message; a client that reads too slowly (over maxBuffered waiting) is disconnected (1008) rather than buffered without end. */
  sendText(text: string): void {
    if (this.closed) return;
    if (this.socket.writableLength > this.maxBuffered) {
      this.close(1008, 'client reads too slowly');
      return;
    }
    this.write(OPCODE.text, Buffer.from(text, 'utf8'));
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.write(OPCODE.close, payload);
    this.socket.end();
    this.ended();
  }

  private write(opcode: number, payload: Buffer): void {
    if (!this.socket.writable) return;
    this.socket.write(encodeFrame(opcode, payload));
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }
}

/** Whether a request asks to become a WebSocket (RFC 6455 4.1). */
export const isWebSocketUpgrade = (req: IncomingMessage) =>
  (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && /\bupgrade\b/i.test(req.headers.connection ?? '');

/** Completes the opening handshake (101), or answers a 400 and undefined when the request is no valid handshake. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, headers: Record<string, string> = {}): WebSocketConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  if (req.method !== 'GET' || req.headers['sec-websocket-version'] !== '13' || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    refuseUpgrade(socket, 400, { type: 'https://problems.trace.dev/bad-request', title: 'Not a WebSocket handshake', status: 400, detail: 'GET with Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key' }, { 'Sec-WebSocket-Version': '13' });
    return undefined;
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${webSocketAccept(key)}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n'),
  );
  return new WebSocketConnection(socket);
}

/** An HTTP answer on a socket the HTTP server handed over (an upgrade refused): a problem+json body, then the socket is closed. */
export function refuseUpgrade(socket: Duplex, status: number, problem: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problem);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' }[status] ?? 'Error';
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/problem+json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', 'Cache-Control: no-store'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (socket.writable) socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}
