import { Client, Events, GatewayIntentBits, Partials, Status } from 'discord.js';
import type { PipelineView } from '../backends/pipeline-backend.js';
import type { Config } from '../config/index.js';
import type { JobObserver } from '../jobs/job-observer.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import type { DiscordStatus } from '../metrics/index.js';
import type { EffectiveSettings } from '../settings/index.js';
import type { JobRecord, Store } from '../store/index.js';
import type { CommandModule } from './command-module.js';
import type { BotContext, ModelCapabilities } from './context.js';
import { deployCommands } from './deploy-commands.js';
import { createInteractionRouter } from './interaction-router.js';
import { reportInterruptedJobs } from './interrupted-jobs.js';
import { handleMention } from './mentions.js';
import { RequestReservations, WorkSlots } from './request-reservations.js';
import { ResumedJobObserver } from './resumed-job-observer.js';

/** What the Discord side is built from; the composition root (`src/app.ts`) supplies it. */
export interface BotOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly jobs: JobRunner;
  readonly model: ModelCapabilities;
  /** The defaults in force before any server override (the configuration's, adjusted to the model). */
  readonly defaults: EffectiveSettings;
  /** Every command the bot registers and handles. */
  readonly commands: readonly CommandModule[];
  /** The pipelines jobs run on (local processes or remote workers), for admins' `/queue`. */
  readonly pipelines?: () => readonly PipelineView[];
}

/** The Discord client with every handler attached, not yet connected. */
export interface DiscordBot {
  readonly client: Client;
  readonly context: BotContext;
  /**
   * Registers the commands when they changed (`discord.deployCommandsOnStart`), connects and waits until
   * Discord says ready, then tells the requesters of `interrupted` jobs in the background.
   */
  connect(interrupted: readonly JobRecord[]): Promise<void>;
  /** Disconnects. */
  destroy(): Promise<void>;
  /** The observer of a job taken up again after a restart (it was still with remote workers). */
  resumedObserver(record: JobRecord): JobObserver;
}

/**
 * Builds the Discord client and routes its events: interactions to the commands, buttons and forms,
 * mentions to the mention handler. Nothing talks to Discord before {@link DiscordBot.connect}.
 */
export function createBot(options: BotOptions): DiscordBot {
  const { config, logger } = options;
  const token = config.discord.token;
  if (!token) throw new TypeError('createBot needs config.discord.token');
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
  if (config.discord.messageContentIntent) intents.push(GatewayIntentBits.MessageContent);
  // No message of the bot pings anyone unless it says so: edits of messages that echo a prompt would otherwise
  // carry its raw `@everyone` or role mentions. Discord requires sharding past 2,500 servers; `auto` takes the
  // shard count Discord recommends at login.
  const client = new Client({
    intents,
    partials: [Partials.Channel],
    rest: { api: config.discord.apiUrl },
    allowedMentions: { parse: [] },
    shards: 'auto',
  });
  const context: BotContext = {
    client,
    config,
    store: options.store,
    logger,
    jobs: options.jobs,
    model: options.model,
    defaults: options.defaults,
    reservations: new RequestReservations(),
    downloads: new WorkSlots(config.limits.maxConcurrentDownloads),
    ...(options.pipelines ? { pipelines: options.pipelines } : {}),
  };
  const route = createInteractionRouter(context, options.commands);
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  client.on(Events.MessageCreate, (message) => {
    handleMention(message, context).catch((error) => logger.error({ err: error, message: message.id }, 'mention handling failed'));
  });
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  client.on(Events.Warn, (message) => logger.warn(message));

  return {
    client,
    context,
    async connect(interrupted) {
      if (config.discord.deployCommandsOnStart) {
        await deployCommands({
          token,
          apiUrl: config.discord.apiUrl,
          store: options.store,
          commands: options.commands.map((command) => command.data),
          scope: { kind: 'global' },
          logger: logger.child({ module: 'deploy' }),
        });
      }
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(token);
      await ready;
      logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');
      void reportInterruptedJobs(context, interrupted);
    },
    destroy: () => client.destroy(),
    resumedObserver: (record) => new ResumedJobObserver(context, record),
  };
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
