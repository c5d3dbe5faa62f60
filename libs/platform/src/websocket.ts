import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Server-side WebSockets (RFC 6455) through the `ws` package: the handshake, framing, fragmentation,
 * control frames, masking checks and close codes are its; what is ours is when to refuse (before the
 * upgrade, as problem+json) and the little a subscription needs of a connection (send text, close, know
 * when it ended).
 */

/** Whether a request asks to become a WebSocket (RFC 6455 4.1). */
export const isWebSocketUpgrade = (req: IncomingMessage) =>
  (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && /\bupgrade\b/i.test(req.headers.connection ?? '');

/** An HTTP answer on a socket the HTTP server handed over (an upgrade refused): a problem+json body, then the socket is closed. */
export function refuseUpgrade(socket: Duplex, status: number, problem: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problem);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' }[status] ?? 'Error';
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/problem+json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', 'Cache-Control: no-store'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (socket.writable) socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}

/** A server-side connection: send text, close; `onClose` once the peer or we ended it. */
export class WebSocketConnection {
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];

  constructor(private readonly ws: WebSocket, private readonly maxBuffered = 16 << 20) {
    // Messages from the client mean nothing to a subscription: no 'message' listener, ws drops them.
    ws.on('error', () => undefined);
    ws.on('close', () => this.ended());
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Sends a text message; a client that reads too slowly (over maxBuffered waiting) is disconnected (1008) rather than buffered without end. */
  sendText(text: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.close(1008, 'client reads too slowly');
      return;
    }
    this.ws.send(text);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.ws.close(code, reason);
    this.ended();
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }
}

export interface WebSocketAcceptorOptions {
  /** The largest message a client may send (ws closes with 1009 beyond it); a subscription expects none. */
  maxPayload?: number;
  /** Bytes waiting to be sent beyond which a slow reader is disconnected. */
  maxBuffered?: number;
}

/**
 * Completes handshakes on sockets an HTTP server's 'upgrade' event handed over (ws in noServer mode: the
 * owner decides before, and refuses as problem+json); no compression.
 */
export class WebSocketAcceptor {
  private readonly server: WebSocketServer;
  private readonly extraHeaders = new WeakMap<IncomingMessage, Record<string, string>>();

  constructor(private readonly options: WebSocketAcceptorOptions = {}) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 64 << 10, perMessageDeflate: false, clientTracking: false });
    this.server.on('headers', (headers: string[], req: IncomingMessage) => {
      for (const [k, v] of Object.entries(this.extraHeaders.get(req) ?? {})) headers.push(`${k}: ${v}`);
    });
    // A request that is no valid handshake: answered as every other refusal, rather than ws's plain text.
    this.server.on('wsClientError', (err: Error, socket: Duplex) => {
      const status = /method/i.test(err.message) ? 405 : 400;
      refuseUpgrade(socket, status, { type: 'https://problems.trace.dev/bad-request', title: 'Not a WebSocket handshake', status, detail: err.message }, { 'Sec-WebSocket-Version': '13' });
    });
  }

  /** Answers 101 with `headers` and the connection, or undefined when the request was no valid handshake (answered 400). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, headers: Record<string, string> = {}): Promise<WebSocketConnection | undefined> {
    this.extraHeaders.set(req, headers);
    return new Promise((resolve) => {
      // ws calls back only on success; a refused handshake (wsClientError above) or a socket gone meanwhile ends here.
      const gone = () => resolve(undefined);
      socket.once('close', gone);
      this.server.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', gone);
        resolve(new WebSocketConnection(ws, this.options.maxBuffered));
      });
    });
  }
}
