import type { Message, RepliableInteraction } from 'discord.js';
import type { JobObserver } from '../jobs/job-observer.js';
import type { BotContext } from './context.js';
import { replyWithMessageError } from './error-replies.js';
import { checkRequest, jobRequestOf, prepareSourceImage, type CheckedRequest, type GenerationRequest } from './generation-request.js';
import { InteractionJobObserver, MessageJobObserver } from './result-delivery.js';

/**
 * The path every interaction-started generation takes: checks without I/O (a refusal is still a private
 * reply), acknowledgement well within Discord's 3 seconds, then the download, then the queue. Errors
 * after the acknowledgement propagate to the router, which replaces the public placeholder by a private
 * message.
 *
 * A request without a picture to download is queued while its acknowledgement is still on the way, so
 * jobs keep the order their requests arrived in (round trips of the acknowledgements finish in any
 * order); its observer edits nothing before the acknowledgement succeeded. A remix is queued once its
 * picture is downloaded.
 */
export async function runInteractionRequest(
  interaction: RepliableInteraction,
  context: BotContext,
  request: GenerationRequest,
): Promise<void> {
  const checked = checkRequest(context, request);
  const acknowledged = interaction.deferred || interaction.replied ? Promise.resolve() : interaction.deferReply().then(() => undefined);
  await queueWhileShown(context, checked, acknowledged, () => new InteractionJobObserver(interaction, context, acknowledged));
}

/**
 * The same for a message that mentions the bot: a status reply to it carries refusals, progress and the
 * result. As with interactions, a request without a picture is queued while its status reply is on the way,
 * so mentions keep the order they arrived in.
 */
export async function runMessageRequest(message: Message, context: BotContext, request: GenerationRequest): Promise<void> {
  let status: Promise<Message> | undefined;
  try {
    const checked = checkRequest(context, request);
    const reply = message.reply({
      content: checked.request.source ? '⏳ Getting the picture…' : '⏳ Queued…',
      allowedMentions: { repliedUser: false, parse: [] },
    });
    status = reply;
    await queueWhileShown(context, checked, reply, () => new MessageJobObserver(reply, context));
  } catch (error) {
    await replyWithMessageError(message, context, error, await status?.catch(() => undefined));
  }
}

/**
 * Queues a checked request while the message that will show it (`shown`: an acknowledgement or a status
 * reply) is still on its way; a remix waits for it and then for its picture. When that message fails, the
 * job is cancelled — nobody could follow or cancel it — and the failure is rethrown.
 */
async function queueWhileShown(
  context: BotContext,
  checked: CheckedRequest,
  shown: Promise<unknown>,
  observerFor: () => JobObserver,
): Promise<void> {
  const initImage = checked.request.source ? await shown.then(() => prepareSourceImage(context, checked)) : undefined;
  // The runner tells the observer its queue position (and expected wait) as it queues the job.
  const { record } = context.jobs.submit(jobRequestOf(checked, initImage), observerFor());
  try {
    await shown;
  } catch (error) {
    context.jobs.cancel(record.id);
    throw error;
  }
}
