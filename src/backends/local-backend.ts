import { EventEmitter } from 'node:events';
import { pipelineStatusOf } from '../metrics/status.js';
import type { Config } from '../config/index.js';
import type { PipelineBatchResult } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import type { BatchParameters, GenerationJob } from '../pipeline/stable-diffusion.js';
import {
  PipelineWorker,
  type PipelineProcessStatus,
  type PipelineWorkerOptions,
  type RunOptions,
  type WorkerInfo,
} from '../worker/pipeline-worker.js';
import { engineOptionsFrom, runtimeOptionsFrom } from '../worker/runtime-options.js';
import { LocalPipelinePool } from './local-pool.js';
import type { BackendStatus, ModelSummary, PipelineBackend, PipelineView } from './pipeline-backend.js';

/**
 * The embedded backend: the pipeline in a child process of the bot (the default), or one such process per
 * device of `deviceIds`.
 */
export class LocalBackend extends EventEmitter implements PipelineBackend {
  readonly kind = 'local';
  readonly model: ModelSummary;

  /** `loaded`: what the process(es) loaded (a single process may still be warming up, when `info` still throws). */
  constructor(
    readonly processes: PipelineWorker | LocalPipelinePool,
    loaded: WorkerInfo = processes.info,
  ) {
    super();
    const { description } = loaded;
    this.model = {
      name: description.name,
      sizeMultiple: description.sizeMultiple,
      supportsImageToImage: description.vaeEncoder !== 'absent',
      profile: description.profile,
      safetyChecker: loaded.safetyChecker !== null,
      finalDecoder: description.finalDecoder,
      ...(description.timestepCondDim !== undefined ? { timestepCondDim: description.timestepCondDim } : {}),
    };
    processes.on('restart', (reason: string, deviceId?: number) => this.emit('restart', reason, deviceId));
  }

  /** One batch per process at once. */
  get capacity(): number {
    return this.processes instanceof LocalPipelinePool ? this.processes.capacity : 1;
  }

  /** What the (first) process loaded; throws while none is ready. */
  get info(): WorkerInfo {
    return this.processes.info;
  }

  get restarts(): number {
    return this.processes.restarts;
  }

  run(jobs: readonly GenerationJob[], parameters: BatchParameters, options?: RunOptions): Promise<PipelineBatchResult> {
    return this.processes.run(jobs, parameters, options);
  }

  status(): BackendStatus {
    return pipelineStatusOf(this.processes);
  }

  pipelines(): PipelineView[] {
    const members =
      this.processes instanceof LocalPipelinePool
        ? this.processes.members.map((member) => ({ worker: member.worker, busy: member.busy, deviceId: member.deviceId }))
        : [{ worker: this.processes, busy: undefined, deviceId: undefined }];
    return members.map(({ worker, busy, deviceId }, index) => {
      let device = 'starting';
      try {
        device = worker.info.device === 'cuda' ? `cuda:${deviceId ?? 0}` : 'cpu';
      } catch {
        // restarting
      }
      return {
        name: deviceId === undefined ? 'local' : `local ${index + 1}`,
        model: this.model.name,
        device,
        busy: busy ?? false,
      };
    });
  }

  close(): Promise<void> {
    return this.processes.close();
  }
}

/** What the warm-up run uses: the server default size and guidance, so the first user's run is already warm. */
export interface WarmUpSettings {
  readonly width: number;
  readonly height: number;
  readonly guidance: number;
}

/**
 * Starts the local pipeline process(es) and resolves once the models are loaded. A single process warms up at
 * the default size while the bot connects (jobs wait for it) and logs `model loaded`, `warming up` and
 * `pipeline ready`, after every restart too; one process per device (`deviceIds`) are all warm when this resolves.
 */
