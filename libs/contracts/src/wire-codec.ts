import { isUtf8 } from 'node:buffer';
import { create, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';

/**
 * The protobuf wire format of the envelope, compiled from the generated descriptors (proto/ stays the one
 * definition: nothing here names a field) for the kinds of field proto/ uses: strings, bools, 32- and 64-bit
 * integers, doubles, enums, nested messages, repeated messages and strings, oneofs of messages.
 *
 * Why not protobuf-es's toBinary/fromBinary alone: every event is encoded once into the outbox and decoded once
 * per consumer, and there they were 8-9 % of a large EPCIS capture's main thread (create + toBinary) and of its
 * delivery (fromBinary): a message object built field by field only to be written, a writer that forks a buffer
 * per nested message, reflection over each field. Here each message type gets a writer and a reader generated
 * from its descriptor (straight-line code, one property site per field); the writer reads the init shape
 * directly (no create()) into one reused buffer, and the reader builds the same objects fromBinary does.
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

const INITIAL_BUFFER_BYTES = 16 * 1024;
const KEPT_BUFFER_BYTES = 1024 * 1024;

class Writer {
  buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
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
    const prefix = varintBytes(len);
    const extra = prefix.length - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    for (let i = 0; i < prefix.length; i++) this.buf[at + i] = prefix[i];
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
    this.reset();
    return out;
  }

  /** Ready for the next message; a buffer grown for a large one (a recall's scope) is not kept. */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > KEPT_BUFFER_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  }
}

/** A non-negative integer's varint bytes: a tag's, worked out once per field; a long content's length prefix. */
function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const toBigInt = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number | string));

type MessageWriter = (w: Writer, m: Obj) => void;

/** What generated writers call: one function per kind of value, each called with values of one type only. */
const WRITE = {
  uint32(w: Writer, v: unknown): void {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) invalid('uint32', v);
    w.varint(v as number);
  },
  int32(w: Writer, v: unknown): void {
    if (!Number.isInteger(v) || (v as number) < -0x80000000 || (v as number) > 0x7fffffff) invalid('int32', v);
    w.signed32(v as number);
  },
  int64(w: Writer, v: unknown): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return w.varint(v);
    const b = toBigInt(v);
    w.varint64(BigInt.asIntN(64, b) === b ? b : invalid('int64', v));
  },
  uint64(w: Writer, v: unknown): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return w.varint(v);
    const b = toBigInt(v);
    w.varint64(BigInt.asUintN(64, b) === b ? b : invalid('uint64', v));
  },
};

/** As toBinary refuses a value out of its field's range. */
function invalid(type: string, v: unknown): never {
  throw new Error(`invalid ${type}: ${String(v)}`);
}

/**
 * The nested message types a generated writer or reader calls, each by its index in `compiled`: filled once the
 * function itself is registered, so that a recursive type finds itself instead of compiling for ever.
 */
function nestedTypes<F>() {
  const types: DescMessage[] = [];
  const compiled: F[] = [];
  return {
    compiled,
    index(d: DescMessage): number {
      const i = types.indexOf(d);
      return i >= 0 ? i : types.push(d) - 1;
    },
    compile(of: (d: DescMessage) => F): void {
      for (const d of types) compiled.push(of(d));
    },
  };
}

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

const writers = new WeakMap<DescMessage, MessageWriter>();

/** A property read in generated code: the name quoted as a JSON string, so any name is safe there. */
const prop = (name: string) => `[${JSON.stringify(name)}]`;

/**
 * The writer of a message type (its init shape or the message: fields left out are zero), generated as one
 * function of straight-line code in field-number order, as toBinary writes them. Generated rather than a loop
 * over per-field closures: each property read is then at a site of its own, which sees one shape (the
 * closures' shared sites saw every message's, and were half of the time).
 */
