import { commandModules } from '../../commands/index.js';
import { startApp } from '../app.js';
import { deployCommands } from '../bot/deploy-commands.js';
import { configForLog, type Config } from '../config/index.js';
import { noToken, UserError } from '../errors.js';
import { createLogger } from '../logging/logger.js';
import { redisPassword } from '../scale/index.js';
import { openStore } from '../store/index.js';
import { parseCommandArgs, stringOption } from './args.js';
import type { CliIo } from './generate.js';
import { ensureModelDir } from './model-location.js';

/** Usage lines. */
export const botUsage = 'latentcord bot [--model DIR]                    # runs the Discord bot (npm start)';
export const deployUsage = 'latentcord deploy-commands [--guild ID] [--force]  # registers the slash commands';

/** `bot`: runs until SIGTERM or SIGINT, then stops gracefully and exits 0. */
export async function runBotCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { values } = parseCommandArgs(argv, { model: { type: 'string' } }, botUsage);
  // Before a possibly long model download: without a token there is nothing to start.
  if (!config.discord.token) throw noToken();
  const logger = createLogger({
    level: config.logging.level,
    secrets: [config.discord.token, redisPassword(config.scale.redisUrl)],
    pretty: config.logging.pretty,
  });
  logger.info({ config: configForLog(config) }, 'starting latentcord');
  const modelDir = await ensureModelDir(config, stringOption(values, 'model'), io.cwd, io.stderr);
  const app = await startApp({ config, logger, modelDir });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      app.stop(signal).then(resolve, (error) => {
        logger.error({ err: error }, 'error while stopping');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  logger.flush();
}

/** `deploy-commands`: registers the commands globally or in one server, skipping unchanged definitions. */
export async function runDeployCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { values } = parseCommandArgs(argv, { guild: { type: 'string' }, force: { type: 'boolean' } }, deployUsage);
  const token = config.discord.token;
  if (!token) throw noToken();
  const guild = stringOption(values, 'guild');
  if (guild !== undefined && !/^\d{15,25}$/.test(guild))
    throw new UserError('options.guild', `Expected \`--guild\` to be a server id (digits), got \`${guild}\`.`);
  const store = openStore(config.dataDir);
  try {
    const result = await deployCommands({
      token,
      apiUrl: config.discord.apiUrl,
      store,
      commands: commandModules.map((command) => command.data),
      scope: guild ? { kind: 'guild', guildId: guild } : { kind: 'global' },
      force: values['force'] === true,
    });
    io.stdout.write(
      result.deployed
        ? `Registered ${result.commandCount} commands (${result.scope}).\n`
        : `Commands unchanged since the last registration (${result.scope}); nothing sent. Use --force to register anyway.\n`,
    );
  } finally {
    store.close();
  }
}
