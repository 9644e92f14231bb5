import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  PermissionFlagsBits,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type MessageActionRowComponentBuilder,
  type StringSelectMenuInteraction,
} from 'discord.js';
import { UserError } from '../errors.js';
import type { BotContext } from './context.js';
import { customId } from './custom-ids.js';
import { historyJobView, historyListView, type HistoryPlace } from './history-view.js';

/** Who may clear `targetId`'s history here: they themselves, or (in a server) members with Manage Server. */
export function checkMayClearHistory(interaction: ButtonInteraction | ChatInputCommandInteraction, targetId: string): void {
  if (targetId === interaction.user.id) return;
  if (interaction.guildId === null || !(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false)) {
    throw new UserError('access.history', "Only members with the Manage Server permission can clear someone else's history.");
  }
}

/** The question `/history clear` asks before deleting anything, with its Yes button. */
export function clearQuestion(
  context: BotContext,
  askerId: string,
  targetId: string,
  guildId: string | null,
): { content: string; components: ActionRowBuilder<MessageActionRowComponentBuilder>[]; flags: MessageFlags.Ephemeral } {
  const { total } = context.store.jobHistory(targetId, guildId, 0, 0);
  const whose = targetId === askerId ? 'your' : `<@${targetId}>'s`;
  const where = guildId === null ? 'in our direct messages' : 'in this server';
  return {
    content:
      `🧹 Clear ${whose} picture history ${where}? That deletes the records of every finished job (${total} with a picture), ` +
      'so their Reroll, Vary and Upscale buttons and `/history` no longer know them. The pictures themselves stay in their messages.',
    components: [
      new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
        new ButtonBuilder()
          .setCustomId(customId('history', 'clear', askerId, targetId))
          .setLabel('Yes, clear it')
          .setStyle(ButtonStyle.Danger),
      ),
    ],
    flags: MessageFlags.Ephemeral,
  };
}

/** The place a history component names, checked: only its owner may use it (ephemeral views are theirs alone). */
function placeOf(interaction: ButtonInteraction | StringSelectMenuInteraction, parts: readonly string[]): HistoryPlace {
  const [, ownerId, pageText] = parts;
  if (ownerId !== interaction.user.id) throw new UserError('access.history', 'This is not your history.');
  const page = Number(pageText);
  return { ownerId, guildId: interaction.guildId, page: Number.isSafeInteger(page) && page >= 0 ? page : 0 };
}

/**
 * Handles the components of `/history` views (`lc:history:<view>:…`): paging (`page`), opening one picture from
 * the menu (`open`) and the confirmation of `/history clear` (`clear`). The view is edited in place.
 */
export async function handleHistoryComponent(
  interaction: ButtonInteraction | StringSelectMenuInteraction,
  context: BotContext,
  parts: readonly string[],
): Promise<void> {
  const view = parts[0];
  if (view === 'clear' && interaction.isButton()) {
    const [, askerId, targetId] = parts;
    if (askerId !== interaction.user.id || targetId === undefined) throw new UserError('access.history', 'This is not your question.');
    checkMayClearHistory(interaction, targetId);
    const removed = context.store.clearJobHistory(targetId, interaction.guildId);
    context.logger.info({ user: interaction.user.id, target: targetId, guild: interaction.guildId, removed }, 'history cleared');
    await interaction.update({
      content: `🧹 Cleared: ${removed} job record${removed === 1 ? '' : 's'} deleted.`,
      components: [],
      allowedMentions: { parse: [] },
    });
    return;
  }
  const place = placeOf(interaction, parts);
  // Fresh picture links mean REST calls, which may outlast Discord's 3 seconds: acknowledge first.
  await interaction.deferUpdate();
  if (view === 'open' && interaction.isStringSelectMenu()) {
    await interaction.editReply(await historyJobView(context, place, interaction.values[0] ?? ''));
  } else if (view === 'page') {
    await interaction.editReply(await historyListView(context, place));
  }
}
