import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';
import { roughDuration, shownPrompt } from '../src/bot/messages.js';
import type { JobRecord } from '../src/store/index.js';

/** `/queue`: what is running and waiting, for anyone. */
export const queue: SlashCommandModule = {
  kind: 'slash',
  data: new SlashCommandBuilder().setName('queue').setDescription('Show what the bot is drawing and what is waiting').toJSON(),

  async execute(interaction, context) {
    const { running, waiting } = context.jobs.snapshot();
    const describe = (record: JobRecord) => {
      const here = record.guildId === interaction.guildId;
      // Other servers' prompts stay private; only the fact that something is waiting is shown.
      return here ? `<@${record.userId}> — ${shownPrompt(record.prompt, 80)}` : '(another server)';
    };
    const lines: string[] = [];
    lines.push(running.length > 0 ? `🎨 **Drawing:** ${running.map(describe).join('; ')}` : '🎨 Nothing is being drawn right now.');
    if (waiting.length > 0) {
      lines.push(`⏳ **Waiting (${waiting.length}):**`);
      waiting.slice(0, 15).forEach(({ record, expectedWaitMs }, i) => {
        lines.push(`${i + 1}. ${describe(record)}${expectedWaitMs !== undefined ? ` · about ${roughDuration(expectedWaitMs)}` : ''}`);
      });
      if (waiting.length > 15) lines.push(`… and ${waiting.length - 15} more`);
    } else {
      lines.push('⏳ The queue is empty.');
    }
    await interaction.reply({ content: lines.join('\n'), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },
};
