import { MessageFlags, type Interaction } from 'discord.js';
import { isUserError } from '../errors.js';
import { newReferenceId } from '../logging/logger.js';
import type { BotContext } from './context.js';

/**
 * The one place that decides how a failed interaction is answered. A UserError's message goes to the
 * user privately; anything else is logged with a reference id and the user sees only that id. Whether the
 * interaction was already acknowledged decides between replying, editing a private placeholder, or
 * removing a public placeholder and following up privately.
 */
export async function replyWithError(interaction: Interaction, error: unknown, context: BotContext): Promise<void> {
  let content: string;
  if (isUserError(error)) {
    content = `❌ ${error.message}`;
    context.logger.info({ interaction: interaction.id, user: interaction.user.id, identifier: error.identifier }, 'request refused');
  } else {
    const ref = newReferenceId();
    context.logger.error(
      { ref, err: error, interaction: interaction.id, user: interaction.user.id, guild: interaction.guildId },
      'interaction failed',
    );
    content = `❌ Something went wrong on my side (ref \`${ref}\`). The owner can look it up in the logs.`;
  }
  if (!interaction.isRepliable()) return;
  try {
    if (interaction.deferred && !interaction.replied) {
      if (interaction.ephemeral) {
        await interaction.editReply({ content, components: [] });
        return;
      }
      // A public "thinking…" placeholder from deferReply() goes away; after deferUpdate() (ephemeral is then
      // null) the original is the clicked message itself, which must stay.
      if (interaction.ephemeral === false) await interaction.deleteReply().catch(() => undefined);
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    } else if (interaction.replied) {
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    } else {
      await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    }
  } catch (replyError) {
    context.logger.warn({ err: replyError, interaction: interaction.id }, 'could not tell the user about an error');
  }
}