export async function startLocalBackend(config: Config, modelDir: string, logger: Logger, warmUp: WarmUpSettings): Promise<LocalBackend> {
  let startedAt = performance.now();
  const { width, height, guidance } = warmUp;
  const options: PipelineWorkerOptions = {
    modelDir,
    runtime: runtimeOptionsFrom(config),
    engine: engineOptionsFrom(config),
    warmUp: config.runtime.warmUp ? { width, height, steps: 1, guidanceScale: guidance } : undefined,
    jobTimeoutMs: config.queue.jobTimeoutSeconds * 1000,
  };
  const workerLog = logger.child({ module: 'pipeline' });
  const routeLogs = (processes: PipelineWorker | LocalPipelinePool) =>
    processes.on('log', (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) =>
      workerLog[level](details ?? {}, message),
    );
  if (config.deviceIds) {
    const pool = await LocalPipelinePool.start({ ...options, deviceIds: config.deviceIds });
    routeLogs(pool);
    pool.on('restart', (reason: string, deviceId?: number) =>
      workerLog.warn(
        { reason, restarts: pool.restarts, deviceId, pipelinePid: pool.members.find((m) => m.deviceId === deviceId)?.worker.pid },
        'pipeline process restarted',
      ),
    );
    const info = pool.info;
    workerLog.info(
      {
        pipelinePid: pool.pids[0],
        pipelinePids: pool.pids,
        deviceIds: config.deviceIds,
        model: info.description.name,
        device: info.device,
        loadMs: Math.round(info.loadMs),
        warmUpMs: info.warmUpMs && Math.round(info.warmUpMs),
        readyMs: Math.round(performance.now() - startedAt),
      },
      'pipeline ready',
    );
    logSafetyChecker(logger, info);
    return new LocalBackend(pool);
  }
  const observe = (worker: PipelineWorker) => {
    routeLogs(worker);
    worker.on('restart', (reason: string) =>
      workerLog.warn({ reason, restarts: worker.restarts, pipelinePid: worker.pid }, 'pipeline process restarted'),
    );
    worker.on('stage', (status: PipelineProcessStatus) => {
      const times = {
        pipelinePid: worker.pid,
        ...(status.loadMs !== undefined ? { loadMs: Math.round(status.loadMs) } : {}),
        sinceStartMs: Math.round(performance.now() - startedAt),
      };
      if (status.stage === 'loading') startedAt = performance.now();
      else if (status.stage === 'warming') workerLog.info(times, `pipeline loaded; warming up at ${width}x${height}`);
      else if (status.stage === 'ready') {
        const warm = status.warmUpSize
          ? { warmUpMs: Math.round(status.warmUpMs ?? 0), warmSize: `${status.warmUpSize.width}x${status.warmUpSize.height}` }
          : {};
        workerLog.info({ ...times, ...warm }, 'pipeline ready');
      }
    });
  };
  const worker = await PipelineWorker.launch(options, observe);
  const loaded = await worker.whenLoaded();
  workerLog.info({ pipelinePid: worker.pid, model: loaded.description.name, device: loaded.device }, 'model loaded');
  logSafetyChecker(logger, loaded);
  return new LocalBackend(worker, loaded);
}

/** Says at start whether pictures are checked for NSFW content, and why not when the folder's checker is unusable. */
export function logSafetyChecker(
  logger: Logger,
  { safetyChecker, safetyCheckerProblem }: Pick<WorkerInfo, 'safetyChecker' | 'safetyCheckerProblem'>,
): void {
  if (safetyChecker) {
    logger.info(
      { safetyChecker: safetyChecker.modelFile, floatType: safetyChecker.floatType },
      'safety checker loaded: every picture is checked, flagged ones follow the nsfw settings',
    );
  } else {
    logger.warn(
      { ...(safetyCheckerProblem ? { problem: safetyCheckerProblem } : {}) },
      'no safety checker in the model folder (safety_checker/model.onnx + feature_extractor/preprocessor_config.json): ' +
        'pictures are not checked for NSFW content and the nsfw settings have no effect',
    );
  }
}
