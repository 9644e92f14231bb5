import type { Message, RepliableInteraction } from 'discord.js';
import type { InitImage } from '../image/index.js';
import type { JobObserver } from '../jobs/job-observer.js';
import type { BotContext } from './context.js';
import { replyWithMessageError } from './error-replies.js';
import { checkRequest, jobRequestOf, prepareSourceImage, recheckBeforeSubmit, type GenerationRequest } from './generation-request.js';
import { downloadsBusy } from './request-reservations.js';
import { InteractionJobObserver, MessageJobObserver } from './result-delivery.js';

/** How a request is shown to its requester: the interaction's acknowledgement, or a status reply to a mention. */
interface Presentation {
  /** Shows that the request was taken; rejects when Discord refused that. */
  acknowledge(): Promise<void>;
  /** The job's observer; it edits nothing before `acknowledged` resolved, and nothing at all when it rejected. */
  observer(acknowledged: Promise<void>): JobObserver;
}

/**
 * The path every interaction-started generation takes. Checks without I/O first, room in the queue included, so
 * a refusal is a private reply. A request without a picture is then recorded and queued before it is
 * acknowledged: a full disk, too, is refused privately (an acknowledgement would make any later answer a second
 * one, which Discord refuses with 40060), and jobs keep the order their requests arrived in. A remix is
 * acknowledged within Discord's 3 seconds, downloads its picture, and is checked again and queued; its errors
 * after the acknowledgement propagate to the router, which answers in place of the deferred reply.
 */
export async function runInteractionRequest(
  interaction: RepliableInteraction,
  context: BotContext,
  request: GenerationRequest,
): Promise<void> {
  await runRequest(context, request, {
    acknowledge: async () => {
      if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
    },
    observer: (acknowledged) => new InteractionJobObserver(interaction, context, acknowledged),
  });
}

/**
 * The same for a message that mentions the bot: a status reply to it carries refusals, progress and the
 * result. A refusal before anything was queued is a plain reply.
 */
export async function runMessageRequest(message: Message, context: BotContext, request: GenerationRequest): Promise<void> {
  let posted: ((status: Promise<Message>) => void) | undefined;
  const status = new Promise<Message>((resolve) => (posted = (reply) => resolve(reply)));
  status.catch(() => undefined); // a refused status reply is handled where it is awaited
  let statusPosted = false;
  try {
    await runRequest(context, request, {
      acknowledge: async () => {
        statusPosted = true;
        const reply = message.reply({
          content: request.source ? '⏳ Getting the picture…' : '⏳ Queued…',
          allowedMentions: { repliedUser: false, parse: [] },
        });
        posted!(reply);
        await reply;
      },
      observer: () => new MessageJobObserver(status, context),
    });
  } catch (error) {
    await replyWithMessageError(message, context, error, statusPosted ? await status.catch(() => undefined) : undefined);
  }
}

/**
 * Checks, acknowledges and queues one request (see {@link runInteractionRequest}). A remix holds a place of
 * its user (so the per-user limit and cooldown count it while its picture downloads) and one of the download
 * slots (so at most `limits.maxConcurrentDownloads` pictures are fetched and decoded at once); both are given
 * back once it is queued or has failed.
 */
async function runRequest(context: BotContext, request: GenerationRequest, presentation: Presentation): Promise<void> {
  const checked = checkRequest(context, request);
  if (!request.source) {
    const acknowledgement = settleLater();
    const { record } = context.jobs.submit(jobRequestOf(checked, undefined), presentation.observer(acknowledgement.promise));
    try {
      await presentation.acknowledge();
      acknowledgement.resolve();
    } catch (error) {
      // Nobody could follow or cancel the job: it is not drawn.
      acknowledgement.reject(error);
      context.jobs.cancel(record.id);
      throw error;
    }
    return;
  }
  const releaseDownload = context.downloads.take(downloadsBusy);
  const reservation = context.reservations.reserve(request.guildId, request.userId);
  try {
    await presentation.acknowledge();
    let initImage: InitImage | undefined;
    try {
      initImage = await prepareSourceImage(context, checked);
    } finally {
      releaseDownload();
    }
    recheckBeforeSubmit(context, checked);
    context.jobs.submit(jobRequestOf(checked, initImage), presentation.observer(Promise.resolve()));
  } finally {
    releaseDownload();
    reservation.release();
  }
}

/** A promise settled from outside; a rejection nobody awaits is not an unhandled one. */
function settleLater(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
