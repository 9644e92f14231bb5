import { MessageFlags, type Interaction, type Message } from 'discord.js';
import { describeFailure } from '../errors.js';
import type { BotContext } from './context.js';
import { fitMessage } from './discord-text.js';

/**
 * The one place that decides how a failed interaction is answered. {@link describeFailure} decides between
 * the user's mistake (its message goes to the user privately) and a bug (logged with a reference id; the
 * user sees only that id). Whether the interaction was already acknowledged decides between replying,
 * editing a private placeholder, or removing a public placeholder and following up privately.
 */
export async function replyWithError(interaction: Interaction, error: unknown, context: BotContext): Promise<void> {
  const who = { interaction: interaction.id, user: interaction.user.id };
  const failure = describeFailure(error, context.logger, {
    logMessage: 'interaction failed',
    details: { ...who, guild: interaction.guildId },
  });
  if (!failure.isBug) context.logger.info({ ...who, identifier: failure.identifier }, 'request refused');
  const content = fitMessage([`❌ ${failure.message}`]);
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

/** Answers a message request that failed: in its status reply if there is one, else in a new reply. */
export async function replyWithMessageError(message: Message, context: BotContext, error: unknown, status?: Message): Promise<void> {
  const details = { message: message.id, user: message.author.id };
  const failure = describeFailure(error, context.logger, { logMessage: 'mention failed', details });
  if (!failure.isBug) context.logger.info({ ...details, identifier: failure.identifier }, 'request refused');
  const content = fitMessage([`❌ ${failure.message}`]);
  try {
    if (status) await status.edit({ content, components: [] });
    else await message.reply({ content, allowedMentions: { repliedUser: false, parse: [] } });
  } catch (replyError) {
    context.logger.warn({ err: replyError, message: message.id }, 'could not answer a message request');
  }
}
