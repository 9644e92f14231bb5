import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyModelDir } from '../helpers/fixtures.js';
import { decodeModel, decodeTensor, encodeModel, encodeTensor, type TensorProto, type ValueInfo } from '../support/onnx/onnx-proto.js';
import { castInput, dimsOf, intAttribute, requireGraph } from '../support/onnx/graph-edit.js';
import { AttributeType, DataType } from '../support/onnx/onnx-schema.js';
import { decodeFields, encodeFields, utf8Encode, WireType, type RawField } from '../support/onnx/wire.js';

const components = ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'] as const;
const modelBytes = (component: string): Buffer => readFileSync(join(tinyModelDir, component, 'model.onnx'));

const varint = (fieldNumber: number, value: bigint): RawField => ({ fieldNumber, wireType: WireType.varint, value });
const lengthDelimited = (fieldNumber: number, value: Uint8Array): RawField => ({ fieldNumber, wireType: WireType.lengthDelimited, value });
const text = (fieldNumber: number, value: string): RawField => lengthDelimited(fieldNumber, utf8Encode(value));
const message = (fieldNumber: number, fields: RawField[]): RawField => lengthDelimited(fieldNumber, encodeFields(fields));

/** Replaces the payload of the first length-delimited field `fieldNumber` by `edit(its fields)`. */
function editSubmessage(bytes: Uint8Array, fieldNumber: number, edit: (fields: RawField[]) => RawField[]): Uint8Array {
  let done = false;
  const fields = decodeFields(bytes).map((f) => {
    if (done || f.fieldNumber !== fieldNumber || f.wireType !== WireType.lengthDelimited) return f;
    done = true;
    return lengthDelimited(fieldNumber, encodeFields(edit(decodeFields(f.value))));
  });
  assert.ok(done, `field ${fieldNumber} found`);
  return encodeFields(fields);
}

const describe = (v: ValueInfo): string => `${v.name}:${v.type?.tensorType?.elemType}[${(dimsOf(v) ?? []).join(',')}]`;

for (const component of components) {
  test(`${component}: decode + encode of the untouched model is byte-identical`, () => {
    const bytes = modelBytes(component);
    const encoded = encodeModel(decodeModel(bytes));
    assert.equal(encoded.length, bytes.length);
    assert.ok(Buffer.from(encoded).equals(bytes), 'bytes differ');
  });
}

test('the decoded graphs have the inputs and outputs documented for tiny-sd', () => {
  const expected: Record<(typeof components)[number], { inputs: string[]; outputs: string[] }> = {
    text_encoder: {
      inputs: [`input_ids:${DataType.int32}[batch,sequence]`],
      outputs: [`last_hidden_state:${DataType.float}[batch,sequence,32]`, `pooler_output:${DataType.float}[batch,32]`],
    },
    unet: {
      inputs: [
        `sample:${DataType.float}[batch,4,height,width]`,
        `timestep:${DataType.float}[timestep_batch]`,
        `encoder_hidden_states:${DataType.float}[batch,sequence,32]`,
      ],
      outputs: [`out_sample:${DataType.float}[batch,4,height,width]`],
    },
    vae_encoder: {
      inputs: [`sample:${DataType.float}[batch,3,height,width]`],
      outputs: [`latent_parameters:${DataType.float}[batch,8,latent_height,latent_width]`],
    },
    vae_decoder: {
      inputs: [`latent_sample:${DataType.float}[batch,4,latent_height,latent_width]`],
      outputs: [`sample:${DataType.float}[batch,3,height,width]`],
    },
  };
  for (const component of components) {
    const model = decodeModel(modelBytes(component));
    assert.equal(model.irVersion, 7, component);
    assert.deepEqual(
      model.opsetImport.map((o) => o.version),
      [14],
      component,
    );
    assert.equal(model.producerName, 'pytorch');
    const graph = requireGraph(model);
    assert.deepEqual(graph.input.map(describe), expected[component].inputs, component);
    assert.deepEqual(graph.output.map(describe), expected[component].outputs, component);
    assert.ok(graph.node.length > 100 && graph.initializer.length > 10, component);
    // Every initializer decodes with its bytes matching its declared element count.
    for (const tensor of graph.initializer) {
      const count = tensor.dims.reduce((a, b) => a * b, 1);
      assert.equal(tensor.rawData?.length, count * (tensor.dataType === DataType.int64 ? 8 : 4), `${component} ${tensor.name}`);
    }
  }
});

