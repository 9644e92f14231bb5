import { hostname } from 'node:os';
import { configForLog, type Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { createLogger } from '../logging/logger.js';
import { startHttpEndpoint, type HttpEndpoint } from '../metrics/index.js';
import { modelIdentity, redisPassword, RemoteWorker, WorkerMetrics, workerHealth } from '../scale/index.js';
import { PipelineWorker } from '../worker/pipeline-worker.js';
import { runtimeOptionsFrom } from '../worker/runtime-options.js';
import { parseCommandArgs, stringOption } from './args.js';
import type { CliIo } from './generate.js';
import { ensureModelDir } from './model-location.js';
import { readModelFolder } from '../model/model-folder.js';
import { detectModelProfile, withModelDefaults } from '../model/model-profile.js';

/** Usage line. */
export const workerUsage = 'latentcord worker [--model DIR]                 # takes jobs from Redis (LATENTCORD_REDIS_URL) for the bot';

/**
 * `worker`: serves one model to bots through Redis until SIGTERM or SIGINT, then stops gracefully (the
 * running job may finish within `shutdown.graceSeconds`, else it goes back to the queue) and exits 0.
 */
export async function runWorkerCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { values } = parseCommandArgs(argv, { model: { type: 'string' } }, workerUsage);
  const redisUrl = config.scale.redisUrl;
  if (!redisUrl)
    throw new UserError(
      'config.noRedis',
      'A worker takes its jobs from Redis: set LATENTCORD_REDIS_URL (`scale.redisUrl`) to the Redis the bot uses, e.g. redis://:password@redis-host:6379.',
    );
  // Workers talk to Redis only; the token stays with the bot.
  if (config.discord.token)
    throw new UserError(
      'config.tokenOnWorker',
      'A worker must not hold the Discord token: remove DISCORD_TOKEN (or `discord.token`) from its environment and configuration. Only the bot talks to Discord.',
    );
  const logger = createLogger({ level: config.logging.level, secrets: [redisPassword(redisUrl)], pretty: config.logging.pretty });
  // Listen from the start: a stop asked for while the model loads ends the worker as gracefully as later.
  let signalled!: (signal: NodeJS.Signals) => void;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    signalled(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const name = config.scale.workerName ?? `${hostname()}-${process.pid}`;
  logger.info({ config: configForLog(config), worker: name }, 'starting latentcord worker');
  const modelDir = await ensureModelDir(config, stringOption(values, 'model'), io.cwd, io.stderr);
  const identity = await modelIdentity(modelDir);
  // Warmed up at the size the bot's users get by default (an SDXL model's own 1024×1024, for example).
  const { width, height } = withModelDefaults(config.guildDefaults, detectModelProfile(readModelFolder(modelDir)), config.modelDefaults);
  const startedAt = performance.now();
  const pipeline = await PipelineWorker.start({
    modelDir,
    runtime: runtimeOptionsFrom(config),
    warmUp: config.runtime.warmUp ? { width, height, steps: 1 } : undefined,
    jobTimeoutMs: config.queue.jobTimeoutSeconds * 1000,
  });
  const pipelineLog = logger.child({ module: 'pipeline' });
  pipeline.on('log', (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) =>
    pipelineLog[level](details ?? {}, message),
  );
  pipeline.on('restart', (reason: string) =>
    pipelineLog.warn({ reason, restarts: pipeline.restarts, pipelinePid: pipeline.pid }, 'pipeline process restarted'),
  );
  logger.info(
    {
      worker: name,
      pipelinePid: pipeline.pid,
      model: identity.key,
      device: pipeline.info.device,
      loadMs: Math.round(pipeline.info.loadMs),
      readyMs: Math.round(performance.now() - startedAt),
    },
    'pipeline ready',
  );

  let remote: RemoteWorker | undefined;
  let endpoint: HttpEndpoint | undefined;
  let stopping = false;
  try {
    const metrics = new WorkerMetrics({
      busy: () => remote?.busy ?? false,
      redisConnected: () => remote?.connected ?? false,
      pipelineReady: () => isReady(pipeline),
      pipelineRestarts: () => pipeline.restarts,
    });
    if (config.http.enabled) {
      endpoint = await startHttpEndpoint({
        host: config.http.host,
        port: config.http.port,
        health: () => workerHealth({ name, remote, pipeline, stopping }),
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
        logger,
      });
      logger.info({ address: endpoint.url }, 'http endpoint listening');
    }
    remote = await RemoteWorker.start({
      redisUrl,
      prefix: config.scale.prefix,
      name,
      identity,
      pipeline,
      deviceLabel: config.device === 'cuda' ? `cuda:${config.deviceId}` : 'cpu',
      heartbeatSeconds: config.scale.heartbeatSeconds,
      lockSeconds: config.scale.lockSeconds,
      stalledCheckSeconds: config.scale.stalledCheckSeconds,
      resultTtlSeconds: config.scale.resultTtlSeconds,
      logger,
    });
    remote.on('batchEnd', (end) => metrics.recordBatch(end));
    const signal = await stopSignal;
    stopping = true;
    logger.info({ reason: signal }, 'stopping');
    await remote.stop(config.shutdown.graceSeconds * 1000).catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await remote?.stop(0);
    await pipeline.close();
    await endpoint?.close();
  }
  logger.info('stopped');
  logger.flush();
  // Everything is closed; should a library still hold the event loop open, do not hang a deployment.
  setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
}

function isReady(pipeline: PipelineWorker): boolean {
  try {
    void pipeline.info;
    return true;
  } catch {
    return false;
  }
}
