import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/command-module.js';
import type { BotContext } from '../src/bot/context.js';
import { roughDuration, shownPrompt } from '../src/bot/messages.js';

/** `/queue`: what is running and waiting, for anyone. */
export const queue: CommandModule = {
  data: new SlashCommandBuilder().setName('queue').setDescription('Show what the bot is drawing and what is waiting').toJSON(),

  async execute(interaction, context: BotContext) {
    const running = context.jobs.queue.running;
    const waiting = context.jobs.queue.queued;
    const waits = context.jobs.expectedWaits();
    const describe = (job: (typeof waiting)[number]) => {
      const here = job.payload.record.guildId === interaction.guildId;
      // Other servers' prompts stay private; only the fact that something is waiting is shown.
      return here ? `<@${job.userId}> — ${shownPrompt(job.payload.record.prompt, 80)}` : '(another server)';
    };
    const lines: string[] = [];
    lines.push(running.length > 0 ? `🎨 **Drawing:** ${running.map(describe).join('; ')}` : '🎨 Nothing is being drawn right now.');
    if (waiting.length > 0) {
      lines.push(`⏳ **Waiting (${waiting.length}):**`);
      waiting.slice(0, 15).forEach((job, i) => {
        const wait = waits[i];
        lines.push(`${i + 1}. ${describe(job)}${wait !== undefined ? ` · about ${roughDuration(wait)}` : ''}`);
      });
      if (waiting.length > 15) lines.push(`… and ${waiting.length - 15} more`);
    } else {
      lines.push('⏳ The queue is empty.');
    }
    await interaction.reply({ content: lines.join('\n'), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },
};
