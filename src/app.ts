/**
 * The composition root: the one place the bot's parts are built and wired together — configuration,
 * database, pipeline process, job runner, metrics and the Discord client with its command list — and
 * taken apart again on shutdown.
 */
import { commandModules } from '../commands/index.js';
import { createBot, gatewayStatusOf, type DiscordBot } from './bot/bot.js';
import type { Config } from './config/index.js';
import { noToken, queueClosed } from './errors.js';
import { startJobRetention, type JobRetention } from './jobs/job-retention.js';
import { JobRunner } from './jobs/job-runner.js';
import { promptChunkCounter } from './jobs/pipeline-batch.js';
import type { Logger } from './logging/logger.js';
import { pipelineStatusOf, startObservability, type Observability } from './metrics/index.js';
import { readModelFolder } from './model/model-folder.js';
import { detectModelProfile, withModelDefaults } from './model/model-profile.js';
import type { EffectiveSettings } from './settings/index.js';
import { openStore } from './store/index.js';
import { PipelineWorker, type PipelineProcessStatus } from './worker/pipeline-worker.js';
import { engineOptionsFrom, runtimeOptionsFrom } from './worker/runtime-options.js';

/** A running bot. */
export interface RunningApp {
  readonly bot: DiscordBot;
  readonly worker: PipelineWorker;
  /**
   * Stops gracefully: no new jobs, waiting users are told, the running job may finish within the grace
   * time (then it is cancelled), results are delivered, the database is closed.
   */
  stop(reason?: string): Promise<void>;
}

/** What {@link startApp} needs beyond the configuration. */
export interface StartAppOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** The model folder to load (already resolved/downloaded). */
  readonly modelDir: string;
}

/**
 * Starts everything: database, pipeline process (with warm-up), job runner, metrics, Discord client. Jobs
 * that were waiting or running when the previous process died are marked interrupted and their requesters
 * told once connected.
 */
export async function startApp({ config, logger, modelDir }: StartAppOptions): Promise<RunningApp> {
  if (!config.discord.token) throw noToken();
  const store = openStore(config.dataDir, { logger: logger.child({ module: 'store' }) });
  const interrupted = store.markUnfinishedJobsInterrupted();
  let worker: PipelineWorker | undefined;
  let bot: DiscordBot | undefined;
  let observability: Observability | undefined;
  let retention: JobRetention | undefined;
  try {
    // The model's own defaults (its size, a few-step model's settings) are known from its folder before loading, so
    // the warm-up already runs at the size and guidance people will ask for.
    const defaults = withModelDefaults(config.guildDefaults, detectModelProfile(readModelFolder(modelDir)), config.modelDefaults);
    worker = await startPipelineProcess(config, modelDir, logger, defaults);
    const { description, safetyChecker } = await worker.whenLoaded();
    if (defaults !== config.guildDefaults) {
      const { steps, guidance, scheduler, width, height, maxPixels } = defaults;
      logger.info(
        { profile: description.profile, steps, guidance, scheduler, width, height, maxPixels },
        `using the model's own defaults (modelDefaults: auto): ${width}×${height}, ${steps} steps, guidance ${guidance}, ${scheduler}; maxPixels ${maxPixels}`,
      );
    }
    const jobs = new JobRunner({
      pipeline: worker,
      store,
      logger: logger.child({ module: 'jobs' }),
      maxQueueLength: config.queue.maxLength,
      maxBatchImages: config.queue.maxBatchImages,
      rng: config.rng,
      modelName: description.name,
      promptChunks: promptChunkCounter(modelDir, description),
      ...(description.finalDecoder === 'tiny' ? { vaeDecoder: 'TAESD' } : {}),
    });
    const model = {
      name: description.name,
      sizeMultiple: description.sizeMultiple,
      supportsImageToImage: description.vaeEncoder !== 'absent',
      safetyChecker: safetyChecker !== null,
    };
    const discord = createBot({ config, logger, store, jobs, model, defaults, commands: commandModules });
    bot = discord;
    const pipeline = worker;
    observability = await startObservability({
      http: config.http,
      logger: logger.child({ module: 'http' }),
      jobs,
      worker,
      status: {
        discord: () => gatewayStatusOf(discord.client),
        pipeline: () => pipelineStatusOf(pipeline),
        queue: () => {
          const { waiting, running } = jobs.snapshot();
          return { waiting: waiting.length, running: running.length };
        },
      },
      interruptedJobs: interrupted.length,
    });
    await discord.connect(interrupted);
    retention = startJobRetention({
      store,
      logger: logger.child({ module: 'retention' }),
      retentionDays: config.jobs.retentionDays,
    });
    const pruning = retention;

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'shutdown') =>
      (stopping ??= (async () => {
        logger.info({ reason }, 'stopping');
        observability?.markStopping();
        const dropped = await jobs.closeQueue(queueClosed('dropped'));
        if (dropped.length > 0) logger.info({ jobs: dropped.map((j) => j.id) }, 'waiting jobs cancelled for shutdown');
        const grace = config.shutdown.graceSeconds * 1000;
        const finished = await Promise.race([
          jobs.idle().then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), grace).unref()),
        ]);
        if (!finished) {
          for (const running of jobs.snapshot().running) jobs.cancel(running.id);
          await Promise.race([jobs.idle(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        }
        pruning.stop();
        await pipeline.close();
        await discord.destroy();
        await observability?.close();
        store.close();
        logger.info('stopped');
      })());
    return { bot: discord, worker: pipeline, stop };
  } catch (error) {
    retention?.stop();
    await bot?.destroy().catch(() => undefined);
    await observability?.close();
    await worker?.close();
    store.close();
    throw error;
  }
}

/**
 * Starts the pipeline process and resolves once its models are loaded; the warm-up at the default size (when
 * configured) goes on while the bot connects, and jobs wait for it. Routes the process's logs and says when
 * it is loaded and when it is ready (warm), after every restart too.
 */
async function startPipelineProcess(
  config: Config,
  modelDir: string,
  logger: Logger,
  defaults: EffectiveSettings,
): Promise<PipelineWorker> {
  let startedAt = performance.now();
  const { width, height, guidance } = defaults;
  const workerLog = logger.child({ module: 'pipeline' });
  const observe = (worker: PipelineWorker) => {
    worker.on('log', (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) =>
      workerLog[level](details ?? {}, message),
    );
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
  const worker = await PipelineWorker.launch(
    {
      modelDir,
      runtime: runtimeOptionsFrom(config),
      engine: engineOptionsFrom(config),
      // The default size and guidance, so the first user's run is already warm.
      warmUp: config.runtime.warmUp ? { width, height, steps: 1, guidanceScale: guidance } : undefined,
      jobTimeoutMs: config.queue.jobTimeoutSeconds * 1000,
    },
    observe,
  );
  const { description, device, safetyChecker, safetyCheckerProblem } = await worker.whenLoaded();
  workerLog.info({ pipelinePid: worker.pid, model: description.name, device }, 'model loaded');
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
  return worker;
}
