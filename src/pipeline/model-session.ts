/**
 * The pipeline's view of one loaded ONNX graph. The runtime module implements it on top of onnxruntime;
 * the pipeline never sees onnxruntime itself, so everything about dtypes and layouts that differs between
 * exports is handled here in the core, where it can be tested on plain arrays.
 */

/** Element types the pipeline can produce or consume. */
export type TensorElementType = 'float32' | 'float16' | 'int32' | 'int64' | 'float64';

/** Typed-array storage for each element type; float16 values are raw IEEE half bits. */
export interface TensorStorage {
  float32: Float32Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  float64: Float64Array;
}

/** A dense tensor as plain data. */
export interface TensorData<T extends TensorElementType = TensorElementType> {
  readonly type: T;
  readonly data: TensorStorage[T];
  readonly dims: readonly number[];
}

/** Declared name, element type and shape of a graph input or output; symbolic dimensions are strings. */
export interface ModelIo {
  readonly name: string;
  /** The ONNX element type as onnxruntime names it (`float32`, `float16`, `int64`, ...). */
  readonly type: string;
  /** Declared shape; undefined when the graph does not declare one. */
  readonly shape?: readonly (number | string)[];
}

/**
 * How often a graph runs, so the runtime can size its memory: `repeated` graphs (the UNet, once per step; the
 * decoder and text encoder, once per job) keep their working memory between runs; an `occasional` one (the VAE
 * encoder, only for image-to-image) gives it back after each run instead of holding it while the UNet and the
 * decoder need theirs.
 */
export type SessionUsage = 'repeated' | 'occasional';

/** One loaded graph. */
export interface ModelSession {
  /** Path of the `.onnx` file, for error messages. */
  readonly path: string;
  /** The file actually read, when it is not `path` (a cached optimised copy of it). */
  readonly loadedFrom?: string;
  readonly inputs: readonly ModelIo[];
  readonly outputs: readonly ModelIo[];
  /** Runs the graph. Only the requested outputs are computed when `outputNames` is given. */
  run(feeds: Readonly<Record<string, TensorData>>, outputNames?: readonly string[]): Promise<Record<string, TensorData>>;
  /** Frees the native session. */
  release(): Promise<void>;
}
