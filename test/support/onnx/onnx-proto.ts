/**
 * ONNX `ModelProto` codec on top of the protobuf wire format, covering the messages needed to edit a
 * graph: model, graph, node, attribute, tensor, value info and type/shape. Field numbers follow
 * onnx/onnx `onnx/onnx.proto`. Everything this layer does not model (training info, functions, sparse
 * initializers, metadata of newer IR versions, ...) is kept as raw fields and written back unchanged, so
 * `encodeModel(decodeModel(bytes))` gives back `bytes` for models written by a protobuf serialiser.
 *
 * What would not round-trip byte for byte (no serialiser writes it): a non-repeated field written twice
 * (the last value wins), one field's repeated values split into separate runs (they are written together),
 * non-minimal varints, and a NaN payload in a single-float attribute `f` (JavaScript numbers may
 * canonicalise it; float arrays keep their bits).
 */
import { MessageWriter, newWireInfo, noteField, notePacking, type WireInfo } from './message-writer.js';
import {
  decodeFields,
  decodePackedVarints,
  ProtobufDecodeError,
  toInt64,
  toSafeNumber,
  utf8Decode,
  WireType,
  type RawField,
} from './wire.js';

/** Fields every decoded message carries to re-encode itself exactly; absent on messages built in code. */
export interface WireCarrier {
  /** Encoding details of the original message (unknown fields, field order, packing). */
  wire?: WireInfo;
}

/** `StringStringEntryProto`: a key/value pair (metadata, external-data locations). */
export interface StringStringEntry extends WireCarrier {
  key?: string;
  value?: string;
}

/** `OperatorSetIdProto`: an imported operator set. */
export interface OperatorSetId extends WireCarrier {
  domain?: string;
  version?: number;
}

