/**
 * Small, generic edits of a decoded ONNX graph: look up graph inputs/outputs, change their declared
 * types and shapes, rename values, build nodes / attributes / initializers, and put Cast nodes at the
 * graph boundary.
 */
import { AttributeType, DataType } from './onnx-schema.js';
import type { AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfo } from './onnx-proto.js';

/** A declared dimension: a fixed size, a symbolic name, or `undefined` for an unnamed unknown size. */
export type DimSpec = number | string | undefined;

/** The model's main graph; throws when the model has none. */
export function requireGraph(model: ModelProto): GraphProto {
  if (model.graph === undefined) throw new Error('the model has no graph');
  return model.graph;
}

/** The graph input named `name`; throws with the list of inputs when there is none. */
export function requireInput(graph: GraphProto, name: string): ValueInfo {
  const input = graph.input.find((v) => v.name === name);
  if (input === undefined) throw new Error(`graph has no input "${name}" (inputs: ${graph.input.map((v) => v.name).join(', ')})`);
  return input;
}

/** The graph output named `name`; throws with the list of outputs when there is none. */
export function requireOutput(graph: GraphProto, name: string): ValueInfo {
  const output = graph.output.find((v) => v.name === name);
  if (output === undefined) throw new Error(`graph has no output "${name}" (outputs: ${graph.output.map((v) => v.name).join(', ')})`);
  return output;
}

/** Element type of a tensor value (a `DataType` number); throws for non-tensor or untyped values. */
export function elemTypeOf(info: ValueInfo): number {
  const elemType = info.type?.tensorType?.elemType;
  if (elemType === undefined) throw new Error(`value "${info.name}" has no tensor element type`);
  return elemType;
}

/** Declared dimensions of a tensor value, or `undefined` when its shape is not declared at all. */
export function dimsOf(info: ValueInfo): DimSpec[] | undefined {
  return info.type?.tensorType?.shape?.dim.map((d) => d.dimValue ?? d.dimParam);
}

function makeDimension(spec: DimSpec): Dimension {
  if (typeof spec === 'number') return { dimValue: spec };
  if (typeof spec === 'string') return { dimParam: spec };
  return {};
}

/** A tensor-typed `ValueInfoProto`; `dims` undefined leaves the shape undeclared, `[]` declares a scalar. */
export function tensorValueInfo(name: string, elemType: number, dims: readonly DimSpec[] | undefined): ValueInfo {
  return {
    name,
    type: {
      tensorType: dims === undefined ? { elemType } : { elemType, shape: { dim: dims.map(makeDimension) } },
    },
  };
}

/**
 * Changes the declared element type and/or shape of a tensor value in place. Dimensions that keep their
 * value keep their original encoding (and any denotation).
 */
export function setTensorType(info: ValueInfo, change: { elemType?: number; dims?: readonly DimSpec[] }): void {
  const tensorType = info.type?.tensorType;
  if (tensorType === undefined) throw new Error(`value "${info.name}" is not a tensor`);
  if (change.elemType !== undefined) tensorType.elemType = change.elemType;
  if (change.dims !== undefined) {
    const old = tensorType.shape?.dim ?? [];
    const dim = change.dims.map((spec, i) => {
      const previous = old[i];
      const same = previous !== undefined && (previous.dimValue ?? previous.dimParam) === spec;
      return same ? previous : makeDimension(spec);
    });
    tensorType.shape = { ...(tensorType.shape ?? {}), dim };
  }
}

/** Every value name used anywhere in the graph (inputs, outputs, initializers, node inputs and outputs). */
export function valueNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) if (v.name !== undefined) names.add(v.name);
  for (const t of graph.initializer) if (t.name !== undefined) names.add(t.name);
  for (const node of graph.node) {
    for (const name of node.input) names.add(name);
    for (const name of node.output) names.add(name);
  }
  return names;
}

