import type { ButtonInteraction, Message } from 'discord.js';
import { noImageToRemix, noVaeEncoder } from '../errors.js';
import type { JobOperation, JobRecord } from '../store/index.js';
import { settingsFor, type BotContext } from './context.js';
import type { GenerationRequest, SourceImage } from './generation-request.js';
import { withoutServerPrefix } from './job-lookup.js';
import { resultFileNames } from './messages.js';
import { placeOf } from './place.js';
import { stepsForStrength, upscaleFactor, upscaleRefusal } from './result-actions.js';
import { runInteractionRequest } from './run-request.js';
import { checkMayReadChannel } from './source-access.js';
import { sourceFromAttachment } from './source-images.js';

/** A button that acts on one picture of a result. */
export type PictureAction = 'vary-subtle' | 'vary-strong' | 'upscale';

/** Which picture of a result a button names: its 0-based index, checked against the job. */
function pictureIndex(job: JobRecord, part: string | undefined): number {
  const index = part === undefined ? 0 : Number(part);
  if (!Number.isInteger(index) || index < 0 || index >= job.count) {
    throw noImageToRemix('That picture is not part of this result any more.');
  }
  return index;
}

/**
 * Where picture `index` of a job's result is. On the result message itself (the usual case) its attachment is at
 * hand; elsewhere (a `/history` view) the result message is fetched for fresh attachment URLs, after
 * acknowledging (a REST call can outlast Discord's 3 seconds). The stored URL is the last resort. A picture
 * that is not on the clicked message is only read for the person who made it or someone who can see its
 * channel: job ids in `custom_id`s come from the client.
 */
async function pictureOf(interaction: ButtonInteraction, context: BotContext, job: JobRecord, index: number): Promise<SourceImage> {
  const name = resultFileNames(job, job.count)[index]!;
  // The clicked message is the result (its record may not know the message yet when the click is quick).
  const onResult = job.resultMessageId === null || interaction.message.id === job.resultMessageId;
  const attached = onResult ? interaction.message.attachments.find((attachment) => attachment.name === name) : undefined;
  if (attached) return sourceFromAttachment(attached);
  if (job.userId !== interaction.user.id) {
    const channel = await context.client.channels.fetch(job.resultChannelId ?? job.channelId).catch(() => null);
    if (channel === null) throw noImageToRemix('The picture is gone: its message was deleted, or I can no longer see that channel.');
    checkMayReadChannel(interaction, channel);
  }
  if (job.resultChannelId !== null && job.resultMessageId !== null && interaction.message.id !== job.resultMessageId) {
    if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
    const result = await fetchMessage(context, job.resultChannelId, job.resultMessageId);
    const fresh = result?.attachments.find((attachment) => attachment.name === name);
    if (fresh) return sourceFromAttachment(fresh);
    if (result === null && index === 0)
      throw noImageToRemix('The picture is gone: its message was deleted, or I can no longer see that channel.');
  }
  const stored = job.attachmentUrls[index];
  if (stored === undefined) throw noImageToRemix('I no longer know where that picture is.');
  return { url: stored };
}

async function fetchMessage(context: BotContext, channelId: string, messageId: string): Promise<Message | null> {
  try {
    const channel = await context.client.channels.fetch(channelId);
    if (!channel?.isTextBased()) return null;
    return await channel.messages.fetch(messageId);
  } catch {
    return null;
  }
}

/**
 * Vary (Subtle), Vary (Strong) and Upscale ×2 on picture `indexPart` of `job`: a remix of that picture with the
 * job's prompt and settings, checked and queued like any request (today's server settings apply).
 *
 * - Vary: a new seed, the server's `varySubtleStrength` / `varyStrongStrength`, as many pictures as the job had.
 * - Upscale ×2 (`hires`): the job's seed, one picture at twice the size — the picture scaled ×2 with Lanczos3 — at
 *   `upscale.hiresStrength`: exactly what `/remix` with that picture, seed, strength and size draws.
 */
export async function handlePictureAction(
  interaction: ButtonInteraction,
  context: BotContext,
  action: PictureAction,
  job: JobRecord,
  indexPart: string | undefined,
): Promise<void> {
  const index = pictureIndex(job, indexPart);
  const settings = settingsFor(context, interaction.guildId);
  const limitOwner = interaction.guildId === null ? 'bot' : 'server';
  let operation: JobOperation;
  let strength: number;
  if (action === 'upscale') {
    const refusal = upscaleRefusal(context, settings, job, limitOwner);
    if (refusal) throw refusal;
    operation = 'upscale-hires';
    strength = context.config.upscale.hiresStrength;
  } else {
    if (!context.model.supportsImageToImage) throw noVaeEncoder();
    operation = action;
    strength = action === 'vary-subtle' ? settings.varySubtleStrength : settings.varyStrongStrength;
  }
  const source = await pictureOf(interaction, context, job, index);
  const upscaling = operation === 'upscale-hires';
  const request: GenerationRequest = {
    kind: 'remix',
    ...placeOf(interaction),
    userOptions: {
      prompt: job.prompt,
      negativePrompt: withoutServerPrefix(job.negativePrompt, settings.negativePrefix),
      steps: stepsForStrength(job.steps, strength),
      guidance: job.guidance,
      scheduler: job.scheduler,
      strength,
      count: upscaling ? 1 : job.count,
      // An upscale redraws the same picture bigger: the same seed, so asking twice gives the same result.
      seed: upscaling ? job.seed : null,
      ...(upscaling ? { width: job.width * upscaleFactor, height: job.height * upscaleFactor } : {}),
    },
    source,
    parentJobId: job.id,
    operation,
  };
  await runInteractionRequest(interaction, context, request);
}
