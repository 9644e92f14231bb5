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
