import { MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { PipelineView } from '../src/backends/pipeline-backend.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';
import { fitLines, quote, type MessagePart } from '../src/bot/discord-text.js';
import { roughDuration } from '../src/bot/messages.js';
import type { JobRecord } from '../src/store/index.js';

/** Waiting jobs listed one by one; the rest are counted. */
const listedWaiting = 15;

/** At most this many pipelines are listed; the rest are counted. */
const listedPipelines = 20;

/** One pipeline (local process or remote worker) as an admin sees it; names and models are quoted as user text. */
function pipelineLine(pipeline: PipelineView): MessagePart[] {
  const done = pipeline.jobsDone !== undefined ? ` · ${pipeline.jobsDone} done` : '';
  return [
    '• ',
    quote(pipeline.name, 64),
    ' · ',
    quote(pipeline.model, 100),
    ` · ${pipeline.device} · ${pipeline.busy ? 'busy' : 'idle'}${done}`,
  ];
}

/** `/queue`: what is running and waiting, for anyone; server admins (Manage Server) also see the pipelines. */
export const queue: SlashCommandModule = {
  kind: 'slash',
  data: new SlashCommandBuilder().setName('queue').setDescription('Show what the bot is drawing and what is waiting').toJSON(),

  async execute(interaction, context) {
    const { running, waiting } = context.jobs.snapshot();
    // Prompts stay where they were written: other servers' and other people's direct messages show only
    // that something is there.
    const describe = (record: JobRecord): MessagePart[] => {
      const visible = record.guildId === interaction.guildId && (record.guildId !== null || record.userId === interaction.user.id);
      if (visible) return [`<@${record.userId}> — `, quote(record.prompt, 80)];
      return [record.guildId === null ? '(a direct message)' : '(another server)'];
    };
    const lines: (MessagePart | MessagePart[])[] = [];
    lines.push(
      running.length > 0
        ? ['🎨 **Drawing:** ', ...running.flatMap((record, i) => [...(i > 0 ? ['; '] : []), ...describe(record)])]
        : '🎨 Nothing is being drawn right now.',
    );
    if (waiting.length > 0) {
      lines.push(`⏳ **Waiting (${waiting.length}):**`);
      waiting.slice(0, listedWaiting).forEach(({ record, expectedWaitMs }, i) => {
        const wait = expectedWaitMs !== undefined ? ` · about ${roughDuration(expectedWaitMs)}` : '';
        lines.push([`${i + 1}. `, ...describe(record), wait]);
      });
      if (waiting.length > listedWaiting) lines.push(`… and ${waiting.length - listedWaiting} more`);
    } else {
      lines.push('⏳ The queue is empty.');
    }
    const pipelines = context.pipelines?.();
    if (pipelines !== undefined && interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      const busy = pipelines.filter((pipeline) => pipeline.busy).length;
      lines.push(
        pipelines.length === 0
          ? '🖥️ **Workers:** none live — new jobs are refused until one starts.'
          : `🖥️ **Workers (${pipelines.length}, ${busy} busy):**`,
      );
      for (const pipeline of pipelines.slice(0, listedPipelines)) lines.push(pipelineLine(pipeline));
      if (pipelines.length > listedPipelines) lines.push(`… and ${pipelines.length - listedPipelines} more`);
    }
    await interaction.reply({ content: fitLines(lines), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },
};
