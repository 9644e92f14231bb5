import {
  encodeField,
  encodePackedVarints,
  encodeTag,
  encodeVarint,
  utf8Encode,
  WireType,
  type RawField,
  type WireTypeValue,
} from './wire.js';

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
  /** For repeated scalar fields seen on the wire: true if they were packed. */
  readonly packing: Map<number, boolean>;
}

/** A fresh, empty {@link WireInfo} for a message being decoded. */
export function newWireInfo(): WireInfo {
  return { unknownFields: [], fieldOrder: [], packing: new Map() };
}

/** Records that `fieldNumber` was seen, keeping first-appearance order. */
export function noteField(wire: WireInfo, fieldNumber: number): void {
  if (!wire.fieldOrder.includes(fieldNumber)) wire.fieldOrder.push(fieldNumber);
}

const tagCache = new Map<number, Uint8Array>();

/** The (cached) encoded tag of a field. */
function tag(fieldNumber: number, wireType: WireTypeValue): Uint8Array {
  const key = fieldNumber * 8 + wireType;
  let bytes = tagCache.get(key);
  if (bytes === undefined) {
    bytes = encodeTag(fieldNumber, wireType);
    tagCache.set(key, bytes);
  }
  return bytes;
}

/** A piece of an encoded message: literal bytes, or a finished embedded message written in place. */
type Part = Uint8Array | MessageWriter;

/**
 * Builds one message's bytes. Fields are grouped by field number and the groups are written in the
 * message's original first-appearance order (then, for fields the original lacked, by ascending number),
 * which reproduces the output of protobuf serialisers, all of which write each field's values together.
 *
 * Embedded messages are kept as writers and copied only once, into the final buffer, so that encoding a
 * model with megabytes of weights does not copy them at every nesting level.
 */
export class MessageWriter {
  private readonly groups = new Map<number, Part[]>();
  private ordered: Part[] | undefined;
  private byteLength = 0;

  constructor(private readonly wire: WireInfo | undefined) {}

  private add(fieldNumber: number, ...parts: Part[]): void {
    if (this.ordered !== undefined) throw new Error('MessageWriter already finished');
    let group = this.groups.get(fieldNumber);
    if (group === undefined) {
      group = [];
      this.groups.set(fieldNumber, group);
    }
    for (const part of parts) group.push(part);
  }

  /** Writes a varint field (int32/int64/enum), skipped when `value` is undefined. */
  varint(fieldNumber: number, value: bigint | number | undefined): void {
    if (value === undefined) return;
    this.add(fieldNumber, tag(fieldNumber, WireType.varint), encodeVarint(value));
  }

  /** Writes a length-delimited field from bytes, skipped when `value` is undefined. */
  bytes(fieldNumber: number, value: Uint8Array | undefined): void {
    if (value === undefined) return;
    this.add(fieldNumber, tag(fieldNumber, WireType.lengthDelimited), encodeVarint(value.length), value);
  }

  /** Writes an embedded message field, skipped when `message` is undefined. */
  message(fieldNumber: number, message: MessageWriter | undefined): void {
    if (message === undefined) return;
    this.add(fieldNumber, tag(fieldNumber, WireType.lengthDelimited), encodeVarint(message.finish()), message);
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
    this.add(fieldNumber, tag(fieldNumber, WireType.fixed32), payload);
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
    return this.wire?.packing.get(fieldNumber) ?? packedByDefault;
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
      const fieldTag = tag(fieldNumber, elementSize === 4 ? WireType.fixed32 : WireType.fixed64);
      for (let offset = 0; offset < payload.length; offset += elementSize) {
        this.add(fieldNumber, fieldTag, payload.subarray(offset, offset + elementSize));
      }
    }
  }

  /** Closes the message (puts the unknown fields back, fixes the field order); returns its byte length. */
  finish(): number {
    if (this.ordered !== undefined) return this.byteLength;
    for (const field of this.wire?.unknownFields ?? []) this.add(field.fieldNumber, ...encodeField(field));
    const order = [...(this.wire?.fieldOrder ?? [])];
    const rest = [...this.groups.keys()].filter((n) => !order.includes(n)).sort((a, b) => a - b);
    const ordered: Part[] = [];
    let byteLength = 0;
    for (const fieldNumber of [...order, ...rest]) {
      for (const part of this.groups.get(fieldNumber) ?? []) {
        ordered.push(part);
        byteLength += part instanceof MessageWriter ? part.finish() : part.length;
      }
    }
    this.ordered = ordered;
    this.byteLength = byteLength;
    return byteLength;
  }

  /** Copies the finished message into `out` at `offset`; returns the offset after it. */
  writeTo(out: Uint8Array, offset: number): number {
    this.finish();
    for (const part of this.ordered ?? []) {
      if (part instanceof MessageWriter) {
        offset = part.writeTo(out, offset);
      } else if (part.length < 16) {
        for (let i = 0; i < part.length; i++) out[offset + i] = part[i]!;
        offset += part.length;
      } else {
        out.set(part, offset);
        offset += part.length;
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