/** `TensorShapeProto.Dimension`: a fixed size, a symbolic name, or neither (unknown). */
export interface Dimension extends WireCarrier {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

/** `TensorShapeProto`. */
export interface TensorShape extends WireCarrier {
  dim: Dimension[];
}

/** `TypeProto.Tensor`: element type and (optional) shape. */
export interface TensorType extends WireCarrier {
  elemType?: number;
  shape?: TensorShape;
}

/** `TypeProto` (only the tensor case is modelled; sequence/map/optional types stay raw). */
export interface TypeProto extends WireCarrier {
  tensorType?: TensorType;
  denotation?: string;
}

/** `ValueInfoProto`: a named, typed value (graph input, output or intermediate). */
export interface ValueInfo extends WireCarrier {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

/**
 * `TensorProto`. Numeric payload fields keep the exact bits: `floatData`/`doubleData` are built from
 * the little-endian wire bytes without going through JavaScript numbers.
 */
export interface TensorProto extends WireCarrier {
  dims: number[];
  dataType?: number;
  floatData?: Float32Array;
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: bigint[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData: StringStringEntry[];
  dataLocation?: number;
  doubleData?: Float64Array;
  uint64Data: bigint[];
}

/** `AttributeProto`. Integer attributes are `bigint` because ONNX exporters use the full int64 range. */
export interface AttributeProto extends WireCarrier {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: Float32Array;
  ints: bigint[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

/** `NodeProto`: one operator application. */
export interface NodeProto extends WireCarrier {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: AttributeProto[];
  docString?: string;
}

/** `GraphProto`. */
export interface GraphProto extends WireCarrier {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  docString?: string;
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
}

/** `ModelProto`: the content of a `.onnx` file. */
export interface ModelProto extends WireCarrier {
  irVersion?: number;
  opsetImport: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps: StringStringEntry[];
}

// ---------------------------------------------------------------------------------------------- decoding

type FieldHandler = (field: RawField, wire: WireInfo) => boolean;

/** Runs `handle` on every field; fields it declines (returns false for) are kept as unknown. */
function decodeMessage(bytes: Uint8Array, handle: FieldHandler): WireInfo {
  const wire = newWireInfo();
  for (const field of decodeFields(bytes)) {
    noteField(wire, field.fieldNumber);
    if (!handle(field, wire)) wire.unknownFields.push(field);
  }
  return wire;
}

function asString(field: RawField): string | undefined {
  return field.wireType === WireType.lengthDelimited ? utf8Decode(field.value) : undefined;
}

function asBytes(field: RawField): Uint8Array | undefined {
  return field.wireType === WireType.lengthDelimited ? field.value : undefined;
}

function asVarint(field: RawField): bigint | undefined {
  return field.wireType === WireType.varint ? field.value : undefined;
}

/** Collects a repeated varint field that may come packed or one value per field. */
function pushVarints(field: RawField, wire: WireInfo, into: bigint[]): boolean {
  if (field.wireType === WireType.varint) {
    notePacking(wire, field.fieldNumber, false);
    into.push(field.value);
    return true;
  }
  if (field.wireType === WireType.lengthDelimited) {
    notePacking(wire, field.fieldNumber, true);
    into.push(...decodePackedVarints(field.value));
    return true;
  }
  return false;
}

/** Collects a repeated fixed-width field (packed or not) as raw little-endian byte chunks. */
function pushFixed(field: RawField, wire: WireInfo, size: 4 | 8, into: Uint8Array[]): boolean {
  const scalarType = size === 4 ? WireType.fixed32 : WireType.fixed64;
  if (field.wireType === scalarType) {
    notePacking(wire, field.fieldNumber, false);
    into.push(field.value);
    return true;
  }
  if (field.wireType === WireType.lengthDelimited) {
    if (field.value.length % size !== 0)
      throw new ProtobufDecodeError(`packed field ${field.fieldNumber} is not a multiple of ${size} bytes`);
    notePacking(wire, field.fieldNumber, true);
    into.push(field.value);
    return true;
  }
  return false;
}

function joinChunks(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

// Typed arrays use the platform's byte order; ONNX stores little-endian.
const littleEndianPlatform = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function float32FromLittleEndian(chunks: Uint8Array[]): Float32Array | undefined {
  if (chunks.length === 0) return undefined;
  if (!littleEndianPlatform) throw new Error('float_data decoding assumes a little-endian platform');
  return new Float32Array(joinChunks(chunks).buffer);
}

function float64FromLittleEndian(chunks: Uint8Array[]): Float64Array | undefined {
  if (chunks.length === 0) return undefined;
  if (!littleEndianPlatform) throw new Error('double_data decoding assumes a little-endian platform');
  return new Float64Array(joinChunks(chunks).buffer);
}

/** Sets a single-valued field; returns false (keep raw) when the wire type does not match. */
function set<T>(value: T | undefined, assign: (v: T) => void): boolean {
  if (value === undefined) return false;
  assign(value);
  return true;
}

function decodeStringStringEntry(bytes: Uint8Array): StringStringEntry {
  const entry: StringStringEntry = {};
  entry.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asString(f), (v) => (entry.key = v));
      case 2:
        return set(asString(f), (v) => (entry.value = v));
      default:
        return false;
    }
  });
  return entry;
}

function decodeOperatorSetId(bytes: Uint8Array): OperatorSetId {
  const opset: OperatorSetId = {};
  opset.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asString(f), (v) => (opset.domain = v));
      case 2:
        return set(asVarint(f), (v) => (opset.version = toSafeNumber(v, 'opset version')));
      default:
        return false;
    }
  });
  return opset;
}

function decodeDimension(bytes: Uint8Array): Dimension {
  const dim: Dimension = {};
  dim.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asVarint(f), (v) => (dim.dimValue = toSafeNumber(v, 'dim_value')));
      case 2:
        return set(asString(f), (v) => (dim.dimParam = v));
      case 3:
        return set(asString(f), (v) => (dim.denotation = v));
      default:
        return false;
    }
  });
  return dim;
}

function decodeTensorShape(bytes: Uint8Array): TensorShape {
  const shape: TensorShape = { dim: [] };
  shape.wire = decodeMessage(bytes, (f) => (f.fieldNumber === 1 ? set(asBytes(f), (v) => shape.dim.push(decodeDimension(v))) : false));
  return shape;
}

function decodeTensorType(bytes: Uint8Array): TensorType {
  const type: TensorType = {};
  type.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asVarint(f), (v) => (type.elemType = toSafeNumber(v, 'elem_type')));
      case 2:
        return set(asBytes(f), (v) => (type.shape = decodeTensorShape(v)));
      default:
        return false;
    }
  });
  return type;
}

