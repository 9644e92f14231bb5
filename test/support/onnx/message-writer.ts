import { encodeField, encodePackedVarints, encodeVarint, utf8Encode, WireType, type RawField, type WireTypeValue } from './wire.js';

/**
 * What a decoded message remembers about its original encoding so that re-encoding an untouched message
 * gives the same bytes: fields this codec does not model, the order in which field numbers first appeared,
 * and whether each repeated scalar field was packed.
 */
export interface WireInfo {
  /** Fields whose number (or wire type) the ONNX layer does not model, kept verbatim. */
  readonly unknownFields: RawField[];
  /** Distinct field numbers in order of first appearance. */
  readonly fieldOrder: number[];
  /** For repeated scalar fields seen on the wire: true if they were packed (absent: none seen). */
  packing?: Map<number, boolean>;
}

/** A fresh, empty {@link WireInfo} for a message being decoded. */
export function newWireInfo(): WireInfo {
  return { unknownFields: [], fieldOrder: [] };
}

/** Records whether repeated scalar field `fieldNumber` came packed. */
export function notePacking(wire: WireInfo, fieldNumber: number, packed: boolean): void {
  (wire.packing ??= new Map()).set(fieldNumber, packed);
}

/** Records that `fieldNumber` was seen, keeping first-appearance order. */
export function noteField(wire: WireInfo, fieldNumber: number): void {
  if (!wire.fieldOrder.includes(fieldNumber)) wire.fieldOrder.push(fieldNumber);
}

/** Literal bytes shorter than this are copied into the pending run instead of kept as separate parts. */
const SMALL = 48;

/**
 * An append-only byte sequence made of literal runs and embedded messages. Small writes (tags, varints,
 * names) go to one growing run of plain numbers, so encoding a graph does not allocate a typed array
 * per field.
 */
class ByteSink {
  readonly parts: (Uint8Array | MessageWriter)[] = [];
  private pending: number[] = [];
  length = 0;

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  /** Appends a varint (negative numbers as 64-bit two's complement). */
  varint(value: bigint | number): void {
    if (typeof value === 'number' && value >= 0 && value <= 0x7fffffff && Number.isInteger(value)) {
      let v = value;
      while (v >= 0x80) {
        this.pending.push((v & 0x7f) | 0x80);
        v >>>= 7;
        this.length++;
      }
      this.pending.push(v);
      this.length++;
      return;
    }
    this.bytes(encodeVarint(value));
  }

  /** Appends literal bytes. */
  bytes(value: Uint8Array): void {
    if (value.length < SMALL) {
      for (let i = 0; i < value.length; i++) this.pending.push(value[i]!);
    } else {
      this.flush();
      this.parts.push(value);
    }
    this.length += value.length;
  }

  /** Appends a finished embedded message (written in place later). */
  message(writer: MessageWriter, byteLength: number): void {
    this.flush();
    this.parts.push(writer);
    this.length += byteLength;
  }

  /** Ends the sequence; no more appends. */
  close(): void {
    this.flush();
  }
}

function isAscending(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! <= values[i - 1]!) return false;
  return true;
}

/**
 * Builds one message's bytes. Fields are grouped by field number and the groups are written in the
 * message's original first-appearance order (then, for fields the original lacked, by ascending number),
 * which reproduces the output of protobuf serialisers, all of which write each field's values together.
 * Callers write known fields in ascending field-number order, so a message that was canonical (ascending
 * order, no unknown fields) is written straight through without regrouping.
 *
 * Embedded messages are kept as writers and copied only once, into the final buffer, so that encoding a
 * model with megabytes of weights does not copy them at every nesting level.
 */
export class MessageWriter {
  /** One sink per field number when regrouping is needed, else undefined (everything goes to `direct`). */
  private readonly groups: Map<number, ByteSink> | undefined;
  private readonly direct = new ByteSink();
  private sinks: ByteSink[] | undefined;
  private byteLength = 0;

  constructor(private readonly wire: WireInfo | undefined) {
    const canonical = wire === undefined || (wire.unknownFields.length === 0 && isAscending(wire.fieldOrder));
    this.groups = canonical ? undefined : new Map();
  }

  private sink(fieldNumber: number): ByteSink {
    if (this.sinks !== undefined) throw new Error('MessageWriter already finished');
    if (this.groups === undefined) return this.direct;
    let sink = this.groups.get(fieldNumber);
    if (sink === undefined) {
      sink = new ByteSink();
      this.groups.set(fieldNumber, sink);
    }
    return sink;
  }

  private tag(fieldNumber: number, wireType: WireTypeValue): ByteSink {
    const sink = this.sink(fieldNumber);
    sink.varint(fieldNumber * 8 + wireType);
    return sink;
  }

