import { ActionRowBuilder, ModalBuilder, TextInputBuilder, TextInputStyle, type Message, type ModalSubmitInteraction } from 'discord.js';
import { noImageToRemix, UserError } from '../errors.js';
import { maxPromptLength } from '../settings/index.js';
import { leadingWhole } from '../text.js';
import type { BotContext } from './context.js';
import { parseCustomId } from './custom-ids.js';
import { jobOfMessage, storedJob } from './job-lookup.js';
import { placeOf } from './place.js';
import { runInteractionRequest } from './run-request.js';
import { checkJobIsHere, checkMayReadChannel } from './source-access.js';
import { firstImageOf } from './source-images.js';

/** Discord's longest text field (its `max_length` and prefilled `value`), in UTF-16 units as discord.js checks it. */
const textInputMaxLength = 4000;

/**
 * The form that asks for a remix prompt and strength. `customIdValue` says what to remix; the fields are
 * prefilled from the source job when there is one.
 */
export function remixModal(customIdValue: string, prefill: { prompt?: string; strength: number }): ModalBuilder {
  // The prompt is prefilled whole (a stored prompt is at most `maxPromptLength` code points), never split inside
  // a character. The field's limit is counted in UTF-16 units by discord.js and Discord's client, where an emoji
  // counts two: it grows to fit the prefilled prompt, so a prompt of `maxPromptLength` characters with emoji fits.
  const value = prefill.prompt ? leadingWhole(prefill.prompt, maxPromptLength, textInputMaxLength) : '';
  const prompt = new TextInputBuilder()
    .setCustomId('prompt')
    .setLabel('Prompt')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(true)
    .setMaxLength(Math.min(textInputMaxLength, Math.max(maxPromptLength, value.length)))
    .setPlaceholder('a watercolor painting of …');
  if (value) prompt.setValue(value);
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

/** Reads the form's strength field: empty means the server default. */
function strengthField(interaction: ModalSubmitInteraction): number | null {
  const text = interaction.fields.getTextInputValue('strength').trim();
  if (text === '') return null;
  const value = Number(text.replace(',', '.'));
  if (!Number.isFinite(value))
    throw new UserError('options.strength', `Expected \`strength\` to be a number from 0 to 1, got \`${text.slice(0, 20)}\`.`);
  return value;
}

/** Handles a submitted remix form (from a result's Remix button or from Apps › Remix). Foreign forms are ignored. */
export async function handleModal(interaction: ModalSubmitInteraction, context: BotContext): Promise<void> {
  const parsed = parseCustomId(interaction.customId);
  if (!parsed) return;
  const prompt = interaction.fields.getTextInputValue('prompt');
  const strength = strengthField(interaction);
  let parentJobId: string | null = null;
  let message: Message | null = null;
  if (parsed.action === 'remix-modal') {
    // Opened from the Remix button of a result: the result message is the source.
    const job = storedJob(context, parsed.parts[0]);
    checkJobIsHere(job, interaction);
    parentJobId = job.id;
    message = interaction.message ?? (await deferThenFetch(interaction, context, job.resultChannelId, job.resultMessageId));
  } else if (parsed.action === 'remix-message-modal') {
    const [channelId, messageId] = parsed.parts;
    message = await deferThenFetch(interaction, context, channelId ?? null, messageId ?? null);
    parentJobId = message ? (jobOfMessage(context, message)?.id ?? null) : null;
  } else {
    return;
  }
  const source = message ? firstImageOf(message) : undefined;
  if (!source) throw noImageToRemix('The picture to remix is gone (the message was deleted or has no picture any more).');
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
 * opened before a restart) is a REST call, which can take longer than Discord's 3 seconds (rate limits). The
 * ids come from the form's `custom_id`, which the client sends: the channel must be one the person may read in
 * the server the form was sent from (see {@link checkMayReadChannel}), or nothing is read for them.
 */
async function deferThenFetch(
  interaction: ModalSubmitInteraction,
  context: BotContext,
  channelId: string | null,
  messageId: string | null,
): Promise<Message | null> {
  if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
  if (!channelId || !messageId) return null;
  const channel = await context.client.channels.fetch(channelId).catch(() => null);
  if (!channel || !channel.isTextBased()) return null;
  checkMayReadChannel(interaction, channel);
  return channel.messages.fetch(messageId).catch(() => null);
}