test('fields the codec does not model survive decode + encode, at model, graph, node and attribute level', () => {
  let bytes: Uint8Array = modelBytes('vae_decoder');
  bytes = encodeFields([
    ...decodeFields(bytes),
    message(25, [text(1, 'a_function'), text(2, 'custom.domain')]), // ModelProto.functions
    varint(9999, 12345678901234n),
  ]);
  bytes = editSubmessage(bytes, 7, (graph) => [
    ...graph,
    message(16, [text(1, 'graph_key'), text(2, 'graph_value')]), // GraphProto.metadata_props (IR 10)
    { fieldNumber: 4000, wireType: WireType.fixed64, value: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
  ]);
  bytes = editSubmessage(bytes, 7, (graph) => {
    let edited = false;
    return graph.map((f) => {
      if (edited || f.fieldNumber !== 1 || f.wireType !== WireType.lengthDelimited) return f;
      const node = decodeFields(f.value);
      if (!node.some((n) => n.fieldNumber === 5)) return f; // want a node with an attribute
      edited = true;
      const withAttributeExtra = node.map((n) =>
        n.fieldNumber === 5 && n.wireType === WireType.lengthDelimited
          ? message(5, [...decodeFields(n.value), { fieldNumber: 4001, wireType: WireType.fixed32, value: new Uint8Array([9, 9, 9, 9]) }])
          : n,
      );
      return message(1, [...withAttributeExtra, text(8, 'an_overload')]); // NodeProto.overload (IR 10)
    });
  });
  const model = decodeModel(bytes);
  assert.deepEqual(
    model.wire?.unknownFields.map((f) => f.fieldNumber),
    [25, 9999],
  );
  const graph = requireGraph(model);
  assert.deepEqual(
    graph.wire?.unknownFields.map((f) => f.fieldNumber),
    [16, 4000],
  );
  const node = graph.node.find((n) => n.wire?.unknownFields.length);
  assert.deepEqual(
    node?.wire?.unknownFields.map((f) => f.fieldNumber),
    [8],
  );
  assert.ok(node?.attribute.some((a) => a.wire?.unknownFields.some((f) => f.fieldNumber === 4001)));

  const encoded = encodeModel(model);
  assert.ok(Buffer.from(encoded).equals(Buffer.from(bytes)), 'bytes differ after round trip');

  // An edit elsewhere keeps them too.
  castInput(graph, 'latent_sample', DataType.float16);
  const edited = decodeModel(encodeModel(model));
  assert.deepEqual(
    edited.wire?.unknownFields.map((f) => f.fieldNumber),
    [25, 9999],
  );
  assert.deepEqual(
    requireGraph(edited).wire?.unknownFields.map((f) => f.fieldNumber),
    [16, 4000],
  );
  assert.equal(requireGraph(edited).input[0]?.type?.tensorType?.elemType, DataType.float16);
  assert.equal(requireGraph(edited).node[0]?.opType, 'Cast');
});

test('field order of the original is kept, also when it is not ascending', () => {
  const bytes = encodeFields([
    message(8, [text(1, ''), varint(2, 14n)]),
    message(7, [text(2, 'g'), message(11, [text(3, 'doc first'), text(1, 'x')])]),
    varint(1, 7n),
    text(2, 'hand-written'),
  ]);
  const model = decodeModel(bytes);
  assert.equal(model.producerName, 'hand-written');
  assert.equal(requireGraph(model).input[0]?.name, 'x');
  assert.equal(requireGraph(model).input[0]?.docString, 'doc first');
  assert.ok(Buffer.from(encodeModel(model)).equals(Buffer.from(bytes)));
});

test('repeated scalars keep their packing; new messages use the schema default', () => {
  // dims packed (the schema default is unpacked) and int64_data unpacked (the default is packed).
  const original = encodeFields([
    lengthDelimited(1, new Uint8Array([2, 3])),
    varint(2, BigInt(DataType.int64)),
    ...[5n, 2n ** 64n - 1n, 2n ** 63n - 1n, 0n, 7n, 8n].map((v) => varint(7, v)),
    text(8, 't'),
  ]);
  const tensor = decodeTensor(original);
  assert.deepEqual(tensor.dims, [2, 3]);
  assert.deepEqual(tensor.int64Data, [5n, -1n, 2n ** 63n - 1n, 0n, 7n, 8n]);
  assert.ok(Buffer.from(encodeTensor(tensor)).equals(Buffer.from(original)));

  const fresh: TensorProto = {
    name: 'n',
    dims: [2, 3],
    dataType: DataType.int64,
    int64Data: tensor.int64Data,
    int32Data: [],
    stringData: [],
    externalData: [],
    uint64Data: [],
  };
  const fields = decodeFields(encodeTensor(fresh));
  assert.deepEqual(
    fields.map((f) => [f.fieldNumber, f.wireType]),
    [
      [1, 0],
      [1, 0],
      [2, 0],
      [7, 2],
      [8, 2],
    ],
  );
});

test('float payloads keep their exact bits (NaN payloads, -0, subnormals)', () => {
  const bits = new Uint32Array([0x7fc00001, 0xffa00000, 0x80000000, 0x00000001, 0x3f800000]);
  const original = encodeFields([varint(1, 5n), varint(2, BigInt(DataType.float)), lengthDelimited(4, new Uint8Array(bits.buffer))]);
  const tensor = decodeTensor(original);
  assert.deepEqual(Array.from(new Uint32Array(tensor.floatData?.buffer ?? new ArrayBuffer(0))), Array.from(bits));
  assert.ok(Buffer.from(encodeTensor(tensor)).equals(Buffer.from(original)));
});

test('int64 attributes keep the full range', () => {
  const model = decodeModel(modelBytes('vae_decoder'));
  const node = requireGraph(model).node[0];
  assert.ok(node !== undefined);
  node.attribute.push(intAttribute('big', 2n ** 63n - 1n), intAttribute('negative', -1));
  node.attribute.push({ name: 'list', type: AttributeType.ints, ints: [-(2n ** 63n), 3n], strings: [], tensors: [], graphs: [] });
  const again = requireGraph(decodeModel(encodeModel(model))).node[0];
  const byName = new Map(again?.attribute.map((a) => [a.name, a]));
  assert.equal(byName.get('big')?.i, 2n ** 63n - 1n);
  assert.equal(byName.get('negative')?.i, -1n);
  assert.deepEqual(byName.get('list')?.ints, [-(2n ** 63n), 3n]);
  assert.equal(byName.get('list')?.type, AttributeType.ints);
});
