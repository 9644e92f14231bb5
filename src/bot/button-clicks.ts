import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { UserError } from '../errors.js';
import type { JobRecord } from '../store/index.js';
import { settingsFor, type BotContext } from './context.js';
import { customId, parseCustomId } from './custom-ids.js';
import { storedJob } from './job-lookup.js';
import { infoText } from './messages.js';
import { placeOf } from './place.js';
import { remixModal } from './remix-form.js';
import { runInteractionRequest } from './run-request.js';
import { checkJobIsHere } from './source-access.js';

/**
 * The user's own part of a stored negative prompt: the server's prefix is put in front again when the
 * reroll is checked, so it must not be there twice.
 */
export function withoutServerPrefix(negativePrompt: string, serverPrefix: string): string {
  const prefix = serverPrefix.trim();
  if (!prefix) return negativePrompt;
  if (negativePrompt === prefix) return '';
  return negativePrompt.startsWith(`${prefix}, `) ? negativePrompt.slice(prefix.length + 2) : negativePrompt;
}

function mayManage(interaction: ButtonInteraction, job: JobRecord): boolean {
  return interaction.user.id === job.userId || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false);
}

/** The job a button names, which must have been asked for where the button was clicked. */
function jobOfButton(context: BotContext, interaction: ButtonInteraction, jobId: string | undefined): JobRecord {
  const job = storedJob(context, jobId);
  checkJobIsHere(job, interaction);
  return job;
}

/** Handles a click on one of our buttons. Foreign `custom_id`s are ignored. */
export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const parsed = parseCustomId(interaction.customId);
  if (!parsed) return;
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
      await interaction.deleteReply();
      return;
    }
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
