import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFields,
  decodePackedVarints,
  encodeFields,
  encodePackedVarints,
  encodeVarint,
  ProtobufDecodeError,
  ProtoReader,
  toInt64,
  toSafeNumber,
  utf8Encode,
  WireType,
  type RawField,
} from '../support/onnx/wire.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// Encodings from the protobuf encoding guide ("Base 128 Varints", signed ints as 64-bit two's complement).
const varintCases: [bigint | number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '8001'],
  [150, '9601'],
  [300, 'ac02'],
  [16383, 'ff7f'],
  [16384, '808001'],
  [0xffffffff, 'ffffffff0f'],
  [2 ** 32, '8080808010'],
  [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
  [9223372036854775807n, 'ffffffffffffffff7f'],
  [-1, 'ffffffffffffffffff01'],
  [-2n, 'feffffffffffffffff01'],
  [-9223372036854775808n, '80808080808080808001'],
];

test("varints encode to the minimal base-128 form, negatives as 10-byte two's complement", () => {
  for (const [value, expected] of varintCases) {
    assert.equal(hex(encodeVarint(value)), expected, `encode ${value}`);
  }
});

test('varints decode back to the same unsigned 64-bit value (and to the signed one via toInt64)', () => {
  for (const [value, encoded] of varintCases) {
    const reader = new ProtoReader(bytes(encoded));
    const decoded = reader.varint();
    assert.ok(reader.done, `consumed all of ${encoded}`);
    assert.equal(toInt64(decoded), BigInt(value), `decode ${encoded}`);
  }
});

test('non-integer and unsafe numbers are refused as varints', () => {
  assert.throws(() => encodeVarint(1.5), RangeError);
  assert.throws(() => encodeVarint(2 ** 60), RangeError);
  assert.equal(hex(encodeVarint(2n ** 60n)), '808080808080808010');
});

test('toSafeNumber gives signed values and refuses what a double cannot hold', () => {
  assert.equal(toSafeNumber(5n, 'x'), 5);
  assert.equal(toSafeNumber(2n ** 64n - 1n, 'x'), -1);
  assert.throws(() => toSafeNumber(2n ** 62n, 'dims'), /dims = 4611686018427387904/);
});

test('the four wire types are read with their field numbers and payloads', () => {
  // field 1 varint 150; field 2 string "testing"; field 3 fixed32; field 4 fixed64; field 1000 varint 1
  const message = bytes('08 9601  12 07 74657374696e67  1d 0000803f  21 000000000000f03f  c03e 01');
  const fields = decodeFields(message);
  assert.deepEqual(
    fields.map((f) => [f.fieldNumber, f.wireType]),
    [
      [1, WireType.varint],
      [2, WireType.lengthDelimited],
      [3, WireType.fixed32],
      [4, WireType.fixed64],
      [1000, WireType.varint],
    ],
  );
  const [f1, f2, f3, f4, f5] = fields;
  assert.equal(f1?.value, 150n);
  assert.equal(f2?.wireType === WireType.lengthDelimited && Buffer.from(f2.value).toString('utf8'), 'testing');
  assert.ok(f3?.wireType === WireType.fixed32);
  assert.equal(new DataView(f3.value.buffer, f3.value.byteOffset).getFloat32(0, true), 1);
  assert.ok(f4?.wireType === WireType.fixed64);
  assert.equal(new DataView(f4.value.buffer, f4.value.byteOffset).getFloat64(0, true), 1);
  assert.equal(f5?.value, 1n);
  assert.equal(hex(encodeFields(fields)), hex(message));
});

test('length-delimited payloads are views into the input, not copies', () => {
  const message = bytes('0a 03 616263');
  const [field] = decodeFields(message);
  assert.ok(field?.wireType === WireType.lengthDelimited);
  assert.equal(field.value.buffer, message.buffer);
  assert.equal(field.value.byteOffset, 2);
});

test('encodeFields writes fields in the given order with minimal tags', () => {
  const fields: RawField[] = [
    { fieldNumber: 16, wireType: WireType.varint, value: 1n },
    { fieldNumber: 2, wireType: WireType.lengthDelimited, value: utf8Encode('é') },
    { fieldNumber: 536870911, wireType: WireType.fixed32, value: new Uint8Array([1, 2, 3, 4]) },
  ];
  assert.equal(hex(encodeFields(fields)), '800101' + '1202c3a9' + 'fdffffff0f01020304');
});

test('malformed messages are rejected with the offset', () => {
  assert.throws(() => decodeFields(bytes('08')), ProtobufDecodeError); // varint value missing
  assert.throws(() => decodeFields(bytes('0a 05 6162')), /runs past the end/);
  assert.throws(() => decodeFields(bytes('08 ffffffffffffffffffff01')), /longer than 10 bytes/);
  assert.throws(() => decodeFields(bytes('0b')), /unsupported wire type 3/); // start group
  assert.throws(() => decodeFields(bytes('00 00')), /field number 0/);
  assert.throws(() => decodeFields(bytes('1d 0000')), /runs past the end/);
});

test('packed varints round-trip, including negative int64', () => {
  const values = [0n, 1n, 300n, 2n ** 64n - 1n, 2n ** 63n];
  const packed = encodePackedVarints(values);
  assert.deepEqual(decodePackedVarints(packed), values);
  assert.deepEqual(decodePackedVarints(packed).map(toInt64), [0n, 1n, 300n, -1n, -(2n ** 63n)]);
});
