import type { Interaction } from 'discord.js';
import { handleButton } from './button-clicks.js';
import type { CommandModule, MessageCommandModule, SlashCommandModule } from './command-module.js';
import type { BotContext } from './context.js';
import { parseCustomId } from './custom-ids.js';
import { replyWithError } from './error-replies.js';
import { handleHistoryComponent } from './history-components.js';
import { handleModal } from './remix-form.js';

/**
 * Routes every interaction to its handler: commands by kind and name, our buttons and forms by their
 * `custom_id`. The single catch here answers every failure (see `replyWithError`), so handlers just throw.
 */
export function createInteractionRouter(
  context: BotContext,
  commands: readonly CommandModule[],
): (interaction: Interaction) => Promise<void> {
  const slash = new Map<string, SlashCommandModule>();
  const message = new Map<string, MessageCommandModule>();
  for (const command of commands) {
    if (command.kind === 'slash') slash.set(command.data.name, command);
    else message.set(command.data.name, command);
  }
  const unknown = (name: string) =>
    context.logger.warn({ command: name }, 'interaction for an unknown command (deploy-commands is out of date?)');
  const log = (interaction: Interaction & { commandName: string }) =>
    context.logger.debug({ command: interaction.commandName, user: interaction.user.id, guild: interaction.guildId }, 'command');
  return async (interaction) => {
    try {
      if (interaction.isChatInputCommand()) {
        const command = slash.get(interaction.commandName);
        if (!command) return unknown(interaction.commandName);
        log(interaction);
        await command.execute(interaction, context);
      } else if (interaction.isMessageContextMenuCommand()) {
        const command = message.get(interaction.commandName);
        if (!command) return unknown(interaction.commandName);
        log(interaction);
        await command.execute(interaction, context);
      } else if (interaction.isAutocomplete()) {
        await slash.get(interaction.commandName)?.autocomplete?.(interaction, context);
      } else if (interaction.isButton()) {
        await handleButton(interaction, context);
      } else if (interaction.isStringSelectMenu()) {
        const parsed = parseCustomId(interaction.customId);
        if (parsed?.action === 'history') await handleHistoryComponent(interaction, context, parsed.parts);
      } else if (interaction.isModalSubmit()) {
        await handleModal(interaction, context);
      }
    } catch (error) {
      await replyWithError(interaction, error, context);
    }
  };
}