function decodeTypeProto(bytes: Uint8Array): TypeProto {
  const type: TypeProto = {};
  type.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asBytes(f), (v) => (type.tensorType = decodeTensorType(v)));
      case 6:
        return set(asString(f), (v) => (type.denotation = v));
      default:
        return false;
    }
  });
  return type;
}

function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  const info: ValueInfo = {};
  info.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asString(f), (v) => (info.name = v));
      case 2:
        return set(asBytes(f), (v) => (info.type = decodeTypeProto(v)));
      case 3:
        return set(asString(f), (v) => (info.docString = v));
      default:
        return false;
    }
  });
  return info;
}

/** Decodes one `TensorProto` message. */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  const tensor: TensorProto = { dims: [], int32Data: [], stringData: [], int64Data: [], externalData: [], uint64Data: [] };
  const dims: bigint[] = [];
  const int32: bigint[] = [];
  const floats: Uint8Array[] = [];
  const doubles: Uint8Array[] = [];
  tensor.wire = decodeMessage(bytes, (f, wire) => {
    switch (f.fieldNumber) {
      case 1:
        return pushVarints(f, wire, dims);
      case 2:
        return set(asVarint(f), (v) => (tensor.dataType = toSafeNumber(v, 'data_type')));
      case 4:
        return pushFixed(f, wire, 4, floats);
      case 5:
        return pushVarints(f, wire, int32);
      case 6:
        return set(asBytes(f), (v) => tensor.stringData.push(v));
      case 7:
        return pushVarints(f, wire, tensor.int64Data);
      case 8:
        return set(asString(f), (v) => (tensor.name = v));
      case 9:
        return set(asBytes(f), (v) => (tensor.rawData = v));
      case 10:
        return pushFixed(f, wire, 8, doubles);
      case 11:
        return pushVarints(f, wire, tensor.uint64Data);
      case 12:
        return set(asString(f), (v) => (tensor.docString = v));
      case 13:
        return set(asBytes(f), (v) => tensor.externalData.push(decodeStringStringEntry(v)));
      case 14:
        return set(asVarint(f), (v) => (tensor.dataLocation = toSafeNumber(v, 'data_location')));
      default:
        return false;
    }
  });
  tensor.dims = dims.map((d) => toSafeNumber(d, 'dims'));
  tensor.int32Data = int32.map((d) => toSafeNumber(d, 'int32_data'));
  tensor.int64Data = tensor.int64Data.map(toInt64);
  const floatData = float32FromLittleEndian(floats);
  if (floatData !== undefined) tensor.floatData = floatData;
  const doubleData = float64FromLittleEndian(doubles);
  if (doubleData !== undefined) tensor.doubleData = doubleData;
  return tensor;
}

function decodeAttribute(bytes: Uint8Array): AttributeProto {
  const attribute: AttributeProto = { ints: [], strings: [], tensors: [], graphs: [] };
  const floats: Uint8Array[] = [];
  attribute.wire = decodeMessage(bytes, (f, wire) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asString(f), (v) => (attribute.name = v));
      case 2:
        if (f.wireType !== WireType.fixed32) return false;
        attribute.f = new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true);
        return true;
      case 3:
        return set(asVarint(f), (v) => (attribute.i = toInt64(v)));
      case 4:
        return set(asBytes(f), (v) => (attribute.s = v));
      case 5:
        return set(asBytes(f), (v) => (attribute.t = decodeTensor(v)));
      case 6:
        return set(asBytes(f), (v) => (attribute.g = decodeGraph(v)));
      case 7:
        return pushFixed(f, wire, 4, floats);
      case 8:
        return pushVarints(f, wire, attribute.ints);
      case 9:
        return set(asBytes(f), (v) => attribute.strings.push(v));
      case 10:
        return set(asBytes(f), (v) => attribute.tensors.push(decodeTensor(v)));
      case 11:
        return set(asBytes(f), (v) => attribute.graphs.push(decodeGraph(v)));
      case 13:
        return set(asString(f), (v) => (attribute.docString = v));
      case 20:
        return set(asVarint(f), (v) => (attribute.type = toSafeNumber(v, 'attribute type')));
      case 21:
        return set(asString(f), (v) => (attribute.refAttrName = v));
      default:
        return false;
    }
  });
  attribute.ints = attribute.ints.map(toInt64);
  const floatValues = float32FromLittleEndian(floats);
  if (floatValues !== undefined) attribute.floats = floatValues;
  return attribute;
}

