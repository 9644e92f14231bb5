import * as ort from 'onnxruntime-node';
import type { ModelIo, ModelSession, TensorData, TensorElementType } from '../pipeline/model-session.js';

/** Options for turning an ONNX file into an onnxruntime session. */
export interface OrtSessionOptions {
  /** Execution providers in order of preference, e.g. `[{ name: 'cuda', deviceId: 0 }, 'cpu']`. */
  readonly executionProviders: ort.InferenceSession.ExecutionProviderConfig[];
  /** Threads for one operator; 0 lets onnxruntime use one per physical core. */
  readonly intraOpThreads: number;
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** onnxruntime's memory-pattern planning (`enableMemPattern`); undefined keeps onnxruntime's default (on). */
  readonly enableMemPattern?: boolean;
  /** onnxruntime's CPU memory arena (`enableCpuMemArena`); undefined keeps onnxruntime's default (on). */
  readonly enableCpuMemArena?: boolean;
  /** When set, onnxruntime writes the optimised graph here (see `optimized-model-cache.ts`). */
  readonly optimizedModelFilePath?: string;
  /** onnxruntime session config entries by their full key (e.g. `session.intra_op.allow_spinning`), string values. */
  readonly configEntries?: Readonly<Record<string, string>>;
  /**
   * Least severity onnxruntime prints to stderr (0 verbose … 4 fatal); default 3 (errors). Its warnings are
   * expected noise here (e.g. that a saved optimised graph is specific to this CPU, which the cache key covers).
   */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** The onnxruntime-node version in use, e.g. `1.30.0`. */
export const onnxruntimeVersion: string = (ort.env.versions as { node?: string; common: string }).node ?? ort.env.versions.common;

/** Backends the installed onnxruntime-node binary reports (CUDA is listed only when its libraries exist). */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  return (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [];
}

/**
 * Creates an onnxruntime session for `modelPath` and wraps it as the pipeline's {@link ModelSession}, named
 * `reportedPath` (default `modelPath`) in messages: a graph loaded from the optimised-graph cache is still
 * called by the model file it came from.
 */
export async function createOrtSession(modelPath: string, options: OrtSessionOptions, reportedPath = modelPath): Promise<ModelSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: options.executionProviders,
    graphOptimizationLevel: options.graphOptimizationLevel,
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.enableMemPattern !== undefined ? { enableMemPattern: options.enableMemPattern } : {}),
    ...(options.enableCpuMemArena !== undefined ? { enableCpuMemArena: options.enableCpuMemArena } : {}),
    ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
    ...(options.configEntries ? { extra: { ...options.configEntries } } : {}),
  };
  const session = await ort.InferenceSession.create(modelPath, sessionOptions);
  return new OrtModelSession(reportedPath, session, modelPath);
}

class OrtModelSession implements ModelSession {
  readonly inputs: readonly ModelIo[];
  readonly outputs: readonly ModelIo[];

  constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
    readonly loadedFrom: string,
  ) {
    this.inputs = describeIo(session.inputNames, session.inputMetadata);
    this.outputs = describeIo(session.outputNames, session.outputMetadata);
  }

  async run(feeds: Readonly<Record<string, TensorData>>, outputNames?: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor(tensor.type, tensor.data as ort.Tensor.DataType, tensor.dims);
    }
    const results = outputNames ? await this.session.run(ortFeeds, outputNames as string[]) : await this.session.run(ortFeeds);
    const out: Record<string, TensorData> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = { type: tensor.type as TensorElementType, data: tensor.data as TensorData['data'], dims: tensor.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function describeIo(names: readonly string[], metadata: readonly ort.InferenceSession.ValueMetadata[] | undefined): ModelIo[] {
  return names.map((name, index) => {
    const meta = metadata?.[index] as
      | { name?: string; isTensor?: boolean; type?: string; shape?: readonly (number | string)[] }
      | undefined;
    const io: ModelIo = { name, type: meta?.type ?? 'unknown', ...(meta?.shape ? { shape: meta.shape } : {}) };
    return io;
  });
}
