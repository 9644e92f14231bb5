/**
 * Enumerations of the ONNX schema (onnx/onnx `onnx/onnx.proto`) used by the model codec and the
 * variant builders.
 */

/** `TensorProto.DataType`: element types of tensors. */
export const DataType = {
  undefined: 0,
  float: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  double: 11,
  uint32: 12,
  uint64: 13,
  complex64: 14,
  complex128: 15,
  bfloat16: 16,
} as const;

/** One of the {@link DataType} values. */
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

/** `AttributeProto.AttributeType`: which value field of an attribute is in use. */
export const AttributeType = {
  undefined: 0,
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
  sparseTensor: 11,
  sparseTensors: 12,
  typeProto: 13,
  typeProtos: 14,
} as const;

/** `TensorProto.DataLocation`: where a tensor's bytes live. */
export const DataLocation = {
  default: 0,
  external: 1,
} as const;

/** Bytes per element of the fixed-width data types (undefined for strings and unknown types). */
export function dataTypeSize(dataType: number): number | undefined {
  switch (dataType) {
    case DataType.bool:
    case DataType.int8:
    case DataType.uint8:
      return 1;
    case DataType.int16:
    case DataType.uint16:
    case DataType.float16:
    case DataType.bfloat16:
      return 2;
    case DataType.float:
    case DataType.int32:
    case DataType.uint32:
      return 4;
    case DataType.double:
    case DataType.int64:
    case DataType.uint64:
    case DataType.complex64:
      return 8;
    case DataType.complex128:
      return 16;
    default:
      return undefined;
  }
}

/** The name onnxruntime's JavaScript API uses for an ONNX element type (`'float32'`, `'int64'`, ...). */
export function ortTypeName(dataType: number): string {
  const names: Record<number, string> = {
    [DataType.float]: 'float32',
    [DataType.uint8]: 'uint8',
    [DataType.int8]: 'int8',
    [DataType.uint16]: 'uint16',
    [DataType.int16]: 'int16',
    [DataType.int32]: 'int32',
    [DataType.int64]: 'int64',
    [DataType.string]: 'string',
    [DataType.bool]: 'bool',
    [DataType.float16]: 'float16',
    [DataType.double]: 'float64',
    [DataType.uint32]: 'uint32',
    [DataType.uint64]: 'uint64',
  };
  const name = names[dataType];
  if (name === undefined) throw new RangeError(`no onnxruntime type name for ONNX data type ${dataType}`);
  return name;
}
