import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { isWebSocketUpgrade, WebSocketAcceptor, type WebSocketConnection } from './websocket';

/** A real HTTP server whose upgrades the acceptor completes (what the EPCIS subscriptions do, minus the authorisation). */
describe('WebSocketAcceptor (ws, noServer)', () => {
  let server: Server;
  let url: string;
  const accepted: WebSocketConnection[] = [];
  const acceptor = new WebSocketAcceptor({ maxPayload: 16 });

  beforeAll(async () => {
    server = createServer((_req, res) => res.end());
    server.on('upgrade', (req, socket, head) => {
      void acceptor.accept(req, socket, head, { 'GS1-Query-Min-Record-Time': '2026-12-06T08:00:00.000Z' }).then((c) => {
        if (!c) return;
        accepted.push(c);
        c.sendText('hello');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    for (const c of accepted) c.close(1001);
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers 101 with the extra headers, sends text; the server closing reaches the client with its code', async () => {
    const ws = new WebSocket(url);
    const upgraded = new Promise<IncomingMessage['headers']>((resolve) => ws.once('upgrade', (res) => resolve(res.headers)));
    const message = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    expect((await upgraded)['gs1-query-min-record-time']).toBe('2026-12-06T08:00:00.000Z');
    expect(await message).toBe('hello');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const connection = accepted[accepted.length - 1];
    let told = false;
    connection.onClose(() => (told = true));
    connection.close(1000, 'query deleted');
    expect([await closed, told, connection.open]).toEqual([1000, true, false]);
  });

  it('closes with 1009 on a client message over maxPayload, and tells the owner', async () => {
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(17));
    expect(await closed).toBe(1009);
    const connection = accepted[accepted.length - 1];
    await new Promise<void>((resolve) => connection.onClose(resolve));
    expect(connection.open).toBe(false);
  });

  it('answers a request that is no valid handshake with problem+json 400, not a 101', async () => {
    const answer = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
      const req = request(url.replace('ws:', 'http:'), { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'short' } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect([answer.status, answer.type, JSON.parse(answer.body).status]).toEqual([400, 'application/problem+json', 400]);
  });

  it('tells an upgrade request from a plain one', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(isWebSocketUpgrade(req({ upgrade: 'WebSocket', connection: 'keep-alive, Upgrade' }))).toBe(true);
    expect(isWebSocketUpgrade(req({ upgrade: 'h2c', connection: 'Upgrade' }))).toBe(false);
    expect(isWebSocketUpgrade(req({ upgrade: 'websocket', connection: 'keep-alive' }))).toBe(false);
  });
});
