import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  castInput,
  castOutput,
  dimsOf,
  makeNode,
  renameValue,
  setTensorType,
  tensorValueInfo,
  uniqueName,
} from '../support/onnx/graph-edit.js';
import { decodeGraph, encodeGraph, type GraphProto } from '../support/onnx/onnx-proto.js';
import { AttributeType, DataType } from '../support/onnx/onnx-schema.js';

/** x → Relu → y (graph output), y → Neg → z (graph output), a subgraph reading x from the outer scope. */
function smallGraph(): GraphProto {
  const inner: GraphProto = {
    node: [makeNode('Identity', ['x'], ['inner_out'], 'inner')],
    initializer: [],
    input: [],
    output: [tensorValueInfo('inner_out', DataType.float, undefined)],
    valueInfo: [],
  };
  const withSubgraph = makeNode('If', ['cond'], ['w'], 'if');
  withSubgraph.attribute.push({ name: 'then_branch', type: AttributeType.graph, g: inner, ints: [], strings: [], tensors: [], graphs: [] });
  return {
    node: [makeNode('Relu', ['x'], ['y'], 'relu'), makeNode('Neg', ['y'], ['z'], 'neg'), withSubgraph],
    initializer: [],
    input: [tensorValueInfo('x', DataType.float, ['batch', 3]), tensorValueInfo('cond', DataType.bool, [])],
    output: [tensorValueInfo('y', DataType.float, ['batch', 3]), tensorValueInfo('z', DataType.float, ['batch', 3])],
    valueInfo: [tensorValueInfo('y', DataType.float, ['batch', 3])],
  };
}

test('castInput re-declares the input and routes every reader, also in subgraphs, through a Cast', () => {
  const graph = smallGraph();
  const converted = castInput(graph, 'x', DataType.float16, [2, 3]);
  assert.equal(converted, 'x/variant_cast');
  const [cast, relu] = graph.node;
  assert.equal(cast?.opType, 'Cast');
  assert.deepEqual([cast?.input, cast?.output], [['x'], [converted]]);
  assert.equal(cast?.attribute[0]?.name, 'to');
  assert.equal(cast?.attribute[0]?.i, BigInt(DataType.float));
  assert.deepEqual(relu?.input, [converted]);
  assert.deepEqual(graph.node[3]?.attribute[0]?.g?.node[0]?.input, [converted]);
  assert.equal(graph.input[0]?.type?.tensorType?.elemType, DataType.float16);
  assert.deepEqual(dimsOf(graph.input[0]!), [2, 3]);
});

test('castOutput keeps internal readers on the computed value and casts only the graph output', () => {
  const graph = smallGraph();
  const internal = castOutput(graph, 'y', DataType.float16);
  assert.deepEqual(graph.node[0]?.output, [internal], 'Relu now produces the internal value');
  assert.deepEqual(graph.node[1]?.input, [internal], 'Neg still reads the float32 value');
  assert.deepEqual(
    graph.valueInfo.map((v) => v.name),
    [internal],
    'value_info follows the renamed value',
  );
  const last = graph.node.at(-1);
  assert.equal(last?.opType, 'Cast');
  assert.deepEqual([last?.input, last?.output], [[internal], ['y']]);
  assert.equal(graph.output[0]?.type?.tensorType?.elemType, DataType.float16);
});

test('renameValue renames inputs, outputs, value_info and node references', () => {
  const graph = smallGraph();
  renameValue(graph, 'y', 'why');
  assert.deepEqual(graph.node[0]?.output, ['why']);
  assert.deepEqual(graph.node[1]?.input, ['why']);
  assert.equal(graph.output[0]?.name, 'why');
  assert.equal(graph.valueInfo[0]?.name, 'why');
});

test('uniqueName avoids every name in use', () => {
  const graph = smallGraph();
  assert.equal(uniqueName(graph, 'fresh'), 'fresh');
  assert.equal(uniqueName(graph, 'y'), 'y_1');
  graph.node.push(makeNode('Identity', ['z'], ['y_1'], 'id'));
  assert.equal(uniqueName(graph, 'y'), 'y_2');
});

test('setTensorType keeps unchanged dimensions as they were encoded (with denotations)', () => {
  const graph = decodeGraph(encodeGraph(smallGraph()));
  const input = graph.input[0]!;
  const batch = input.type?.tensorType?.shape?.dim[0];
  assert.ok(batch !== undefined);
  batch.denotation = 'DATA_BATCH';
  setTensorType(input, { dims: ['batch', 'channels'] });
  assert.equal(input.type?.tensorType?.shape?.dim[0], batch);
  assert.deepEqual(dimsOf(input), ['batch', 'channels']);
  setTensorType(input, { dims: [] });
  assert.deepEqual(dimsOf(input), []);
  const reencoded = decodeGraph(encodeGraph(graph));
  assert.deepEqual(dimsOf(reencoded.input[0]!), [], 'an empty shape stays declared');
  assert.deepEqual(reencoded.input[1] && dimsOf(reencoded.input[1]), []);
  assert.equal(dimsOf(reencoded.node[2]!.attribute[0]!.g!.output[0]!), undefined, 'an absent shape stays absent');
});
