import { UserError } from '../../errors.js';
import { fromFloat16, toFloat16 } from '../float16.js';
import type { ModelIo, ModelSession, TensorData } from '../model-session.js';

/** Float element types a graph boundary may use; everything else about the pipeline runs in float32. */
export type FloatType = 'float32' | 'float16';

/** Finds a declared graph input by its preferred names; throws a message naming the file otherwise. */
export function findInput(session: ModelSession, names: readonly string[], what: string): ModelIo {
  return findIo(session, session.inputs, 'input', names, what);
}

/** Finds a declared graph output by its preferred names; throws a message naming the file otherwise. */
export function findOutput(session: ModelSession, names: readonly string[], what: string): ModelIo {
  return findIo(session, session.outputs, 'output', names, what);
}

function findIo(session: ModelSession, list: readonly ModelIo[], kind: string, names: readonly string[], what: string): ModelIo {
  for (const name of names) {
    const io = list.find((candidate) => candidate.name === name);
    if (io) return io;
  }
  const declared = list.map((io) => `\`${io.name}\` (${io.type})`).join(', ') || 'none';
  throw new UserError(
    'model.unexpectedLayout',
    `${session.path}: expected an ${kind} named ${names.map((n) => `\`${n}\``).join(' or ')} (${what}); the graph declares ${declared}.`,
  );
}

/** Checks that a graph input or output carries float32 or float16 values and returns which. */
export function floatTypeOf(session: ModelSession, io: ModelIo, what: string): FloatType {
  if (io.type === 'float32' || io.type === 'float16') return io.type;
  throw new UserError(
    'model.unexpectedLayout',
    `${session.path}: expected \`${io.name}\` (${what}) to be float32 or float16, got ${io.type}.`,
  );
}

/** Checks the declared rank of a graph input or output when the graph declares a shape. */
export function expectRank(session: ModelSession, io: ModelIo, rank: number, what: string): void {
  if (io.shape && io.shape.length !== rank) {
    throw new UserError(
      'model.unexpectedLayout',
      `${session.path}: expected \`${io.name}\` (${what}) to have ${rank} dimensions, the graph declares [${io.shape.join(', ')}].`,
    );
  }
}

/** Wraps float32 values as a tensor of the graph's float type, converting to half precision when needed. */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): TensorData {
  return type === 'float32' ? { type, data, dims } : { type, data: toFloat16(data), dims };
}

/** Reads a float output as float32 values, checking its element count. */
export function readFloatOutput(
  session: ModelSession,
  outputs: Record<string, TensorData>,
  name: string,
  expectedDims: readonly number[],
): Float32Array {
  const tensor = outputs[name];
  if (!tensor) throw new UserError('model.unexpectedOutput', `${session.path}: the graph returned no \`${name}\` output.`);
  const expectedLength = expectedDims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== expectedLength) {
    throw new UserError(
      'model.unexpectedOutput',
      `${session.path}: expected \`${name}\` of shape [${expectedDims.join(', ')}], got [${tensor.dims.join(', ')}].`,
    );
  }
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return float16Values(tensor.data);
  throw new UserError('model.unexpectedOutput', `${session.path}: expected \`${name}\` to be float32 or float16, got ${tensor.type}.`);
}

/**
 * float32 values of float16 tensor data in either form onnxruntime hands out: raw half bits in a Uint16Array
 * (Node < 24), or a `Float16Array` of values, which onnxruntime-common uses whenever the global exists
 * (Node ≥ 24); reading the latter as bits would give NaN and garbage.
 */
export function float16Values(data: TensorData['data']): Float32Array {
  if (data instanceof Uint16Array) return fromFloat16(data);
  return Float32Array.from(data as ArrayLike<number>);
}

/** Times one graph run; the pipeline reports the total time spent inside model calls. */
export async function timedRun(
  session: ModelSession,
  feeds: Readonly<Record<string, TensorData>>,
  outputNames: readonly string[],
  timing: ModelTiming,
): Promise<Record<string, TensorData>> {
  const start = performance.now();
  try {
    return await session.run(feeds, outputNames);
  } finally {
    timing.modelMs += performance.now() - start;
    timing.modelCalls += 1;
  }
}

/** Accumulates the time spent inside `session.run` calls. */
export interface ModelTiming {
  modelMs: number;
  modelCalls: number;
}
