import type { Interaction } from 'discord.js';
import type { CommandModule } from './command-module.js';
import { handleButton, handleModal } from './components.js';
import type { BotContext } from './context.js';
import { replyWithError } from './error-replies.js';

/**
 * Routes every interaction to its handler: commands by name, our buttons and modals by their `custom_id`.
 * The single catch here answers every failure (see `replyWithError`), so handlers just throw.
 */
export function createInteractionRouter(
  context: BotContext,
  commands: readonly CommandModule[],
): (interaction: Interaction) => Promise<void> {
  const byName = new Map(commands.map((command) => [command.data.name, command]));
  return async (interaction) => {
    try {
      if (interaction.isChatInputCommand() || interaction.isMessageContextMenuCommand()) {
        const command = byName.get(interaction.commandName);
        if (!command) {
          context.logger.warn({ command: interaction.commandName }, 'interaction for an unknown command (deploy-commands is out of date?)');
          return;
        }
        context.logger.debug({ command: interaction.commandName, user: interaction.user.id, guild: interaction.guildId }, 'command');
        await command.execute(interaction, context);
      } else if (interaction.isAutocomplete()) {
        await byName.get(interaction.commandName)?.autocomplete?.(interaction, context);
      } else if (interaction.isButton()) {
        await handleButton(interaction, context);
      } else if (interaction.isModalSubmit()) {
        await handleModal(interaction, context);
      }
    } catch (error) {
      await replyWithError(interaction, error, context);
    }
  };
}