  /** Writes a varint field (int32/int64/enum), skipped when `value` is undefined. */
  varint(fieldNumber: number, value: bigint | number | undefined): void {
    if (value === undefined) return;
    this.tag(fieldNumber, WireType.varint).varint(value);
  }

  /** Writes a length-delimited field from bytes, skipped when `value` is undefined. */
  bytes(fieldNumber: number, value: Uint8Array | undefined): void {
    if (value === undefined) return;
    const sink = this.tag(fieldNumber, WireType.lengthDelimited);
    sink.varint(value.length);
    sink.bytes(value);
  }

  /** Writes an embedded message field, skipped when `message` is undefined. */
  message(fieldNumber: number, message: MessageWriter | undefined): void {
    if (message === undefined) return;
    const length = message.finish();
    const sink = this.tag(fieldNumber, WireType.lengthDelimited);
    sink.varint(length);
    sink.message(message, length);
  }

  /** Writes each message of a repeated embedded-message field. */
  messages(fieldNumber: number, messages: readonly MessageWriter[]): void {
    for (const message of messages) this.message(fieldNumber, message);
  }

  /** Writes a UTF-8 string field, skipped when `value` is undefined. */
  string(fieldNumber: number, value: string | undefined): void {
    if (value === undefined) return;
    this.bytes(fieldNumber, utf8Encode(value));
  }

  /** Writes a 32-bit float field, skipped when `value` is undefined. */
  float(fieldNumber: number, value: number | undefined): void {
    if (value === undefined) return;
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setFloat32(0, value, true);
    this.tag(fieldNumber, WireType.fixed32).bytes(payload);
  }

  /** Writes each value of a repeated string field. */
  strings(fieldNumber: number, values: readonly string[]): void {
    for (const value of values) this.string(fieldNumber, value);
  }

  /** Writes each value of a repeated bytes field. */
  bytesList(fieldNumber: number, values: readonly Uint8Array[]): void {
    for (const value of values) this.bytes(fieldNumber, value);
  }

  private isPacked(fieldNumber: number, packedByDefault: boolean): boolean {
    return this.wire?.packing?.get(fieldNumber) ?? packedByDefault;
  }

  /** Writes a repeated varint field, packed or not as the original was (else as the schema says). */
  repeatedVarint(fieldNumber: number, values: readonly (bigint | number)[], packedByDefault: boolean): void {
    if (values.length === 0) return;
    if (this.isPacked(fieldNumber, packedByDefault)) {
      this.bytes(fieldNumber, encodePackedVarints(values));
    } else {
      for (const value of values) this.varint(fieldNumber, value);
    }
  }

  /**
   * Writes a repeated fixed-width field (float, double) given the little-endian bytes of all its values.
   */
  repeatedFixed(fieldNumber: number, payload: Uint8Array, elementSize: 4 | 8, packedByDefault: boolean): void {
    if (payload.length === 0) return;
    if (this.isPacked(fieldNumber, packedByDefault)) {
      this.bytes(fieldNumber, payload);
    } else {
      const wireType = elementSize === 4 ? WireType.fixed32 : WireType.fixed64;
      for (let offset = 0; offset < payload.length; offset += elementSize) {
        this.tag(fieldNumber, wireType).bytes(payload.subarray(offset, offset + elementSize));
      }
    }
  }

  /** Closes the message (puts the unknown fields back, fixes the field order); returns its byte length. */
  finish(): number {
    if (this.sinks !== undefined) return this.byteLength;
    if (this.groups === undefined) {
      this.sinks = [this.direct];
    } else {
      for (const field of this.wire?.unknownFields ?? []) {
        const sink = this.sink(field.fieldNumber);
        for (const chunk of encodeField(field)) sink.bytes(chunk);
      }
      const order = [...(this.wire?.fieldOrder ?? [])];
      const rest = [...this.groups.keys()].filter((n) => !order.includes(n)).sort((a, b) => a - b);
      const sinks: ByteSink[] = [];
      for (const fieldNumber of [...order, ...rest]) {
        const sink = this.groups.get(fieldNumber);
        if (sink !== undefined) sinks.push(sink);
      }
      this.sinks = sinks;
    }
    this.byteLength = 0;
    for (const sink of this.sinks) {
      sink.close();
      this.byteLength += sink.length;
    }
    return this.byteLength;
  }

  /** Copies the finished message into `out` at `offset`; returns the offset after it. */
  writeTo(out: Uint8Array, offset: number): number {
    this.finish();
    for (const sink of this.sinks ?? []) {
      for (const part of sink.parts) {
        if (part instanceof MessageWriter) {
          offset = part.writeTo(out, offset);
        } else {
          out.set(part, offset);
          offset += part.length;
        }
      }
    }
    return offset;
  }

  /** The finished message as one buffer. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.finish());
    const end = this.writeTo(out, 0);
    if (end !== out.length) throw new Error(`MessageWriter wrote ${end} bytes, expected ${out.length}`);
    return out;
  }
}
