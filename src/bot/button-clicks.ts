import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { UserError } from '../errors.js';
import type { JobRecord } from '../store/index.js';
import { settingsFor, type BotContext } from './context.js';
import { customId, parseCustomId } from './custom-ids.js';
import { handleHistoryComponent } from './history-components.js';
import { historyListView } from './history-view.js';
import { storedJob, withoutServerPrefix } from './job-lookup.js';
import { handlePictureAction } from './picture-actions.js';
import { infoText } from './messages.js';
import { placeOf } from './place.js';
import { remixModal } from './remix-form.js';
import { runInteractionRequest } from './run-request.js';
import { checkJobIsHere } from './source-access.js';

function mayManage(interaction: ButtonInteraction, job: JobRecord): boolean {
  return interaction.user.id === job.userId || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false);
}

/** The job a button names, which must have been asked for where the button was clicked. */
function jobOfButton(context: BotContext, interaction: ButtonInteraction, jobId: string | undefined): JobRecord {
  const job = storedJob(context, jobId);
  checkJobIsHere(job, interaction);
  return job;
}

/** Deletes the message that shows a job's result (from a `/history` view, where that message is elsewhere). */
async function deleteResultMessage(context: BotContext, job: JobRecord): Promise<void> {
  if (job.resultChannelId === null || job.resultMessageId === null)
    throw new UserError('job.unknown', 'I do not know where that picture is.');
  try {
    const channel = await context.client.channels.fetch(job.resultChannelId);
    if (!channel?.isTextBased()) throw new Error('not a text channel');
    await channel.messages.delete(job.resultMessageId);
  } catch (error) {
    // 10008 Unknown Message: it is gone already, which is what was asked.
    if ((error as { code?: unknown }).code === 10008) return;
    throw new UserError('delivery.channel', 'I could not delete that picture: I can no longer manage messages in its channel.', {
      cause: error,
    });
  }
}

/** Handles a click on one of our buttons. Foreign `custom_id`s are ignored. */
export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const parsed = parseCustomId(interaction.customId);
  if (!parsed) return;
  if (parsed.action === 'history') {
    await handleHistoryComponent(interaction, context, parsed.parts);
    return;
  }
  const [jobId] = parsed.parts;
  switch (parsed.action) {
    case 'reroll': {
      // The same job with a new seed: checked again against today's settings, as if asked anew.
      const { kind, prompt, negativePrompt, steps, guidance, width, height, scheduler, count, strength, sourceImageUrl, id } = jobOfButton(
        context,
        interaction,
        jobId,
      );
      const serverPrefix = settingsFor(context, interaction.guildId).negativePrefix;
      await runInteractionRequest(interaction, context, {
        kind,
        ...placeOf(interaction),
        userOptions: {
          prompt,
          negativePrompt: withoutServerPrefix(negativePrompt, serverPrefix),
          steps,
          guidance,
          width,
          height,
          scheduler,
          count,
          strength,
          seed: null,
        },
        ...(sourceImageUrl ? { source: { url: sourceImageUrl } } : {}),
        parentJobId: id,
      });
      return;
    }
    case 'remix': {
      const job = jobOfButton(context, interaction, jobId);
      const strength = settingsFor(context, interaction.guildId).strength;
      await interaction.showModal(remixModal(customId('remix-modal', job.id), { prompt: job.prompt, strength }));
      return;
    }
    case 'info': {
      const job = jobOfButton(context, interaction, jobId);
      await interaction.reply({
        content: infoText(job, context.model.name),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      return;
    }
    case 'delete': {
      const job = jobOfButton(context, interaction, jobId);
      if (!mayManage(interaction, job))
        throw new UserError(
          'access.delete',
          'Only the person who asked for this picture, or someone who can manage messages here, can delete it.',
        );
      await interaction.deferUpdate();
      if (!interaction.message.flags.has(MessageFlags.Ephemeral)) {
        await interaction.deleteReply();
        return;
      }
      // From a /history view: the picture's own message is elsewhere.
      await deleteResultMessage(context, job);
      context.logger.info({ job: job.id, user: interaction.user.id }, 'result deleted from /history');
      const list = await historyListView(context, { ownerId: interaction.user.id, guildId: interaction.guildId, page: 0 });
      await interaction.editReply({ ...list, content: `🗑️ Deleted. ${list.content}` });
      return;
    }
    case 'vary-subtle':
    case 'vary-strong':
    case 'upscale':
      await handlePictureAction(interaction, context, parsed.action, jobOfButton(context, interaction, jobId), parsed.parts[1]);
      return;
    case 'cancel': {
      const job = jobOfButton(context, interaction, jobId);
      if (!mayManage(interaction, job)) throw new UserError('access.cancel', 'Only the person who asked for this picture can cancel it.');
      const outcome = context.jobs.cancel(job.id);
      if (outcome === 'notFound') throw new UserError('job.finished', 'This job is not running or waiting any more.');
      // The job's own status message changes to "cancelled" through its observer.
      await interaction.deferUpdate();
      return;
    }
  }
}
