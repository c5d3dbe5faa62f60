import { isUtf8 } from 'node:buffer';
import { create, fromBinary, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';

/**
 * The protobuf wire format of the envelope, compiled from the generated descriptors (proto/ stays the one
 * definition: nothing here names a field) for the kinds of field proto/ uses: strings, bools, 32- and 64-bit
 * integers, doubles, enums, nested messages, repeated messages and strings, oneofs of messages.
 *
 * Why not protobuf-es's toBinary/fromBinary alone: every event is encoded once into the outbox and decoded once
 * per consumer, and there they were 8-9 % of a large EPCIS capture's main thread (create + toBinary) and of its
 * delivery (fromBinary): a message object built field by field only to be written, a writer that forks a buffer
 * per nested message, a TextDecoder call per non-ASCII string. Here the encoder reads the init shape directly
 * (no create()) into one reused buffer, and the decoder builds the same objects fromBinary does.
 *
 * The bytes are toBinary's and the messages fromBinary's (wire-codec.spec.ts compares both on every event case
 * and on random messages). Whatever falls outside what it was compiled for goes to protobuf-es instead: a
 * message type with a field kind not listed above (maps, packed or explicit-presence scalars, groups,
 * closed enums); in decoding, an unknown field (a newer producer's), a repeated occurrence of a message
 * field (merged by protobuf), a wire type other than the field's.
 */

const IMPLICIT = 2; // google.protobuf.FeatureSet.FieldPresence.IMPLICIT
/** protobuf-es ScalarType values. */
const S = { DOUBLE: 1, INT64: 3, UINT64: 4, INT32: 5, BOOL: 8, STRING: 9, UINT32: 13 } as const;

type Obj = Record<string, unknown>;

class Writer {
  buf = Buffer.allocUnsafe(16 * 1024);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: readonly number[]): void {
    this.ensure(b.length);
    for (let i = 0; i < b.length; i++) this.buf[this.pos++] = b[i];
  }

  /** A non-negative integer up to 2^53. */
  varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (v > 0x7f) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  /** Any 64-bit value, two's complement for negatives (as int64, int32 and enum negatives travel). */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    if (u <= BigInt(Number.MAX_SAFE_INTEGER)) return this.varint(Number(u));
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  signed32(v: number): void {
    if (v >= 0) this.varint(v);
    else this.varint64(BigInt(v));
  }

  double(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  /**
   * Starts length-delimited content: a one-byte length is reserved, and `end` moves the content right when the
   * length needs more (a nested message or string over 127 bytes): one copy, no buffer per nested message.
   */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  end(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    const end = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }

  string(s: string): void {
    const n = s.length;
    this.ensure(1 + n * 3);
    const buf = this.buf;
    // ASCII (ids, codes, hashes: nearly every string) byte by byte; the rest through the native encoder.
    if (n < 0x80) {
      let i = 0;
      const start = this.pos + 1;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const at = this.begin();
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.end(at);
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function tagBytes(no: number, wireType: number): number[] {
  const out: number[] = [];
  let v = no * 8 + wireType;
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const toBigInt = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number | string));

type FieldWriter = (w: Writer, m: Obj) => void;
type ValueWriter = (w: Writer, v: unknown) => void;

const supportedTypes = new WeakMap<DescMessage, boolean>();

/** Whether the message type (and every type it holds) has only the kinds of field compiled here. */
function supported(desc: DescMessage): boolean {
  let known = supportedTypes.get(desc);
  if (known === undefined) supportedTypes.set(desc, (known = supportedKinds(desc)));
  return known;
}

function supportedKinds(desc: DescMessage, seen = new Set<DescMessage>()): boolean {
  if (seen.has(desc)) return true;
  seen.add(desc);
  for (const f of desc.fields) {
    if (f.fieldKind === 'map') return false;
    if (f.fieldKind === 'enum') {
      if (f.presence !== IMPLICIT || f.enum.open === false) return false;
      continue;
    }
    if (f.fieldKind === 'scalar') {
      if (f.oneof || f.presence !== IMPLICIT || !Object.values(S).includes(f.scalar as never)) return false;
      continue;
    }
    if (f.fieldKind === 'message') {
      if (f.delimitedEncoding || !supportedKinds(f.message, seen)) return false;
      continue;
    }
    // A list: of messages, or of strings (never packed).
    if (f.listKind === 'message') {
      if (f.delimitedEncoding || !supportedKinds(f.message, seen)) return false;
    } else if (f.listKind !== 'scalar' || f.scalar !== S.STRING) return false;
  }
  return true;
}

const writers = new WeakMap<DescMessage, FieldWriter>();

/** Writes a message's fields (the init shape or the message: fields left out are zero) in field-number order. */
function messageWriter(desc: DescMessage): FieldWriter {
  const known = writers.get(desc);
  if (known) return known;
  const fieldWriters: FieldWriter[] = [];
  const write: FieldWriter = (w, m) => {
    for (let i = 0; i < fieldWriters.length; i++) fieldWriters[i](w, m);
  };
  writers.set(desc, write); // before the fields: a recursive type finds itself
  for (const f of desc.fields.concat().sort((a, b) => a.number - b.number)) fieldWriters.push(fieldWriter(f));
  return write;
}

function fieldWriter(f: DescField): FieldWriter {
  const name = f.localName;
  if (f.fieldKind === 'message') {
    const tag = tagBytes(f.number, 2);
    const write = messageWriter(f.message);
    if (f.oneof) {
      // As protobuf-es: each member in its place by number, written when it is the case set.
      const oneofName = f.oneof.localName;
      return (w, m) => {
        const o = m[oneofName] as { case?: string; value?: Obj } | undefined;
        if (o?.case !== name) return;
        w.bytes(tag);
        const at = w.begin();
        write(w, o.value ?? {});
        w.end(at);
      };
    }
    return (w, m) => {
      const v = m[name] as Obj | undefined | null;
      if (v === undefined || v === null) return;
      w.bytes(tag);
      const at = w.begin();
      write(w, v);
      w.end(at);
    };
  }
  if (f.fieldKind === 'list') {
    const tag = tagBytes(f.number, 2);
    if (f.listKind === 'message') {
      const write = messageWriter(f.message);
      return (w, m) => {
        const list = m[name] as Obj[] | undefined;
        if (!list) return;
        for (const v of list) {
          w.bytes(tag);
          const at = w.begin();
          write(w, v);
          w.end(at);
        }
      };
    }
    return (w, m) => {
      const list = m[name] as string[] | undefined;
      if (!list) return;
      for (const v of list) {
        w.bytes(tag);
        w.string(v);
      }
    };
  }
  const type = f.fieldKind === 'enum' ? S.INT32 : (f.scalar as number);
  const value = scalarWriter(type);
  const tag = tagBytes(f.number, type === S.DOUBLE ? 1 : type === S.STRING ? 2 : 0);
  // Implicit presence: the zero value (a value left out of an init shape is one) is not written, as toBinary's
  // checks have it: -0 is no zero of a double, "0" is one of a 64-bit integer.
  const isZero: (v: unknown) => boolean =
    type === S.STRING
      ? (v) => v === undefined || v === ''
      : type === S.BOOL
        ? (v) => v === undefined || v === false
        : type === S.DOUBLE
          ? (v) => v === undefined || Object.is(v, 0)
          : // 0, 0n and "0" alike, as toBinary compares
            (v) => v === undefined || v == 0;
  return (w, m) => {
    const v = m[name];
    if (isZero(v)) return;
    w.bytes(tag);
    value(w, v);
  };
}

function scalarWriter(type: number): ValueWriter {
  switch (type) {
    case S.STRING:
      return (w, v) => w.string(v as string);
    case S.BOOL:
      return (w) => w.varint(1);
    case S.UINT32:
      return (w, v) => {
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw new Error(`invalid uint32: ${String(v)}`);
        w.varint(v as number);
      };
    case S.INT32:
      return (w, v) => {
        if (!Number.isInteger(v) || (v as number) < -0x80000000 || (v as number) > 0x7fffffff) throw new Error(`invalid int32: ${String(v)}`);
        w.signed32(v as number);
      };
    case S.DOUBLE:
      return (w, v) => w.double(v as number);
    case S.INT64:
    case S.UINT64:
      return (w, v) => {
        if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) w.varint(v);
        else w.varint64(toBigInt(v));
      };
    default:
      throw new Error(`scalar type ${type} is not compiled`);
  }
}

const shared = new Writer();

/**
 * The message's bytes, exactly as `toBinary(schema, create(schema, init))` writes them, from the init shape
 * (or a message) without building the message.
 */
export function encodeMessage<D extends DescMessage>(schema: D, init: object): Buffer {
  if (!supported(schema)) return Buffer.from(toBinary(schema, create(schema, init as never)));
  const write = messageWriter(schema);
  try {
    write(shared, init as Obj);
    return shared.finish();
  } catch (err) {
    shared.pos = 0;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Thrown inside the decoder when the bytes hold what it does not decode itself: protobuf-es decodes them. */
class NotCompiled extends Error {}
const NOT_COMPILED = new NotCompiled();

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new Error('premature end of the message');
      const b = buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    // More than 49 bits (a negative int32 or int64 among them): exact only as a bigint, see varint64.
    this.pos = start;
    throw NOT_COMPILED;
  }

  varint64(): bigint {
    const start = this.pos;
    try {
      return BigInt(this.varint());
    } catch (err) {
      if (err !== NOT_COMPILED) throw err;
    }
    this.pos = start;
    return this.bigVarint();
  }

  /** A varint of up to 64 bits, as an unsigned bigint. */
  bigVarint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('premature end of the message');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new Error('invalid varint');
  }

  /** A varint whose low 32 bits are all that matter (bool, int32, uint32, enum), as a number with those bits. */
  small(): number {
    try {
      return this.varint();
    } catch (err) {
      if (err !== NOT_COMPILED) throw err;
    }
    return Number(BigInt.asIntN(32, this.bigVarint()));
  }

  /** A bool: any bit set, of all 64. */
  nonZero(): boolean {
    try {
      return this.varint() !== 0;
    } catch (err) {
      if (err !== NOT_COMPILED) throw err;
    }
    return this.bigVarint() !== 0n;
  }

  length(): number {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error('premature end of the message');
    return len;
  }

  string(): string {
    const len = this.length();
    const start = this.pos;
    const end = (this.pos += len);
    const buf = this.buf;
    for (let i = start; i < end; i++) {
      if (buf[i] <= 0x7f) continue;
      // protobuf-es refuses a proto3 string that is not UTF-8 (with its own error): it gets to say so.
      if (!isUtf8(buf.subarray(start, end))) throw NOT_COMPILED;
      return buf.toString('utf8', start, end);
    }
    return buf.latin1Slice(start, end);
  }
}

declare module 'buffer' {
  interface Buffer {
    /** Node's own (Buffer#toString('latin1') without the encoding's lookup). */
    latin1Slice(start: number, end: number): string;
  }
}

interface FieldReader {
  wireType: number;
  read: (r: Reader, m: Obj) => void;
}
interface MessageReader {
  zero: () => Obj;
  /** By field number. */
  fields: (FieldReader | undefined)[];
}

const readers = new WeakMap<DescMessage, MessageReader>();

function messageReader(desc: DescMessage): MessageReader {
  const known = readers.get(desc);
  if (known) return known;
  const template = create(desc) as Obj;
  const lists = desc.fields.filter((f) => f.fieldKind === 'list').map((f) => f.localName);
  const oneofs = desc.oneofs.map((o) => o.localName);
  // What create(desc) answers, as one object literal (the same keys in the same order, the template's zero values,
  // fresh arrays and oneof objects): a spread of the template or assignments key by key were several times slower.
  const keys = Object.keys(template).map((k) => {
    const value = lists.includes(k) ? '[]' : oneofs.includes(k) ? '{ case: undefined }' : `t[${JSON.stringify(k)}]`;
    return `${JSON.stringify(k)}: ${value}`;
  });
  const zero = new Function('t', `return () => ({ ${keys.join(', ')} });`)(template) as () => Obj;
  const reader: MessageReader = { zero, fields: [] };
  readers.set(desc, reader);
  for (const f of desc.fields) reader.fields[f.number] = fieldReader(f);
  return reader;
}

function readMessage(r: Reader, reader: MessageReader, end: number): Obj {
  const m = reader.zero();
  const outer = r.end;
  (r as { end: number }).end = end;
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wireType = tag & 7;
    const f = no < reader.fields.length ? reader.fields[no] : undefined;
    if (!f || f.wireType !== wireType) throw NOT_COMPILED;
    f.read(r, m);
  }
  (r as { end: number }).end = outer;
  return m;
}