function decodeNode(bytes: Uint8Array): NodeProto {
  const node: NodeProto = { input: [], output: [], attribute: [] };
  node.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asString(f), (v) => node.input.push(v));
      case 2:
        return set(asString(f), (v) => node.output.push(v));
      case 3:
        return set(asString(f), (v) => (node.name = v));
      case 4:
        return set(asString(f), (v) => (node.opType = v));
      case 5:
        return set(asBytes(f), (v) => node.attribute.push(decodeAttribute(v)));
      case 6:
        return set(asString(f), (v) => (node.docString = v));
      case 7:
        return set(asString(f), (v) => (node.domain = v));
      default:
        return false;
    }
  });
  return node;
}

/** Decodes one `GraphProto` message. */
export function decodeGraph(bytes: Uint8Array): GraphProto {
  const graph: GraphProto = { node: [], initializer: [], input: [], output: [], valueInfo: [] };
  graph.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asBytes(f), (v) => graph.node.push(decodeNode(v)));
      case 2:
        return set(asString(f), (v) => (graph.name = v));
      case 5:
        return set(asBytes(f), (v) => graph.initializer.push(decodeTensor(v)));
      case 10:
        return set(asString(f), (v) => (graph.docString = v));
      case 11:
        return set(asBytes(f), (v) => graph.input.push(decodeValueInfo(v)));
      case 12:
        return set(asBytes(f), (v) => graph.output.push(decodeValueInfo(v)));
      case 13:
        return set(asBytes(f), (v) => graph.valueInfo.push(decodeValueInfo(v)));
      default:
        return false;
    }
  });
  return graph;
}

