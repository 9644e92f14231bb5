import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType } from 'discord.js';
import type { MessageCommandModule } from '../src/bot/command-module.js';
import { settingsFor } from '../src/bot/context.js';
import { customId } from '../src/bot/custom-ids.js';
import { jobOfMessage } from '../src/bot/job-lookup.js';
import { remixModal } from '../src/bot/remix-form.js';
import { firstImageOf } from '../src/bot/source-images.js';
import { noImageToRemix, noVaeEncoder } from '../src/errors.js';

/**
 * Apps › Remix on any message with a picture. A slash command cannot be a reply to a message, so this
 * is how a picture someone posted gets remixed: a modal asks for the prompt and strength.
 */
export const remixMessage: MessageCommandModule = {
  kind: 'message',
  data: new ContextMenuCommandBuilder()
    .setName('Remix')
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .toJSON(),

  async execute(command, context) {
    const target = command.targetMessage;
    if (!firstImageOf(target)) throw noImageToRemix('That message has no picture to remix.');
    if (!context.model.supportsImageToImage) throw noVaeEncoder();
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
