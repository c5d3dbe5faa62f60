import { create, fromBinary, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema } from './gen/trace/v1/envelope_pb';
import { decodeCompiled, decodeMessage, encodeMessage } from './wire-codec';

/** A deterministic generator (mulberry32), so a failure names its seed and comes back the same. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = ['abcdefghijklmnopqrstuvwxyz0123456789-:/.', '承诺达标合格证批次', 'é€ü', '😀🧪', '\u0000\u007f\u0080', '\ud800x'];

function randomString(next: () => number): string {
  const lengths = [0, 1, 36, 64, 127, 128, 300];
  const n = lengths[Math.floor(next() * lengths.length)];
  const alphabet = ALPHABETS[Math.floor(next() * ALPHABETS.length)];
  let s = '';
  while (s.length < n) s += alphabet[Math.floor(next() * alphabet.length)];
  return s;
}

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[Math.floor(next() * xs.length)];
}

/** A random init shape of `desc`: every field left out, zero, or set, with edge values of its type. */
function randomInit(desc: DescMessage, next: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const oneof of desc.oneofs) {
    if (next() < 0.2) continue;
    const c = pick(next, oneof.fields);
    out[oneof.localName] = { case: c.localName, value: randomInit((c as DescField & { message: DescMessage }).message, next, depth + 1) };
  }
  for (const f of desc.fields) {
    if (f.oneof || next() < 0.25) continue;
    if (f.fieldKind === 'message') {
      if (depth < 4) out[f.localName] = randomInit(f.message, next, depth + 1);
    } else if (f.fieldKind === 'list') {
      const n = pick(next, [0, 1, 3]);
      out[f.localName] = Array.from({ length: n }, () => (f.listKind === 'message' ? randomInit(f.message, next, depth + 1) : randomString(next)));
    } else if (f.fieldKind === 'enum') {
      out[f.localName] = pick(next, f.enum.values).number;
    } else {
      out[f.localName] = randomScalar(f.scalar as number, next);
    }
  }
  return out;
}

function randomScalar(type: number, next: () => number): unknown {
  switch (type) {
    case 9: // string
      return randomString(next);
    case 8: // bool
      return next() < 0.5;
    case 13: // uint32
      return pick(next, [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1]);
    case 5: // int32
      return pick(next, [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]);
    case 1: // double
      return pick(next, [0, -0, 1.5, -2.25, 1e300, Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY]);
    case 3: // int64
      return pick(next, [0n, 1n, -1n, 1_733_000_000n, -62_135_596_800n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 5, '42']);
    case 4: // uint64
      return pick(next, [0n, 1n, 127n, 128n, 2n ** 49n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 64n - 1n, 7, '9007199254740993']);
    default:
      throw new Error(`no random value for scalar ${type}`);
  }
}

/** One of every event case, every field set, as producers fill them. */
function fullEnvelopes() {
  const payloadOneof = EventEnvelopeSchema.oneofs[0];
  const next = rng(7);
  return payloadOneof.fields.map((c) => ({
    id: '6f1c1d1e-8f7a-4a57-9a5e-0f2d3b4c5d6e',
    type: (c as DescField & { message: DescMessage }).message.typeName,
    version: 1,
    source: 'agri',
    orgId: 'org-承诺',
    subject: 'batch-1',
    occurredAt: timestampFromDate(new Date('2026-12-07T10:11:12.345Z')),
    recordedAt: timestampFromDate(new Date('1969-07-20T20:17:40.000Z')),
    correlationId: 'c'.repeat(200),
    causationId: '',
    payload: { case: c.localName, value: randomInit((c as DescField & { message: DescMessage }).message, () => Math.max(0.3, next())) },
  }));
}

