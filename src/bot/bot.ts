import { Client, Events, GatewayIntentBits, Partials, Status } from 'discord.js';
import { commandModules } from '../../commands/index.js';
import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { JobRunner } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import { pipelineStatusOf, startObservability, type DiscordStatus, type Observability } from '../metrics/index.js';
import { withModelDefaults } from '../model/model-profile.js';
import { openStore, type JobRecord } from '../store/index.js';
import { PipelineWorker } from '../worker/pipeline-worker.js';
import { runtimeOptionsFrom } from '../worker/runtime-options.js';
import type { BotContext } from './context.js';
import { deployCommands } from './deploy-commands.js';
import { createInteractionRouter } from './interaction-router.js';
import { handleMention } from './mentions.js';
import { failedText, shownPrompt } from './messages.js';

/** A running bot. */
export interface RunningBot {
  readonly context: BotContext;
  readonly worker: PipelineWorker;
  /**
   * Stops gracefully: no new jobs, waiting users are told, the running job may finish within the grace
   * time (then it is cancelled), results are delivered, the database is closed.
   */
  stop(reason?: string): Promise<void>;
}

/** Options beyond the configuration. */
export interface StartBotOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** The model folder to load (already resolved/downloaded). */
  readonly modelDir: string;
}

/**
 * Starts everything: database, pipeline process (with warm-up), job runner, Discord client. Jobs that were
 * waiting or running when the previous process died are marked interrupted and their requesters told.
 */
export async function startBot({ config, logger, modelDir }: StartBotOptions): Promise<RunningBot> {
  const token = config.discord.token;
  if (!token) throw new UserError('config.noToken', 'No bot token: set DISCORD_TOKEN (or `discord.token` in the config file).');
  const store = openStore(config.dataDir, { logger: logger.child({ module: 'store' }) });
  const interrupted = store.markUnfinishedJobsInterrupted();
  let worker: PipelineWorker | undefined;
  let client: Client | undefined;
  let observability: Observability | undefined;
  try {
    const startedAt = performance.now();
    worker = await PipelineWorker.start({
      modelDir,
      runtime: runtimeOptionsFrom(config),
      warmUp: config.runtime.warmUp ? warmUpSize(config) : undefined,
      jobTimeoutMs: config.queue.jobTimeoutSeconds * 1000,
    });
    const workerLog = logger.child({ module: 'pipeline' });
    worker.on('log', (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) =>
      workerLog[level](details ?? {}, message),
    );
    worker.on('restart', (reason: string) =>
      workerLog.warn({ reason, restarts: worker!.restarts, pipelinePid: worker!.pid }, 'pipeline process restarted'),
    );
    const info = worker.info;
    logger.info(
      {
        pipelinePid: worker.pid,
        model: info.description.name,
        device: info.device,
        loadMs: Math.round(info.loadMs),
        warmUpMs: info.warmUpMs && Math.round(info.warmUpMs),
        readyMs: Math.round(performance.now() - startedAt),
      },
      'pipeline ready',
    );

    const jobs = new JobRunner({
      worker,
      store,
      logger: logger.child({ module: 'jobs' }),
      maxQueueLength: config.queue.maxLength,
      maxBatchImages: config.queue.maxBatchImages,
      rng: config.rng,
      modelName: info.description.name,
    });

    const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
    if (config.discord.messageContentIntent) intents.push(GatewayIntentBits.MessageContent);
    client = new Client({ intents, partials: [Partials.Channel], rest: { api: config.discord.apiUrl } });
    const context: BotContext = {
      client,
      config,
      store,
      logger,
      jobs,
      model: {
        name: info.description.name,
        sizeMultiple: info.description.sizeMultiple,
        supportsImageToImage: info.description.vaeEncoder !== 'absent',
      },
      defaults: withModelDefaults(config.guildDefaults, info.description.profile, config.modelDefaults),
    };
    if (context.defaults !== config.guildDefaults) {
      const { steps, guidance, scheduler } = context.defaults;
      logger.info(
        { profile: info.description.profile, steps, guidance, scheduler },
        'few-step model: using its recommended defaults (modelDefaults: auto)',
      );
    }
    const discordClient = client;
    const pipelineWorker = worker;
    observability = await startObservability({
      http: config.http,
      logger: logger.child({ module: 'http' }),
      jobs,
      worker,
      status: {
        discord: () => gatewayStatusOf(discordClient),
        pipeline: () => pipelineStatusOf(pipelineWorker),
        queue: () => ({ waiting: jobs.queue.queued.length, running: jobs.queue.running.length }),
      },
      interruptedJobs: interrupted.length,
    });
    const route = createInteractionRouter(context, commandModules);
    client.on(Events.InteractionCreate, (interaction) => void route(interaction));
    client.on(Events.MessageCreate, (message) => {
      handleMention(message, context).catch((error) => logger.error({ err: error, message: message.id }, 'mention handling failed'));
    });
    client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
    client.on(Events.Warn, (message) => logger.warn(message));

    if (config.discord.deployCommandsOnStart) {
      await deployCommands({
        token,
        apiUrl: config.discord.apiUrl,
        store,
        commands: commandModules.map((c) => c.data),
        scope: { kind: 'global' },
        logger: logger.child({ module: 'deploy' }),
      });
    }
    const ready = new Promise<void>((resolve) => client!.once(Events.ClientReady, () => resolve()));
    await client.login(token);
    await ready;
    logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');
    void reportInterrupted(context, interrupted);

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'shutdown') =>
      (stopping ??= (async () => {
        logger.info({ reason }, 'stopping');
        observability?.markStopping();
        const closing = new UserError('queue.closed', 'The bot is restarting; this job was not started. Please ask again in a minute.');
        const dropped = await jobs.closeQueue(closing);
        if (dropped.length > 0) logger.info({ jobs: dropped.map((j) => j.id) }, 'waiting jobs cancelled for shutdown');
        const grace = config.shutdown.graceSeconds * 1000;
        const finished = await Promise.race([
          jobs.idle().then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), grace).unref()),
        ]);
        if (!finished) {
          for (const running of jobs.queue.running) jobs.cancel(running.id);
          await Promise.race([jobs.idle(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        }
        await worker!.close();
        await client!.destroy();
        await observability?.close();
        store.close();
        logger.info('stopped');
      })());
    return { context, worker, stop };
  } catch (error) {
    await client?.destroy().catch(() => undefined);
    await observability?.close();
    await worker?.close();
    store.close();
    throw error;
  }
}

