import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  type MessageContextMenuCommandInteraction,
} from 'discord.js';
import type { CommandModule } from '../src/bot/command-module.js';
import { jobOfMessage, remixModal } from '../src/bot/components.js';
import { settingsFor, type BotContext } from '../src/bot/context.js';
import { customId } from '../src/bot/messages.js';
import { firstImageOf } from '../src/bot/source-images.js';
import { UserError } from '../src/errors.js';

/**
 * Apps › Remix on any message with a picture. A slash command cannot be a reply to a message, so this
 * is how a picture someone posted gets remixed: a modal asks for the prompt and strength.
 */
export const remixMessage: CommandModule = {
  data: new ContextMenuCommandBuilder()
    .setName('Remix')
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .toJSON(),

  async execute(interaction, context: BotContext) {
    const command = interaction as MessageContextMenuCommandInteraction;
    const target = command.targetMessage;
    if (!firstImageOf(target)) throw new UserError('remix.noImage', 'That message has no picture to remix.');
    if (!context.model.supportsImageToImage) {
      throw new UserError('model.noVaeEncoder', 'The model this bot runs has no VAE encoder, so remixing pictures is not available.');
    }
    const sourceJob = jobOfMessage(context, target);
    const settings = settingsFor(context, command.guildId);
    await command.showModal(
      remixModal(customId('remix-message-modal', target.channelId, target.id), {
        ...(sourceJob ? { prompt: sourceJob.prompt } : {}),
        strength: sourceJob?.kind === 'remix' ? sourceJob.strength : settings.strength,
      }),
    );
  },
};
