/**
 * Protocol Buffers wire format: the four wire types ONNX files use (varint, 64-bit, length-delimited,
 * 32-bit), read into a flat list of fields and written back byte for byte.
 *
 * Reference: the protobuf encoding specification ("Message Structure", "Base 128 Varints").
 * Groups (wire types 3 and 4) are deprecated and never appear in ONNX files; they are rejected.
 */

/** The wire types this codec understands. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

/** One of the {@link WireType} values. */
export type WireTypeValue = (typeof WireType)[keyof typeof WireType];

/**
 * One field exactly as it appeared on the wire. Varints are kept as unsigned 64-bit `bigint`s; fixed-width
 * and length-delimited payloads are kept as the original bytes (a view into the decoded buffer, not a copy).
 */
export type RawField =
  | { readonly fieldNumber: number; readonly wireType: 0; readonly value: bigint }
  | { readonly fieldNumber: number; readonly wireType: 1 | 2 | 5; readonly value: Uint8Array };

const TWO_POW_32 = 0x1_0000_0000;
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

/** Sequential reader over one message's bytes. */
export class ProtoReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** True when every byte has been consumed. */
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Current offset in the buffer. */
  get offset(): number {
    return this.pos;
  }

  /** Reads a varint as an unsigned 64-bit bigint. */
  varint(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined) throw new ProtobufDecodeError(`truncated varint at offset ${start}`);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at offset ${start}`);
  }

  /** Reads a varint that must fit a non-negative safe integer (tags, lengths). */
  smallVarint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined) throw new ProtobufDecodeError(`truncated varint at offset ${start}`);
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufDecodeError(`varint at offset ${start} is too large for a tag or a length`);
  }

  /** Returns the next `length` bytes as a view and advances past them. */
  take(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) {
      throw new ProtobufDecodeError(`field of ${length} bytes at offset ${this.pos} runs past the end (${this.bytes.length})`);
    }
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** Reads one whole field (tag and payload). */
  field(): RawField {
    const tagOffset = this.pos;
    const tag = this.smallVarint();
    const fieldNumber = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (fieldNumber === 0) throw new ProtobufDecodeError(`field number 0 at offset ${tagOffset}`);
    switch (wireType) {
      case WireType.varint:
        return { fieldNumber, wireType, value: this.varint() };
      case WireType.fixed64:
        return { fieldNumber, wireType, value: this.take(8) };
      case WireType.lengthDelimited:
        return { fieldNumber, wireType, value: this.take(this.smallVarint()) };
      case WireType.fixed32:
        return { fieldNumber, wireType, value: this.take(4) };
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType} (field ${fieldNumber}) at offset ${tagOffset}`);
    }
  }
}

/** Splits a message into its fields, in wire order. */
export function decodeFields(bytes: Uint8Array): RawField[] {
  const reader = new ProtoReader(bytes);
  const fields: RawField[] = [];
  while (!reader.done) fields.push(reader.field());
  return fields;
}

/** Number of bytes the varint encoding of `value` takes. */
function varintLength(value: bigint): number {
  let length = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    length++;
  }
  return length;
}

/**
 * Minimal varint encoding of an integer. Negative numbers are written as their 64-bit two's complement
 * (10 bytes), as protobuf does for `int32` and `int64`.
 */
export function encodeVarint(value: bigint | number): Uint8Array {
  if (typeof value === 'number' && value >= 0 && value < 0x80 && Number.isInteger(value)) {
    return Uint8Array.of(value);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`varint value ${value} is not an integer`);
    if (value >= 0 && value < TWO_POW_32) {
      const out: number[] = [];
      let v = value;
      while (v >= 0x80) {
        out.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      out.push(v);
      return Uint8Array.from(out);
    }
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint value ${value} is not a safe integer; pass a bigint`);
    value = BigInt(value);
  }
  let v = BigInt.asUintN(64, value);
  const out = new Uint8Array(varintLength(v));
  for (let i = 0; i < out.length - 1; i++) {
    out[i] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[out.length - 1] = Number(v);
  return out;
}

/** Encodes a field's tag (field number and wire type). */
export function encodeTag(fieldNumber: number, wireType: WireTypeValue): Uint8Array {
  if (!Number.isSafeInteger(fieldNumber) || fieldNumber < 1) throw new RangeError(`bad field number ${fieldNumber}`);
  return encodeVarint(fieldNumber * 8 + wireType);
}

/** Encodes one raw field (tag, then payload; length-prefixed for wire type 2). */
export function encodeField(field: RawField): Uint8Array[] {
  const tag = encodeTag(field.fieldNumber, field.wireType);
  switch (field.wireType) {
    case WireType.varint:
      return [tag, encodeVarint(field.value)];
    case WireType.lengthDelimited:
      return [tag, encodeVarint(field.value.length), field.value];
    case WireType.fixed64:
      if (field.value.length !== 8) throw new RangeError(`fixed64 field ${field.fieldNumber} has ${field.value.length} bytes`);
      return [tag, field.value];
    case WireType.fixed32:
      if (field.value.length !== 4) throw new RangeError(`fixed32 field ${field.fieldNumber} has ${field.value.length} bytes`);
      return [tag, field.value];
  }
}

/** Joins byte chunks into one buffer. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Encodes a list of raw fields in the given order. */
export function encodeFields(fields: readonly RawField[]): Uint8Array {
  return concatBytes(fields.flatMap(encodeField));
}

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  // Graph names are short ASCII strings; a plain loop beats TextEncoder's per-call overhead for them.
  if (text.length <= 64) {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) return textEncoder.encode(text);
      out[i] = code;
    }
    return out;
  }
  return textEncoder.encode(text);
}

/** Text of UTF-8 bytes; throws on malformed UTF-8. */
export function utf8Decode(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode(...bytes);
  }
  return textDecoder.decode(bytes);
}

/** Interprets an unsigned 64-bit varint value as a signed two's-complement int64. */
export function toInt64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/**
 * Interprets a varint as a signed int64 that must be a safe JavaScript integer (shapes, versions,
 * enum values); throws otherwise.
 */
export function toSafeNumber(value: bigint, what: string): number {
  const signed = BigInt.asIntN(64, value);
  const n = Number(signed);
  if (!Number.isSafeInteger(n)) throw new ProtobufDecodeError(`${what} = ${signed} does not fit a safe integer`);
  return n;
}

/** Reads a packed run of varints. */
export function decodePackedVarints(bytes: Uint8Array): bigint[] {
  const reader = new ProtoReader(bytes);
  const values: bigint[] = [];
  while (!reader.done) values.push(reader.varint());
  return values;
}

/** Writes a packed run of varints (payload only, without tag or length). */
export function encodePackedVarints(values: readonly (bigint | number)[]): Uint8Array {
  return concatBytes(values.map((v) => encodeVarint(v)));
}
