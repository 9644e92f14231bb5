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
import { startObservability, type Observability } from './metrics/index.js';
import { readModelFolder } from './model/model-folder.js';
import { detectModelProfile, withModelDefaults } from './model/model-profile.js';
import { openStore } from './store/index.js';
import { startBackend, type PipelineBackend } from './backends/index.js';

/** A running bot. */
export interface RunningApp {
  readonly bot: DiscordBot;
  /** Where batches run: the local pipeline process(es) or remote workers. */
  readonly backend: PipelineBackend;
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
  let backend: PipelineBackend | undefined;
  let bot: DiscordBot | undefined;
  let observability: Observability | undefined;
  let retention: JobRetention | undefined;
  try {
    // The model's own defaults (its size, a few-step model's settings) are known from its folder before loading, so
    // the warm-up already runs at the size and guidance people will ask for.
    const defaults = withModelDefaults(config.guildDefaults, detectModelProfile(readModelFolder(modelDir)), config.modelDefaults);
    backend = await startBackend(config, modelDir, logger, defaults);
    // Jobs a previous process handed to remote workers go on there: taken up below, not interrupted.
    const inFlight = (await backend.inFlight?.()) ?? new Map<string, string>();
    const interrupted = store.markUnfinishedJobsInterrupted(new Set(inFlight.keys()));
    const description = backend.model;
    if (defaults !== config.guildDefaults) {
      const { steps, guidance, scheduler, width, height, maxPixels } = defaults;
      logger.info(
        { profile: description.profile, steps, guidance, scheduler, width, height, maxPixels },
        `using the model's own defaults (modelDefaults: auto): ${width}×${height}, ${steps} steps, guidance ${guidance}, ${scheduler}; maxPixels ${maxPixels}`,
      );
    }
    const jobs = new JobRunner({
      pipeline: backend,
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
      supportsImageToImage: description.supportsImageToImage,
      safetyChecker: description.safetyChecker,
    };
    const pipelines = backend;
    const discord = createBot({
      config,
      logger,
      store,
      jobs,
      model,
      defaults,
      commands: commandModules,
      pipelines: () => pipelines.pipelines(),
    });
    bot = discord;
    const pipeline = backend;
    observability = await startObservability({
      http: config.http,
      logger: logger.child({ module: 'http' }),
      jobs,
      worker: backend,
      status: {
        discord: () => gatewayStatusOf(discord.client),
        pipeline: () => pipeline.status(),
        queue: () => {
          const { waiting, running } = jobs.snapshot();
          return { waiting: waiting.length, running: running.length };
        },
      },
      interruptedJobs: interrupted.length,
    });
    await discord.connect(interrupted);
    for (const [jobId, batchId] of inFlight) {
      const record = store.getJob(jobId);
      if (record?.status === 'running' || record?.status === 'queued') jobs.resume(record, discord.resumedObserver(record), batchId);
    }
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
    return { bot: discord, backend: pipeline, stop };
  } catch (error) {
    retention?.stop();
    await bot?.destroy().catch(() => undefined);
    await observability?.close();
    await backend?.close();
    store.close();
    throw error;
  }
}