/** `base` if no value of the graph has that name yet, else `base_1`, `base_2`, ... */
export function uniqueName(graph: GraphProto, base: string): string {
  const taken = valueNames(graph);
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

function subgraphsOf(node: NodeProto): GraphProto[] {
  return node.attribute.flatMap((a) => [...(a.g === undefined ? [] : [a.g]), ...a.graphs]);
}

/**
 * Makes every node that reads `from` read `to` instead, including nodes of subgraphs (If/Loop bodies)
 * that read it from the outer scope. Returns how many node inputs changed.
 */
export function renameNodeInputs(graph: GraphProto, from: string, to: string): number {
  let count = 0;
  for (const node of graph.node) {
    node.input = node.input.map((name) => {
      if (name !== from) return name;
      count++;
      return to;
    });
    for (const subgraph of subgraphsOf(node)) count += renameNodeInputs(subgraph, from, to);
  }
  return count;
}

/**
 * Renames a value everywhere in the graph: node inputs and outputs (also in subgraphs), graph inputs,
 * outputs, value_info and initializers.
 */
export function renameValue(graph: GraphProto, from: string, to: string): void {
  renameNodeInputs(graph, from, to);
  for (const node of graph.node) node.output = node.output.map((name) => (name === from ? to : name));
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) if (v.name === from) v.name = to;
  for (const t of graph.initializer) if (t.name === from) t.name = to;
}

/** An attribute of type INT. */
export function intAttribute(name: string, value: number | bigint): AttributeProto {
  return { name, type: AttributeType.int, i: BigInt(value), ints: [], strings: [], tensors: [], graphs: [] };
}

/** An attribute of type INTS. */
export function intsAttribute(name: string, values: readonly (number | bigint)[]): AttributeProto {
  return { name, type: AttributeType.ints, ints: values.map((v) => BigInt(v)), strings: [], tensors: [], graphs: [] };
}

/** A node of the default ONNX domain. */
export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: AttributeProto[] = [],
): NodeProto {
  return { opType, input: [...inputs], output: [...outputs], name, attribute: attributes };
}

function emptyTensor(name: string, dims: readonly number[], dataType: number): TensorProto {
  return { name, dims: [...dims], dataType, int32Data: [], stringData: [], int64Data: [], externalData: [], uint64Data: [] };
}

/** An int64 initializer (stored little-endian in `raw_data`, as exporters do). */
export function int64Initializer(name: string, dims: readonly number[], values: readonly (number | bigint)[]): TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { ...emptyTensor(name, dims, DataType.int64), rawData: new Uint8Array(data.buffer) };
}

/** A float32 initializer (stored little-endian in `raw_data`). */
export function float32Initializer(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  const data = Float32Array.from(values);
  return { ...emptyTensor(name, dims, DataType.float), rawData: new Uint8Array(data.buffer) };
}

/**
 * Declares graph input `name` with a new element type (and optionally new dims) and inserts, first in the
 * graph, a Cast back to the type the graph was built for; every former reader of the input reads the
 * Cast's output. Returns the name of that output.
 */
export function castInput(graph: GraphProto, name: string, declaredType: number, dims?: readonly DimSpec[]): string {
  const input = requireInput(graph, name);
  const graphType = elemTypeOf(input);
  const converted = uniqueName(graph, `${name}/variant_cast`);
  renameNodeInputs(graph, name, converted);
  graph.node.unshift(makeNode('Cast', [name], [converted], `${name}/variant_cast`, [intAttribute('to', graphType)]));
  setTensorType(input, dims === undefined ? { elemType: declaredType } : { elemType: declaredType, dims });
  return converted;
}

/**
 * Redirects graph output `name`: whatever produced it now produces an internal value, and nodes that read
 * it read that value. Returns the internal value's name; the caller must add a node that produces `name`.
 */
export function detachOutput(graph: GraphProto, name: string, suffix: string): string {
  requireOutput(graph, name);
  const internal = uniqueName(graph, `${name}/${suffix}`);
  renameNodeInputs(graph, name, internal);
  for (const node of graph.node) node.output = node.output.map((n) => (n === name ? internal : n));
  for (const v of graph.valueInfo) if (v.name === name) v.name = internal;
  return internal;
}

/**
 * Makes graph output `name` of type `declaredType` by appending a Cast from the type the graph computes.
 * Returns the name of the value the Cast reads.
 */
export function castOutput(graph: GraphProto, name: string, declaredType: number): string {
  const output = requireOutput(graph, name);
  const internal = detachOutput(graph, name, 'before_variant_cast');
  graph.node.push(makeNode('Cast', [internal], [name], `${name}/variant_cast`, [intAttribute('to', declaredType)]));
  setTensorType(output, { elemType: declaredType });
  return internal;
}
