import {
  ActionRowBuilder,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type Message,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserError } from '../errors.js';
import { maxPromptLength } from '../settings/index.js';
import type { JobRecord } from '../store/index.js';
import { settingsFor, type BotContext } from './context.js';
import { customId, infoText, parseCustomId } from './messages.js';
import { placeOf } from './place.js';
import { runInteractionRequest } from './run-request.js';
import { firstImageOf } from './source-images.js';

function jobOrError(context: BotContext, jobId: string | undefined): JobRecord {
  const job = jobId ? context.store.getJob(jobId) : undefined;
  if (!job) throw new UserError('job.unknown', 'I no longer have the details of this picture (its record was pruned).');
  return job;
}

/**
 * The job whose result a message shows. The message's own buttons carry the job id, so this works as soon
 * as the result is visible; the stored result message id (written once the delivery finished) is the
 * fallback for results whose buttons are gone.
 */
export function jobOfMessage(context: BotContext, message: Message): JobRecord | undefined {
  if (message.author.id === context.client.user?.id) {
    for (const row of message.components) {
      if (!('components' in row)) continue;
      for (const component of row.components) {
        const parsed = 'customId' in component && typeof component.customId === 'string' ? parseCustomId(component.customId) : undefined;
        const job = parsed?.action === 'reroll' && parsed.parts[0] ? context.store.getJob(parsed.parts[0]) : undefined;
        if (job) return job;
      }
    }
  }
  return context.store.findJobByResultMessage(message.id);
}

function mayManage(interaction: ButtonInteraction, job: JobRecord): boolean {
  return interaction.user.id === job.userId || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false);
}

/**
 * The modal that asks for a remix prompt and strength. `customIdValue` says what to remix; the fields are
 * prefilled from the source job when there is one.
 */
export function remixModal(customIdValue: string, prefill: { prompt?: string; strength: number }): ModalBuilder {
  const prompt = new TextInputBuilder()
    .setCustomId('prompt')
    .setLabel('Prompt')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(true)
    .setMaxLength(maxPromptLength)
    .setPlaceholder('a watercolor painting of …');
  if (prefill.prompt) prompt.setValue(prefill.prompt.slice(0, maxPromptLength));
  const strength = new TextInputBuilder()
    .setCustomId('strength')
    .setLabel('Strength (0 = keep, 1 = redraw)') // Discord allows 45 characters
    .setStyle(TextInputStyle.Short)
    .setRequired(false)
    .setMaxLength(10)
    .setValue(String(prefill.strength));
  return new ModalBuilder()
    .setCustomId(customIdValue)
    .setTitle('Remix')
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(prompt),
      new ActionRowBuilder<TextInputBuilder>().addComponents(strength),
    );
}

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

/** Reads a modal's strength field: empty means the server default. */
function strengthField(interaction: ModalSubmitInteraction): number | null {
  const text = interaction.fields.getTextInputValue('strength').trim();
  if (text === '') return null;
  const value = Number(text.replace(',', '.'));
  if (!Number.isFinite(value))
    throw new UserError('options.strength', `Expected \`strength\` to be a number from 0 to 1, got \`${text.slice(0, 20)}\`.`);
  return value;
}

/** Handles a click on one of our buttons. Foreign `custom_id`s are ignored. */
export async function handleButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
  const parsed = parseCustomId(interaction.customId);
  if (!parsed) return;
  const [jobId] = parsed.parts;
  switch (parsed.action) {
    case 'reroll': {
      const job = jobOrError(context, jobId);
      await runInteractionRequest(interaction, context, {
        kind: job.kind,
        ...placeOf(interaction),
        userOptions: {
          prompt: job.prompt,
          negativePrompt: withoutServerPrefix(job.negativePrompt, settingsFor(context, interaction.guildId).negativePrefix),
          steps: job.steps,
          guidance: job.guidance,
          width: job.width,
          height: job.height,
          scheduler: job.scheduler,
          count: job.count,
          strength: job.strength,
          seed: null,
        },
        ...(job.sourceImageUrl ? { source: { url: job.sourceImageUrl } } : {}),
        parentJobId: job.id,
      });
      return;
    }
    case 'remix': {
      const job = jobOrError(context, jobId);
      await interaction.showModal(
        remixModal(customId('remix-modal', job.id), { prompt: job.prompt, strength: settingsFor(context, interaction.guildId).strength }),
      );
      return;
    }
    case 'info': {
      const job = jobOrError(context, jobId);
      await interaction.reply({
        content: infoText(job, context.model.name),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
      return;
    }
    case 'delete': {
      const job = jobOrError(context, jobId);
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
      const job = jobOrError(context, jobId);
      if (!mayManage(interaction, job)) throw new UserError('access.cancel', 'Only the person who asked for this picture can cancel it.');
      const outcome = context.jobs.cancel(job.id);
      if (outcome === 'notFound') throw new UserError('job.finished', 'This job is not running or waiting any more.');
      // The job's own status message changes to "cancelled" through its observer.
      await interaction.deferUpdate();
      return;
    }
  }
}

/** Handles the submission of one of our modals. */
export async function handleModal(interaction: ModalSubmitInteraction, context: BotContext): Promise<void> {
  const parsed = parseCustomId(interaction.customId);
  if (!parsed) return;
  const prompt = interaction.fields.getTextInputValue('prompt');
  const strength = strengthField(interaction);
  let source: ReturnType<typeof firstImageOf>;
  let parentJobId: string | null = null;
  let message: Message | null = null;
  if (parsed.action === 'remix-modal') {
    // Opened from the Remix button of a result: the result message is the source.
    const job = jobOrError(context, parsed.parts[0]);
    parentJobId = job.id;
    message = interaction.message ?? (await deferThenFetch(interaction, context, job.resultChannelId, job.resultMessageId));
  } else if (parsed.action === 'remix-message-modal') {
    const [channelId, messageId] = parsed.parts;
    message = await deferThenFetch(interaction, context, channelId ?? null, messageId ?? null);
    parentJobId = message ? (jobOfMessage(context, message)?.id ?? null) : null;
  } else {
    return;
  }
  source = message ? firstImageOf(message) : undefined;
  if (!source) throw new UserError('remix.noImage', 'The picture to remix is gone (the message was deleted or has no picture any more).');
  await runInteractionRequest(interaction, context, {
    kind: 'remix',
    ...placeOf(interaction),
    userOptions: { prompt, strength },
    source,
    parentJobId,
  });
}

/**
 * Fetches the message to remix after acknowledging: a message missing from discord.js's cache (e.g. a form
 * opened before a restart) is a REST call, which can take longer than Discord's 3 seconds (rate limits).
 */
async function deferThenFetch(
  interaction: ModalSubmitInteraction,
  context: BotContext,
  channelId: string | null,
  messageId: string | null,
): Promise<Message | null> {
  if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
  return fetchMessage(context, channelId, messageId);
}

async function fetchMessage(context: BotContext, channelId: string | null, messageId: string | null): Promise<Message | null> {
  if (!channelId || !messageId) return null;
  try {
    const channel = await context.client.channels.fetch(channelId);
    if (!channel || !channel.isTextBased()) return null;
    return await channel.messages.fetch(messageId);
  } catch {
    return null;
  }
}