describe('the compiled envelope codec', () => {
  it('writes the bytes toBinary writes, for every event case with every field set', () => {
    for (const init of fullEnvelopes()) {
      const bytes = encodeMessage(EventEnvelopeSchema, init);
      expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never))).toString('hex'));
      // A message (not an init shape) encodes the same.
      expect(encodeMessage(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never)).equals(bytes)).toBe(true);
    }
  });

  it('reads, without protobuf-es, the message fromBinary reads, for every event case', () => {
    for (const init of fullEnvelopes()) {
      const bytes = toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never));
      const compiled = decodeCompiled(EventEnvelopeSchema, bytes);
      expect(compiled).toBeDefined();
      expect(compiled).toStrictEqual(fromBinary(EventEnvelopeSchema, bytes));
      expect(decodeMessage(EventEnvelopeSchema, Buffer.from(bytes))).toStrictEqual(fromBinary(EventEnvelopeSchema, bytes));
    }
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('agrees with protobuf-es on 250 random envelopes (seed %i)', (seed) => {
    const next = rng(seed);
    for (let i = 0; i < 250; i++) {
      const init = randomInit(EventEnvelopeSchema, next);
      const expected = toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never));
      const bytes = encodeMessage(EventEnvelopeSchema, init);
      if (!bytes.equals(expected)) throw new Error(`seed ${seed}, message ${i}: bytes differ for ${JSON.stringify(init, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
      const compiled = decodeCompiled(EventEnvelopeSchema, expected);
      expect(compiled).toBeDefined();
      expect(compiled).toStrictEqual(fromBinary(EventEnvelopeSchema, expected));
    }
  });

  it('an empty envelope is no bytes, and reads back as create() makes it', () => {
    expect(encodeMessage(EventEnvelopeSchema, {}).length).toBe(0);
    expect(decodeMessage(EventEnvelopeSchema, new Uint8Array(0))).toStrictEqual(create(EventEnvelopeSchema));
  });

  it('a message larger than its reused buffer (16 KiB) is written whole', () => {
    const init = { id: 'x', correlationId: '长'.repeat(20_000), payload: { case: 'batchRegistered', value: { gtin: 'g'.repeat(70_000) } } };
    const bytes = encodeMessage(EventEnvelopeSchema, init);
    expect(bytes.equals(Buffer.from(toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never))))).toBe(true);
    expect(decodeCompiled(EventEnvelopeSchema, bytes)).toStrictEqual(fromBinary(EventEnvelopeSchema, bytes));
    // The buffer is reused: the next (small) message carries nothing of this one.
    expect(encodeMessage(EventEnvelopeSchema, { id: 'y' }).toString('hex')).toBe('0a0179');
    // Past a megabyte, the buffer grown for it is let go; the same bytes either way.
    const huge = { id: 'x', payload: { case: 'batchRegistered', value: { gtin: 'g'.repeat(3_000_000) } } };
    expect(encodeMessage(EventEnvelopeSchema, huge).equals(Buffer.from(toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, huge as never))))).toBe(true);
    expect(encodeMessage(EventEnvelopeSchema, init).equals(bytes)).toBe(true);
  });

  it.each([
    ['a uint32 below 0', { version: -1 }, /uint32/],
    ['a uint32 over 2^32 - 1', { version: 2 ** 32 }, /uint32/],
    ['a uint64 below 0', { payload: { case: 'traceEventRecorded', value: { seq: -1n } } }, /uint64/],
    ['a uint64 over 2^64 - 1', { payload: { case: 'traceEventRecorded', value: { seq: 2n ** 64n } } }, /uint64/],
    ['an int64 over 2^63 - 1', { occurredAt: { seconds: 2n ** 63n } }, /int64/],
  ])('refuses what toBinary refuses: %s', (_, init, message) => {
    expect(() => toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, init as never))).toThrow();
    expect(() => encodeMessage(EventEnvelopeSchema, init)).toThrow(message);
    // and the next message is not polluted by the half-written one
    expect(encodeMessage(EventEnvelopeSchema, { id: 'y' }).toString('hex')).toBe('0a0179');
  });

  it('leaves to protobuf-es what it does not read itself, with the same answers', () => {
    const known = toBinary(EventEnvelopeSchema, create(EventEnvelopeSchema, { id: 'a', payload: { case: 'batchRegistered', value: { gtin: '1' } } }));
    // An unknown field (a newer producer's) is kept in $unknown by protobuf-es.
    const unknown = new BinaryWriter().raw(known).tag(99, WireType.Varint).uint32(5).finish();
    expect(decodeCompiled(EventEnvelopeSchema, unknown)).toBeUndefined();
    expect(decodeMessage(EventEnvelopeSchema, unknown)).toStrictEqual(fromBinary(EventEnvelopeSchema, unknown));
    // The payload twice: protobuf merges the second into the first.
    const twice = new BinaryWriter()
      .raw(known)
      .tag(20, WireType.LengthDelimited)
      .bytes(toBinary(EventEnvelopeSchema.field.batchRegistered.message!, create(EventEnvelopeSchema.field.batchRegistered.message!, { lot: 'L' } as never)))
      .finish();
    expect(decodeCompiled(EventEnvelopeSchema, twice)).toBeUndefined();
    expect((decodeMessage(EventEnvelopeSchema, twice).payload.value as { gtin: string; lot: string }).lot).toBe('L');
    expect(decodeMessage(EventEnvelopeSchema, twice)).toStrictEqual(fromBinary(EventEnvelopeSchema, twice));
    // Truncated bytes: protobuf-es's error.
    const truncated = known.subarray(0, known.length - 1);
    expect(() => fromBinary(EventEnvelopeSchema, truncated)).toThrow();
    expect(() => decodeMessage(EventEnvelopeSchema, truncated)).toThrow();
  });

  it('refuses invalid UTF-8 in a string as fromBinary does', () => {
    const bad = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(new Uint8Array([0x61, 0xc3, 0x28, 0xff, 0xe2, 0x82])).finish();
    expect(() => fromBinary(EventEnvelopeSchema, bad)).toThrow(/utf-8/);
    expect(decodeCompiled(EventEnvelopeSchema, bad)).toBeUndefined();
    expect(() => decodeMessage(EventEnvelopeSchema, bad)).toThrow(/utf-8/);
  });

  it('reads a 32-bit field written wide (a negative int32 in ten bytes, a uint32 over 2^32) as protobuf-es does', () => {
    const wide = new BinaryWriter().tag(3, WireType.Varint).uint64(2n ** 40n + 7n).finish();
    expect(decodeCompiled(EventEnvelopeSchema, wide)).toStrictEqual(fromBinary(EventEnvelopeSchema, wide));
    const negative = new BinaryWriter().tag(3, WireType.Varint).int64(-5n).finish();
    expect(decodeCompiled(EventEnvelopeSchema, negative)).toStrictEqual(fromBinary(EventEnvelopeSchema, negative));
    // An enum (int32) given 2^31 + 5 and 2^32 + 5: protobuf keeps the low 32 bits, signed.
    for (const wideValue of [2n ** 31n + 5n, 2n ** 32n + 5n]) {
      const ref = new BinaryWriter().tag(1, WireType.Varint).uint64(wideValue).finish();
      const registered = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(ref).finish();
      const envelope = new BinaryWriter().tag(20, WireType.LengthDelimited).bytes(registered).finish();
      expect(decodeCompiled(EventEnvelopeSchema, envelope)).toStrictEqual(fromBinary(EventEnvelopeSchema, envelope));
    }
  });
});