function fieldReader(f: DescField): FieldReader {
  const name = f.localName;
  if (f.fieldKind === 'message') {
    const nested = messageReader(f.message);
    if (f.oneof) {
      const oneofName = f.oneof.localName;
      return {
        wireType: 2,
        read: (r, m) => {
          // A second occurrence of a oneof's message is merged into the first by protobuf.
          if ((m[oneofName] as { case?: string }).case !== undefined) throw NOT_COMPILED;
          const len = r.length();
          m[oneofName] = { case: name, value: readMessage(r, nested, r.pos + len) };
        },
      };
    }
    return {
      wireType: 2,
      read: (r, m) => {
        if (m[name] !== undefined) throw NOT_COMPILED;
        const len = r.length();
        m[name] = readMessage(r, nested, r.pos + len);
      },
    };
  }
  if (f.fieldKind === 'list') {
    if (f.listKind === 'message') {
      const nested = messageReader(f.message);
      return {
        wireType: 2,
        read: (r, m) => {
          const len = r.length();
          (m[name] as Obj[]).push(readMessage(r, nested, r.pos + len));
        },
      };
    }
    return { wireType: 2, read: (r, m) => (m[name] as string[]).push(r.string()) };
  }
  const type = f.fieldKind === 'enum' ? S.INT32 : (f.scalar as number);
  switch (type) {
    case S.STRING:
      return { wireType: 2, read: (r, m) => (m[name] = r.string()) };
    case S.BOOL:
      return { wireType: 0, read: (r, m) => (m[name] = r.nonZero()) };
    case S.UINT32:
      // The low 32 bits, as protobuf reads a wider varint into a 32-bit field.
      return { wireType: 0, read: (r, m) => (m[name] = r.small() >>> 0) };
    case S.INT32:
      return { wireType: 0, read: (r, m) => (m[name] = r.small() | 0) };
    case S.DOUBLE:
      return {
        wireType: 1,
        read: (r, m) => {
          if (r.pos + 8 > r.end) throw new Error('premature end of the message');
          m[name] = r.buf.readDoubleLE(r.pos);
          r.pos += 8;
        },
      };
    case S.INT64:
      return { wireType: 0, read: (r, m) => (m[name] = BigInt.asIntN(64, r.varint64())) };
    case S.UINT64:
      return { wireType: 0, read: (r, m) => (m[name] = BigInt.asUintN(64, r.varint64())) };
    default:
      throw new Error(`scalar type ${type} is not compiled`);
  }
}

/** The message `fromBinary(schema, bytes)` answers (equal to it, field for field), decoded by the compiled reader. */
export function decodeMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): ReturnType<typeof fromBinary<D>> {
  // Anything odd (and every malformed message): protobuf-es decides, and its errors are the ones callers see.
  return (decodeCompiled(schema, bytes) ?? fromBinary(schema, bytes)) as never;
}

/** The compiled reader alone: undefined where decodeMessage hands the bytes to protobuf-es. */
export function decodeCompiled(schema: DescMessage, bytes: Uint8Array): object | undefined {
  if (!supported(schema)) return undefined;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return readMessage(new Reader(buf, 0, buf.length), messageReader(schema), buf.length);
  } catch {
    return undefined;
  }
}
