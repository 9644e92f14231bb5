/**
 * Running ONNX models with onnxruntime-node (CPU) in tests: sessions, input tensors from plain arrays,
 * deterministic test data, outputs as float32, and a session's declared inputs/outputs.
 */
import * as ort from 'onnxruntime-node';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';

/** A declared graph input or output as onnxruntime reports it. */
export interface IoDescription {
  name: string;
  type: string;
  shape: (number | string)[];
}

/** Opens a CPU session on a model file (external data is resolved relative to the file). */
export function openSession(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
}

/** Opens a session, runs it once on `feeds`, releases it, and returns the outputs. */
export async function runModel(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await openSession(path);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** The session's inputs and outputs (name, element type, declared shape), from `inputMetadata`/`outputMetadata`. */
export function describeSession(session: ort.InferenceSession): { inputs: IoDescription[]; outputs: IoDescription[] } {
  const describe = (list: readonly ort.InferenceSession.ValueMetadata[]): IoDescription[] =>
    list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
  return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
}

/**
 * Deterministic pseudo-random float32 values, uniform in [-scale, scale) (a 32-bit LCG, Numerical
 * Recipes constants), so tests need no fixture for model inputs.
 */
export function seededValues(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 * scale - scale;
  }
  return out;
}

/** A float32 tensor. */
export function float32Tensor(values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.from(values), dims);
}

/** A float16 tensor holding `values` rounded to float16. */
export function float16Tensor(values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float16', toFloat16Bits(values), dims);
}

/** An int32 tensor. */
export function int32Tensor(values: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int32', Int32Array.from(values), dims);
}

/** An int64 tensor. */
export function int64Tensor(values: readonly (number | bigint)[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

/** A float32 or float16 tensor's values as float32. */
export function floatValues(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return fromFloat16Bits(tensor.data as Uint16Array);
  throw new TypeError(`expected a float32 or float16 tensor, got ${tensor.type}`);
}

/** An output by name; throws with the available names when missing. */
export function outputOf(outputs: Record<string, ort.Tensor>, name: string): ort.Tensor {
  const tensor = outputs[name];
  if (tensor === undefined) throw new Error(`no output "${name}" (outputs: ${Object.keys(outputs).join(', ')})`);
  return tensor;
}