/** The default picture size at warm-up, so the first user's run is already warm. */
function warmUpSize(config: Config): { width: number; height: number; steps: number } {
  return { width: config.guildDefaults.width, height: config.guildDefaults.height, steps: 1 };
}

/**
 * The Discord side of health and metrics. discord.js keeps `client.ws.status` at `Ready` once the client was
 * ready, so a reconnecting or resuming shard is looked for too.
 */
export function gatewayStatusOf(client: Client): DiscordStatus {
  let status = client.ws.status;
  for (const shard of client.ws.shards.values()) if (shard.status !== Status.Ready) status = shard.status;
  return { ready: client.isReady() && status === Status.Ready, status: Status[status] ?? String(status) };
}

/**
 * Tells the requesters of jobs that a crash or restart interrupted, as far as their channels allow: the
 * job's frozen status message says so (and loses its Cancel button), and a notice mentions the requester.
 */
async function reportInterrupted(context: BotContext, jobs: readonly JobRecord[]): Promise<void> {
  if (jobs.length === 0) return;
  context.logger.warn({ jobs: jobs.map((j) => j.id) }, 'jobs interrupted by the previous shutdown');
  for (const job of jobs) {
    try {
      const channel = await context.client.channels.fetch(job.channelId);
      if (!channel?.isSendable()) continue;
      if (job.statusMessageId !== null) {
        await channel.messages
          .edit(job.statusMessageId, {
            content: failedText(job, 'the bot restarted before this picture was done. Please ask again.'),
            components: [],
          })
          .catch((error: unknown) =>
            context.logger.warn({ err: error, job: job.id }, 'could not mark the status message of an interrupted job'),
          );
      }
      await channel.send({
        content: `<@${job.userId}> The bot restarted before your picture **${shownPrompt(job.prompt, 100)}** was done. Please ask again.`,
        allowedMentions: { users: [job.userId], parse: [] },
      });
    } catch (error) {
      context.logger.warn({ err: error, job: job.id }, 'could not report an interrupted job');
    }
  }
}
