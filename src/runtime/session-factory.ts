import { UserError } from '../errors.js';
import type { ModelSession, SessionUsage } from '../pipeline/model-session.js';
import { join } from 'node:path';
import { createOrtSession, onnxruntimeVersion, type OrtSessionOptions } from './onnx-session.js';
import { describeSessionFailure, isProviderFailure } from './session-errors.js';
import { cacheEntryFor, cachedModelFile, cachedWeightsFile, prepareStaging, publishEntry } from './optimized-model-cache.js';

/** Where and how the models run. */
export interface RuntimeOptions {
  /** `cuda` uses onnxruntime's CUDA execution provider (NVIDIA GPUs), `cpu` the CPU provider. */
  readonly device: 'cpu' | 'cuda';
  /** CUDA device ordinal. */
  readonly deviceId: number;
  /** What to do when CUDA cannot be loaded: run on the CPU instead, or refuse to start. */
  readonly onDeviceUnavailable: 'fallback' | 'fail';
  /** Threads per operator; 0 = onnxruntime's default (one per physical core). */
  readonly intraOpThreads: number;
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Folder for onnxruntime's optimised graphs. Optimising a full-size UNet takes most of a start-up; a
   * cached graph loads without that work. Unset: no cache.
   */
  readonly optimizedModelCacheDir?: string | undefined;
  /** Experiments and tuning: session settings by onnxruntime's names, over the ones this factory chooses. */
  readonly sessionTuning?: SessionTuning | undefined;
  /** Receives notable events (device fallback, ...). */
  readonly log?: (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) => void;
}

/** Session settings that trade memory for speed; see {@link RuntimeOptions.sessionTuning}. */
export interface SessionTuning {
  readonly enableMemPattern?: boolean;
  readonly enableCpuMemArena?: boolean;
  /** Session config entries by their full key (e.g. `session.intra_op.allow_spinning`). */
  readonly configEntries?: Readonly<Record<string, string>>;
}

/**
 * The session settings this factory chooses. On the CPU, onnxruntime's memory patterns (on by default) plan one
 * block for all of a run's tensors from the first runs at each shape: for SD 1.5's UNet at 512² that block
 * raised the pipeline's peak from 8284 to 12243 MiB and made the first two runs at a size 2–2.5× a warm one, for
 * no faster warm steps (measured with `npm run bench -- --sections memory`, docs/real-size.md). The CPU arena
 * stays on: without it every run page-faults its working memory afresh (UNet steps took twice the CPU time).
 * On CUDA onnxruntime's defaults stay (its documented fast path; not measurable here).
 */
function defaultTuning(executionProviders: OrtSessionOptions['executionProviders'], usage: SessionUsage): SessionTuning {
  const cpu = executionProviders.every((provider) => (typeof provider === 'string' ? provider : provider.name) === 'cpu');
  if (!cpu) return {};
  // An occasional graph's arena would hold its largest run's memory for good, under the UNet's and the decoder's.
  return usage === 'occasional' ? { enableMemPattern: false, enableCpuMemArena: false } : { enableMemPattern: false };
}

/** Default runtime options: CPU, onnxruntime's default threads, full graph optimisation. */
export const defaultRuntimeOptions: RuntimeOptions = {
  device: 'cpu',
  deviceId: 0,
  onDeviceUnavailable: 'fallback',
  intraOpThreads: 0,
  graphOptimizationLevel: 'all',
};

const cudaAdvice =
  'CUDA needs an NVIDIA driver, the CUDA 12 and cuDNN 9 runtime libraries, and onnxruntime-node installed with its CUDA provider ' +
  "(`npm run setup:cuda`, which runs its install script with ONNXRUNTIME_NODE_INSTALL=cuda12; the Dockerfile's `cuda` target does this).";

/**
 * Creates sessions on the configured device. The first session decides: when CUDA was asked for and cannot
 * load, the factory either switches to the CPU for this and every later session (and says why), or throws
 * a UserError that says how to fix it.
 */
export class SessionFactory {
  private currentDevice: 'cpu' | 'cuda';
  private reason: string | undefined;

