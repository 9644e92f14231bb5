import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { checkMayClearHistory, clearQuestion } from '../src/bot/history-components.js';
import { historyListView } from '../src/bot/history-view.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';

/**
 * `/history show`: your own pictures here (this server, or our direct messages), privately, newest first, five a
 * page, with their buttons one menu pick away. `/history clear [user]`: deletes the job records (yours; someone
 * else's needs Manage Server), after a confirmation.
 */
export const history: SlashCommandModule = {
  kind: 'slash',
  data: new SlashCommandBuilder()
    .setName('history')
    .setDescription('Your earlier pictures, with their Vary, Upscale and Reroll buttons')
    .addSubcommand((s) => s.setName('show').setDescription('Your pictures here, newest first (only you see them)'))
    .addSubcommand((s) =>
      s
        .setName('clear')
        .setDescription("Forget your pictures' records here (admins: someone else's)")
        .addUserOption((o) => o.setName('user').setDescription('Whose history (default: yours; others need Manage Server)')),
    )
    .toJSON(),

  async execute(command, context) {
    if (command.options.getSubcommand(true) === 'clear') {
      const target = command.options.getUser('user')?.id ?? command.user.id;
      checkMayClearHistory(command, target);
      await command.reply({ ...clearQuestion(context, command.user.id, target, command.guildId), allowedMentions: { parse: [] } });
      return;
    }
    // Fresh links to the pictures are REST calls: acknowledge (privately) first.
    await command.deferReply({ flags: MessageFlags.Ephemeral });
    await command.editReply(await historyListView(context, { ownerId: command.user.id, guildId: command.guildId, page: 0 }));
  },
};