function messageWriter(desc: DescMessage): MessageWriter {
  const known = writers.get(desc);
  if (known) return known;
  const nested = nestedTypes<MessageWriter>();
  const lines: string[] = ['let v;'];
  // A tag as its bytes, written one by one (an array literal would be a new array at every write).
  const tag = (no: number, wireType: number) => {
    const bytes = varintBytes(no * 8 + wireType);
    return `w.ensure(${bytes.length}); ${bytes.map((b) => `w.buf[w.pos++] = ${b};`).join(' ')}`;
  };
  const message = (no: number, value: string, d: DescMessage) =>
    `${tag(no, 2)} const at = w.begin(); N[${nested.index(d)}](w, ${value}); w.end(at);`;
  for (const f of desc.fields.concat().sort((a, b) => a.number - b.number)) {
    if (f.fieldKind === 'message') {
      if (f.oneof) {
        // As protobuf-es: each member in its place by number, written when it is the case set.
        lines.push(`v = m${prop(f.oneof.localName)}; if (v !== undefined && v !== null && v.case === ${JSON.stringify(f.localName)}) { ${message(f.number, 'v.value ?? {}', f.message)} }`);
      } else {
        lines.push(`v = m${prop(f.localName)}; if (v !== undefined && v !== null) { ${message(f.number, 'v', f.message)} }`);
      }
      continue;
    }
    if (f.fieldKind === 'list') {
      const each = f.listKind === 'message' ? message(f.number, 'v[i]', f.message) : `${tag(f.number, 2)} w.string(v[i]);`;
      lines.push(`v = m${prop(f.localName)}; if (v !== undefined && v !== null) for (let i = 0; i < v.length; i++) { ${each} }`);
      continue;
    }
    const type = f.fieldKind === 'enum' ? S.INT32 : (f.scalar as number);
    // Implicit presence: the zero value (a value left out of an init shape is one) is not written, as toBinary's
    // checks have it: -0 is no zero of a double; an integer's zero compares loosely (0, 0n, "0"); an enum's is its first value.
    const [zero, write] = {
      [S.STRING]: [`v === ''`, `${tag(f.number, 2)} w.string(v);`],
      [S.BOOL]: [`v === false`, `${tag(f.number, 0)} w.varint(1);`],
      [S.DOUBLE]: [`Object.is(v, 0)`, `${tag(f.number, 1)} w.double(v);`],
      [S.UINT32]: [`v == 0`, `${tag(f.number, 0)} W.uint32(w, v);`],
      [S.INT32]: [f.fieldKind === 'enum' ? `v === ${f.enum.values[0].number}` : `v == 0`, `${tag(f.number, 0)} W.int32(w, v);`],
      [S.INT64]: [`v == 0`, `${tag(f.number, 0)} W.int64(w, v);`],
      [S.UINT64]: [`v == 0`, `${tag(f.number, 0)} W.uint64(w, v);`],
    }[type] as [string, string];
    lines.push(`v = m${prop(f.localName)}; if (v !== undefined && !(${zero})) { ${write} }`);
  }
  const write = new Function('N', 'W', `return function write(w, m) {\n${lines.join('\n')}\n};`)(nested.compiled, WRITE) as MessageWriter;
  writers.set(desc, write);
  nested.compile(messageWriter);
  return write;
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
    shared.reset();
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
    /** Where the message being read ends (READ.nested narrows it to a nested one's). */
    public end: number,
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

  /** A varint of up to 49 bits as a number; undefined, the position unchanged, for a wider one (read it with bigVarint). */
  private narrow(): number | undefined {
    try {
      return this.varint();
    } catch (err) {
      if (err !== NOT_COMPILED) throw err;
      return undefined;
    }
  }

  varint64(): bigint {
    const n = this.narrow();
    return n !== undefined ? BigInt(n) : this.bigVarint();
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
    const n = this.narrow();
    return n !== undefined ? n : Number(BigInt.asIntN(32, this.bigVarint()));
  }

  /** A bool: any bit set, of all 64. */
  nonZero(): boolean {
    const n = this.narrow();
    return n !== undefined ? n !== 0 : this.bigVarint() !== 0n;
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
    return (buf as LatinSlicing).latin1Slice(start, end);
  }
}

/** Node's own method behind Buffer#toString('latin1'), without its argument checks and encoding lookup per string. */
type LatinSlicing = Buffer & { latin1Slice(start: number, end: number): string };

/** Reads a message's fields up to `end` (exclusive) into the message create() would make. */
type MessageReader = (r: Reader, end: number) => Obj;