  constructor(private readonly options: RuntimeOptions = defaultRuntimeOptions) {
    this.currentDevice = options.device;
  }

  /** The device sessions are created on now (`cpu` after a fallback). */
  get device(): 'cpu' | 'cuda' {
    return this.currentDevice;
  }

  /** Why CUDA is not used although it was asked for. */
  get fallbackReason(): string | undefined {
    return this.reason;
  }

  /** Loads one ONNX file. */
  async load(path: string, usage: SessionUsage = 'repeated'): Promise<ModelSession> {
    if (this.currentDevice === 'cuda') {
      try {
        // The attempt's own error lines would only repeat what the warning below says.
        return await this.create(path, [{ name: 'cuda', deviceId: this.options.deviceId }], usage, 4);
      } catch (error) {
        if (error instanceof UserError) throw error;
        const reason = (error as Error).message.split('\n')[0]!.slice(0, 300);
        if (this.options.onDeviceUnavailable === 'fail') {
          throw new UserError('runtime.cudaUnavailable', `CUDA device ${this.options.deviceId} is not usable: ${reason}. ${cudaAdvice}`, {
            cause: error,
          });
        }
        this.options.log?.('warn', `CUDA is not usable, running on the CPU instead: ${reason}. ${cudaAdvice}`, { reason });
        this.currentDevice = 'cpu';
        this.reason = reason;
      }
    }
    return this.create(path, ['cpu'], usage);
  }

  private async create(
    path: string,
    executionProviders: OrtSessionOptions['executionProviders'],
    usage: SessionUsage,
    logSeverityLevel?: 4,
  ): Promise<ModelSession> {
    const tuning = { ...defaultTuning(executionProviders, usage), ...this.options.sessionTuning };
    const base: OrtSessionOptions = {
      executionProviders,
      intraOpThreads: this.options.intraOpThreads,
      graphOptimizationLevel: this.options.graphOptimizationLevel,
      ...(logSeverityLevel !== undefined ? { logSeverityLevel } : {}),
      ...(tuning.enableMemPattern !== undefined ? { enableMemPattern: tuning.enableMemPattern } : {}),
      ...(tuning.enableCpuMemArena !== undefined ? { enableCpuMemArena: tuning.enableCpuMemArena } : {}),
      ...(tuning.configEntries ? { configEntries: tuning.configEntries } : {}),
    };
    const cacheDir = this.options.optimizedModelCacheDir;
    if (!cacheDir || this.options.graphOptimizationLevel === 'disabled') return this.createChecked(path, base);
    const provider = this.currentDevice === 'cuda' ? `cuda:${this.options.deviceId}` : 'cpu';
    const entry = cacheEntryFor(cacheDir, path, {
      onnxruntimeVersion,
      provider,
      graphOptimizationLevel: this.options.graphOptimizationLevel,
    });
    if (entry.hit) {
      try {
        // Already optimised: running the optimisers again would only cost time.
        return await createOrtSession(entry.modelPath, { ...base, graphOptimizationLevel: 'disabled' }, path);
      } catch (error) {
        this.options.log?.(
          'warn',
          `cached optimised graph for ${path} is unusable; rebuilding it: ${(error as Error).message.slice(0, 200)}`,
        );
      }
    }
    prepareStaging(entry);
    const session = await this.createChecked(path, {
      ...base,
      optimizedModelFilePath: join(entry.stagingDir, cachedModelFile),
      configEntries: {
        ...base.configEntries,
        'session.optimized_model_external_initializers_file_name': cachedWeightsFile,
        'session.optimized_model_external_initializers_min_size_in_bytes': '1024',
      },
    });
    try {
      publishEntry(entry, path);
      this.options.log?.('info', `saved the optimised graph of ${path} for faster starts`, { cache: entry.entryDir });
    } catch (error) {
      this.options.log?.('warn', `could not cache the optimised graph of ${path}: ${(error as Error).message}`);
    }
    return session;
  }

  private async createChecked(path: string, options: OrtSessionOptions): Promise<ModelSession> {
    try {
      return await createOrtSession(path, options);
    } catch (error) {
      if (isProviderFailure(error)) throw error;
      throw describeSessionFailure(path, options, error);
    }
  }
}
