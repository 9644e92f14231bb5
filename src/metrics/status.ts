/** The Discord connection as the bot sees it (the bot maps discord.js's `Status` enum to its name). */
export interface DiscordStatus {
  /** True once the client is ready and every gateway shard is connected. */
  readonly ready: boolean;
  /** The gateway status name as discord.js spells it (`Ready`, `Connecting`, `Resuming`, `Idle`, ...). */
  readonly status: string;
}

/** The pipeline process. */
export interface PipelineStatus {
  /** True while a process is loaded, warm and answering. */
  readonly ready: boolean;
  /** How many times the process was replaced after a crash or a timeout. */
  readonly restarts: number;
  /** `loading` the models, `warming` up at the default size, `ready`, or `failed` to start. */
  readonly stage?: 'loading' | 'warming' | 'ready' | 'failed';
  /** Session creation time of the current process, once loaded (ms). */
  readonly loadMs?: number;
  /** Warm-up time of the current process, once warm (ms). */
  readonly warmUpMs?: number;
  /** The size it warms up at. */
  readonly warmUpSize?: { readonly width: number; readonly height: number };
}

/** The job queue. */
export interface QueueStatus {
  /** Jobs waiting. */
  readonly waiting: number;
  /** Jobs on the pipeline now. */
  readonly running: number;
}

/** Functions read at each health check or scrape, so the answer is always current. */
export interface StatusProviders {
  readonly discord: () => DiscordStatus;
  readonly pipeline: () => PipelineStatus;
  readonly queue: () => QueueStatus;
  /** True once a shutdown began. */
  readonly stopping?: () => boolean;
}

/** What the pipeline worker offers: `info` throws while no process is ready (starting or restarting). */
export interface PipelineWorkerLike {
  readonly info: unknown;
  readonly restarts: number;
  /** The process's stage and start-up times (see `PipelineWorker.status`). */
  readonly status?: {
    readonly stage: 'loading' | 'warming' | 'ready' | 'failed';
    readonly loadMs?: number;
    readonly warmUpMs?: number;
    readonly warmUpSize?: { readonly width: number; readonly height: number };
  };
}

/** The pipeline's status, from the pipeline process handle's public API. */
export function pipelineStatusOf(worker: PipelineWorkerLike): PipelineStatus {
  let ready: boolean;
  try {
    void worker.info;
    ready = true;
  } catch {
    ready = false;
  }
  const status = worker.status;
  if (!status) return { ready, restarts: worker.restarts };
  const { stage, loadMs, warmUpMs, warmUpSize } = status;
  return {
    ready,
    restarts: worker.restarts,
    stage,
    ...(loadMs !== undefined ? { loadMs: Math.round(loadMs) } : {}),
    ...(warmUpMs !== undefined ? { warmUpMs: Math.round(warmUpMs) } : {}),
    ...(warmUpSize ? { warmUpSize } : {}),
  };
}