/** What generated readers call, besides the Reader's own methods. */
const READ = {
  NOT_COMPILED,
  double(r: Reader): number {
    if (r.pos + 8 > r.end) throw new Error('premature end of the message');
    const v = r.buf.readDoubleLE(r.pos);
    r.pos += 8;
    return v;
  },
  /** Nested content: the reader's end is the content's while it is read, so nothing reads past it. */
  nested(r: Reader, read: MessageReader): Obj {
    const len = r.length();
    const outer = r.end;
    const end = r.pos + len;
    r.end = end;
    const m = read(r, end);
    r.end = outer;
    return m;
  },
};

const readers = new WeakMap<DescMessage, MessageReader>();

/**
 * The reader of a message type, generated as one function: the message create() makes as one object literal
 * (the same keys in the same order, the zero values of create()'s own message, fresh arrays and oneof
 * objects), then a switch on each tag. Anything its switch has no case for (an unknown field, a field in
 * another wire type) or that protobuf merges (a message field twice) throws NOT_COMPILED: protobuf-es reads it.
 */
function messageReader(desc: DescMessage): MessageReader {
  const known = readers.get(desc);
  if (known) return known;
  const template = create(desc) as Obj;
  const lists = desc.fields.filter((f) => f.fieldKind === 'list').map((f) => f.localName);
  const oneofs = desc.oneofs.map((o) => o.localName);
  const zero = Object.keys(template).map((k) => {
    const value = lists.includes(k) ? '[]' : oneofs.includes(k) ? '{ case: undefined }' : `t${prop(k)}`;
    return `${JSON.stringify(k)}: ${value}`;
  });
  const nested = nestedTypes<MessageReader>();
  const cases: string[] = [];
  for (const f of desc.fields) {
    const name = prop(f.localName);
    if (f.fieldKind === 'message') {
      const read = `R.nested(r, N[${nested.index(f.message)}])`;
      if (f.oneof) {
        const oneof = prop(f.oneof.localName);
        // A second occurrence of a oneof's message is merged into the first by protobuf.
        cases.push(`case ${f.number * 8 + 2}: if (m${oneof}.case !== undefined) throw R.NOT_COMPILED; m${oneof} = { case: ${JSON.stringify(f.localName)}, value: ${read} }; break;`);
      } else {
        cases.push(`case ${f.number * 8 + 2}: if (m${name} !== undefined) throw R.NOT_COMPILED; m${name} = ${read}; break;`);
      }
      continue;
    }
    if (f.fieldKind === 'list') {
      const read = f.listKind === 'message' ? `R.nested(r, N[${nested.index(f.message)}])` : 'r.string()';
      cases.push(`case ${f.number * 8 + 2}: m${name}.push(${read}); break;`);
      continue;
    }
    const type = f.fieldKind === 'enum' ? S.INT32 : (f.scalar as number);
    const [wireType, read] = {
      [S.STRING]: [2, 'r.string()'],
      [S.BOOL]: [0, 'r.nonZero()'],
      // The low 32 bits, as protobuf reads a wider varint into a 32-bit field.
      [S.UINT32]: [0, 'r.small() >>> 0'],
      [S.INT32]: [0, 'r.small() | 0'],
      [S.DOUBLE]: [1, 'R.double(r)'],
      [S.INT64]: [0, 'BigInt.asIntN(64, r.varint64())'],
      [S.UINT64]: [0, 'BigInt.asUintN(64, r.varint64())'],
    }[type] as [number, string];
    cases.push(`case ${f.number * 8 + wireType}: m${name} = ${read}; break;`);
  }
  const read = new Function(
    't',
    'N',
    'R',
    `return function read(r, end) {
      const m = { ${zero.join(', ')} };
      while (r.pos < end) {
        switch (r.varint()) {
          ${cases.join('\n          ')}
          default: throw R.NOT_COMPILED;
        }
      }
      return m;
    };`,
  )(template, nested.compiled, READ) as MessageReader;
  readers.set(desc, read);
  nested.compile(messageReader);
  return read;
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
    return messageReader(schema)(new Reader(buf, 0, buf.length), buf.length);
  } catch {
    return undefined;
  }
}
