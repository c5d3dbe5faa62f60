import { encodeFrame, FrameReader, OPCODE, webSocketAccept } from './websocket';

describe('WebSocket frames (RFC 6455)', () => {
  it('answers the RFC\'s sample key with its sample accept value', () => {
    expect(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('encodes the RFC\'s unmasked and masked "Hello" frames', () => {
    expect(encodeFrame(OPCODE.text, Buffer.from('Hello')).toString('hex')).toBe('810548656c6c6f');
    expect(encodeFrame(OPCODE.text, Buffer.from('Hello'), Buffer.from('37fa213d', 'hex')).toString('hex')).toBe('818537fa213d7f9f4d5158');
  });

  it('reads frames of 7-, 16- and 64-bit lengths, masked or not, split anywhere across chunks', () => {
    const payloads = [Buffer.from('a'), Buffer.alloc(300, 1), Buffer.alloc(70_000, 2)];
    const wire = Buffer.concat(payloads.map((p, i) => encodeFrame(OPCODE.text, p, i === 1 ? Buffer.from('01020304', 'hex') : undefined)));
    const reader = new FrameReader(1 << 20);
    const frames: ReturnType<FrameReader["push"]> = [];
    for (let at = 0; at < wire.length; at += 997) frames.push(...reader.push(wire.subarray(at, at + 997)));
    expect(frames.map((f) => [f.fin, f.opcode, f.payload.equals(payloads[frames.indexOf(f)])])).toEqual([[true, 1, true], [true, 1, true], [true, 1, true]]);
  });

  it('refuses a frame longer than its limit', () => {
    expect(() => new FrameReader(100).push(encodeFrame(OPCODE.text, Buffer.alloc(101)))).toThrow(/too large/);
  });
});