/** Decodes the bytes of a `.onnx` file. Byte views in the result point into `bytes` (no copies). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  // A plain Uint8Array view: subarrays of a Node Buffer are Buffers, which are slower to create.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const model: ModelProto = { opsetImport: [], metadataProps: [] };
  model.wire = decodeMessage(bytes, (f) => {
    switch (f.fieldNumber) {
      case 1:
        return set(asVarint(f), (v) => (model.irVersion = toSafeNumber(v, 'ir_version')));
      case 2:
        return set(asString(f), (v) => (model.producerName = v));
      case 3:
        return set(asString(f), (v) => (model.producerVersion = v));
      case 4:
        return set(asString(f), (v) => (model.domain = v));
      case 5:
        return set(asVarint(f), (v) => (model.modelVersion = toSafeNumber(v, 'model_version')));
      case 6:
        return set(asString(f), (v) => (model.docString = v));
      case 7:
        return set(asBytes(f), (v) => (model.graph = decodeGraph(v)));
      case 8:
        return set(asBytes(f), (v) => model.opsetImport.push(decodeOperatorSetId(v)));
      case 14:
        return set(asBytes(f), (v) => model.metadataProps.push(decodeStringStringEntry(v)));
      default:
        return false;
    }
  });
  return model;
}

// ---------------------------------------------------------------------------------------------- encoding

function littleEndianBytes(values: Float32Array | Float64Array | undefined): Uint8Array {
  return values === undefined ? new Uint8Array(0) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function writeStringStringEntry(entry: StringStringEntry): MessageWriter {
  const w = new MessageWriter(entry.wire);
  w.string(1, entry.key);
  w.string(2, entry.value);
  return w;
}

function writeOperatorSetId(opset: OperatorSetId): MessageWriter {
  const w = new MessageWriter(opset.wire);
  w.string(1, opset.domain);
  w.varint(2, opset.version);
  return w;
}

function writeDimension(dim: Dimension): MessageWriter {
  const w = new MessageWriter(dim.wire);
  w.varint(1, dim.dimValue);
  w.string(2, dim.dimParam);
  w.string(3, dim.denotation);
  return w;
}

function writeTensorShape(shape: TensorShape): MessageWriter {
  const w = new MessageWriter(shape.wire);
  w.messages(1, shape.dim.map(writeDimension));
  return w;
}

function writeTensorType(type: TensorType): MessageWriter {
  const w = new MessageWriter(type.wire);
  w.varint(1, type.elemType);
  if (type.shape !== undefined) w.message(2, writeTensorShape(type.shape));
  return w;
}

function writeTypeProto(type: TypeProto): MessageWriter {
  const w = new MessageWriter(type.wire);
  if (type.tensorType !== undefined) w.message(1, writeTensorType(type.tensorType));
  w.string(6, type.denotation);
  return w;
}

function writeValueInfo(info: ValueInfo): MessageWriter {
  const w = new MessageWriter(info.wire);
  w.string(1, info.name);
  if (info.type !== undefined) w.message(2, writeTypeProto(info.type));
  w.string(3, info.docString);
  return w;
}

function writeTensor(tensor: TensorProto): MessageWriter {
  const w = new MessageWriter(tensor.wire);
  w.repeatedVarint(1, tensor.dims, false);
  w.varint(2, tensor.dataType);
  w.repeatedFixed(4, littleEndianBytes(tensor.floatData), 4, true);
  w.repeatedVarint(5, tensor.int32Data, true);
  w.bytesList(6, tensor.stringData);
  w.repeatedVarint(7, tensor.int64Data, true);
  w.string(8, tensor.name);
  w.bytes(9, tensor.rawData);
  w.repeatedFixed(10, littleEndianBytes(tensor.doubleData), 8, true);
  w.repeatedVarint(11, tensor.uint64Data, true);
  w.string(12, tensor.docString);
  w.messages(13, tensor.externalData.map(writeStringStringEntry));
  w.varint(14, tensor.dataLocation);
  return w;
}

function writeAttribute(attribute: AttributeProto): MessageWriter {
  const w = new MessageWriter(attribute.wire);
  w.string(1, attribute.name);
  w.float(2, attribute.f);
  w.varint(3, attribute.i);
  w.bytes(4, attribute.s);
  if (attribute.t !== undefined) w.message(5, writeTensor(attribute.t));
  if (attribute.g !== undefined) w.message(6, writeGraph(attribute.g));
  w.repeatedFixed(7, littleEndianBytes(attribute.floats), 4, false);
  w.repeatedVarint(8, attribute.ints, false);
  w.bytesList(9, attribute.strings);
  w.messages(10, attribute.tensors.map(writeTensor));
  w.messages(11, attribute.graphs.map(writeGraph));
  w.string(13, attribute.docString);
  w.varint(20, attribute.type);
  w.string(21, attribute.refAttrName);
  return w;
}

function writeNode(node: NodeProto): MessageWriter {
  const w = new MessageWriter(node.wire);
  w.strings(1, node.input);
  w.strings(2, node.output);
  w.string(3, node.name);
  w.string(4, node.opType);
  w.messages(5, node.attribute.map(writeAttribute));
  w.string(6, node.docString);
  w.string(7, node.domain);
  return w;
}

function writeGraph(graph: GraphProto): MessageWriter {
  const w = new MessageWriter(graph.wire);
  w.messages(1, graph.node.map(writeNode));
  w.string(2, graph.name);
  w.messages(5, graph.initializer.map(writeTensor));
  w.string(10, graph.docString);
  w.messages(11, graph.input.map(writeValueInfo));
  w.messages(12, graph.output.map(writeValueInfo));
  w.messages(13, graph.valueInfo.map(writeValueInfo));
  return w;
}

function writeModel(model: ModelProto): MessageWriter {
  const w = new MessageWriter(model.wire);
  w.varint(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.string(4, model.domain);
  w.varint(5, model.modelVersion);
  w.string(6, model.docString);
  if (model.graph !== undefined) w.message(7, writeGraph(model.graph));
  w.messages(8, model.opsetImport.map(writeOperatorSetId));
  w.messages(14, model.metadataProps.map(writeStringStringEntry));
  return w;
}

/** Encodes one `TensorProto` message. */
export function encodeTensor(tensor: TensorProto): Uint8Array {
  return writeTensor(tensor).toBytes();
}

/** Encodes one `GraphProto` message. */
export function encodeGraph(graph: GraphProto): Uint8Array {
  return writeGraph(graph).toBytes();
}

/** Encodes a model to the bytes of a `.onnx` file. */
export function encodeModel(model: ModelProto): Uint8Array {
  return writeModel(model).toBytes();
}
