import { DiscordAPIError, RESTJSONErrorCodes, type Message, type RepliableInteraction, type SendableChannels } from 'discord.js';
import { UserError, isUserError } from '../errors.js';
import type { Delivery, FinishedJob, JobObserver } from '../jobs/job-runner.js';
import { newReferenceId } from '../logging/logger.js';
import type { StepProgress } from '../pipeline/stable-diffusion.js';
import type { JobRecord } from '../store/index.js';
import type { BotContext } from './context.js';
import { cancelButton, failedText, progressText, queuedText, resultButtons, resultFileNames, resultText } from './messages.js';
import { ThrottledEditor } from './throttled-editor.js';

/** Discord keeps an interaction token for 15 minutes; stop using it a little before. */
export const interactionTokenLifetimeMs = 15 * 60 * 1000;
const tokenSafetyMarginMs = 60 * 1000;

/** Error codes meaning the interaction token (or its message) can no longer be used. */
const expiredTokenCodes = new Set<number | string>([
  RESTJSONErrorCodes.InvalidWebhookToken,
  RESTJSONErrorCodes.UnknownWebhook,
  RESTJSONErrorCodes.UnknownInteraction,
  RESTJSONErrorCodes.UnknownMessage,
]);

function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && expiredTokenCodes.has(error.code);
}

type StatusPayload = { content: string; components: ReturnType<typeof cancelButton> };

/** The text a requester sees for a failure; unexpected errors are logged with a reference id. */
export function failureReason(error: Error, context: BotContext, details: Record<string, unknown>): string {
  if (isUserError(error)) return error.message;
  const ref = newReferenceId();
  context.logger.error({ ref, err: error, ...details }, 'unexpected error');
  return `Something went wrong on my side (ref \`${ref}\`). The owner can look it up in the logs.`;
}

/** `40 KiB`, `8.0 MiB`. */
function byteSize(bytes: number): string {
  return bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Splits result files into messages that respect the upload limit (per file and per message) and
 * Discord's 10 files per message. A single file over the limit is a UserError.
 */
export function planUploads(pngs: readonly Buffer[], limitBytes: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let size = 0;
  pngs.forEach((png, index) => {
    if (png.length > limitBytes) {
      throw new UserError(
        'result.tooLarge',
        `The picture is ${byteSize(png.length)}, more than this channel's upload limit of ${byteSize(limitBytes)}. Try a smaller size.`,
      );
    }
    if (current.length === 10 || size + png.length > limitBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(index);
    size += png.length;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** One result message, in a shape every discord.js send/edit/reply method accepts. */
interface ResultMessage {
  content: string;
  files: { attachment: Buffer; name: string }[];
  components: ReturnType<typeof resultButtons>;
  allowedMentions: { users: string[]; parse: [] };
}

function messagesFor(job: FinishedJob, context: BotContext, uploadLimit: number): ResultMessage[] {
  const names = resultFileNames(job.record, job.pngs.length);
  const groups = planUploads(job.pngs, uploadLimit);
  return groups.map((group, i) => ({
    content: i === 0 ? resultText(job.record, job.prompt, job.negativePrompt) : `(${i + 1}/${groups.length})`,
    files: group.map((index) => ({ attachment: job.pngs[index]!, name: names[index]! })),
    components: i === 0 ? resultButtons(job.record, context.model.supportsImageToImage) : [],
    allowedMentions: { users: [job.record.userId], parse: [] },
  }));
}

function deliveryOf(messages: readonly Message[]): Delivery {
  const first = messages[0]!;
  return { messageId: first.id, channelId: first.channelId, attachmentUrls: messages.flatMap((m) => m.attachments.map((a) => a.url)) };
}

async function sendableChannel(context: BotContext, channelId: string): Promise<SendableChannels> {
  const channel = await context.client.channels.fetch(channelId);
  if (!channel || !channel.isSendable()) throw new UserError('delivery.channel', 'I can no longer post in that channel.');
  return channel;
}

/**
 * What every Discord-facing observer shares: one status message kept up to date through a throttled editor
 * (queue position, then steps, with a Cancel button). Subclasses decide how that message is edited and how
 * the result or failure is delivered.
 */
abstract class StatusMessageObserver implements JobObserver {
  protected readonly editor: ThrottledEditor<StatusPayload>;
  private jobId: string | undefined;
  private statusMessageStored = false;

  /** @param edit - Shows a payload in the status message and returns that message (undefined when it did not edit). */
  constructor(
    protected readonly context: BotContext,
    edit: (payload: StatusPayload) => Promise<Message | undefined>,
    onEditError: (error: unknown) => void,
  ) {
    this.editor = new ThrottledEditor<StatusPayload>(
      async (payload) => this.storeStatusMessage(await edit(payload)),
      context.config.progress.editIntervalMs,
      onEditError,
    );
  }

  queued(position: number, record: JobRecord, expectedWaitMs?: number): void {
    this.jobId = record.id;
    this.editor.show({ content: queuedText(record, position, expectedWaitMs), components: cancelButton(record) });
  }

  started(record: JobRecord): void {
    this.jobId = record.id;
    this.editor.show({ content: progressText(record, 0, record.steps, 0), components: cancelButton(record) });
  }

  /**
   * Remembers the status message in the job's record once: if the process dies, the next start marks that
   * message interrupted instead of leaving a progress bar (and a Cancel button) that never moves again.
   */
  private storeStatusMessage(message: Message | undefined): void {
    if (this.statusMessageStored || message === undefined || this.jobId === undefined) return;
    this.statusMessageStored = true;
    this.context.store.updateJob(this.jobId, { statusMessageId: message.id });
  }

  progress(progress: StepProgress, record: JobRecord): void {
    this.editor.show({
      content: progressText(record, progress.step, progress.totalSteps, progress.elapsedMs),
      components: cancelButton(record),
    });
  }

  abstract deliver(job: FinishedJob): Promise<Delivery>;
  abstract failed(error: Error, record: JobRecord): Promise<void>;
}

/**
 * Shows a job started by a slash command, context menu or button through its (already deferred, public)
 * interaction reply. When the 15-minute token has run out by the time the result is ready, the result is
 * posted as a channel message that mentions the requester instead, so it is never lost.
 */
export class InteractionJobObserver extends StatusMessageObserver {
  private readonly tokenExpiresAt: number;

  /**
   * @param acknowledged - Settles when the interaction's acknowledgement (deferral) did; nothing is edited
   *   before it succeeded, and nothing at all when it failed.
   */
  constructor(
    private readonly interaction: RepliableInteraction,
    context: BotContext,
    private readonly acknowledged: Promise<void> = Promise.resolve(),
  ) {
    super(
      context,
      async (payload) => ((await this.isAcknowledged()) && this.tokenUsable() ? interaction.editReply(payload) : undefined),
      (error) => {
        if (!isExpiredToken(error))
          context.logger.warn({ err: error, interaction: interaction.id }, 'could not update the progress message');
      },
    );
    this.tokenExpiresAt = interaction.createdTimestamp + interactionTokenLifetimeMs - tokenSafetyMarginMs;
  }

  async deliver(job: FinishedJob): Promise<Delivery> {
    return this.editor.final(async () => {
      const messages = messagesFor(job, this.context, this.interaction.attachmentSizeLimit);
      if ((await this.isAcknowledged()) && this.tokenUsable()) {
        try {
          const sent: Message[] = [await this.interaction.editReply(messages[0]!)];
          for (const extra of messages.slice(1)) sent.push(await this.interaction.followUp(extra));
          return deliveryOf(sent);
        } catch (error) {
          if (!isExpiredToken(error)) throw error;
        }
      }
      return this.deliverToChannel(job.record, messages);
    });
  }

  async failed(error: Error, record: JobRecord): Promise<void> {
    const reason = failureReason(error, this.context, { job: record.id, guild: record.guildId, user: record.userId });
    await this.editor.final(async () => {
      // A job whose acknowledgement failed was never shown to anyone: there is nobody to tell.
      if (!(await this.isAcknowledged())) return;
      const content = failedText(record, reason);
      if (this.tokenUsable()) {
        try {
          await this.interaction.editReply({ content, components: [] });
          return;
        } catch (editError) {
          if (!isExpiredToken(editError)) throw editError;
        }
      }
      const channel = await sendableChannel(this.context, record.channelId);
      await channel.send({ content: `<@${record.userId}> ${content}`, allowedMentions: { users: [record.userId], parse: [] } });
    });
  }

  private isAcknowledged(): Promise<boolean> {
    return this.acknowledged.then(
      () => true,
      () => false,
    );
  }

  private tokenUsable(): boolean {
    return Date.now() < this.tokenExpiresAt;
  }

  private async deliverToChannel(record: JobRecord, messages: ResultMessage[]): Promise<Delivery> {
    const channel = await sendableChannel(this.context, record.channelId);
    const sent: Message[] = [];
    for (const message of messages) sent.push(await channel.send(message));
    this.context.logger.info({ job: record.id }, 'interaction token expired; result posted as a channel message');
    return deliveryOf(sent);
  }
}

/**
 * Shows a job requested by mentioning the bot in a message: a status reply to that message is edited with
 * the progress and finally carries the result.
 */
export class MessageJobObserver extends StatusMessageObserver {
  /**
   * @param status - The status reply, possibly still on its way; nothing is edited before it exists. When
   *   it could not be posted the job is cancelled by the caller, and a result that was faster is posted to
   *   the channel instead.
   */
  constructor(
    private readonly status: Promise<Message>,
    context: BotContext,
  ) {
    super(
      context,
      async (payload) => (await settled(status))?.edit(payload),
      (error) => context.logger.warn({ err: error }, 'could not update the status message'),
    );
  }

  async deliver(job: FinishedJob): Promise<Delivery> {
    return this.editor.final(async () => {
      const status = await settled(this.status);
      const channel = () => sendableChannel(this.context, job.record.channelId);
      const messages = messagesFor(job, this.context, attachmentLimitOf(status ?? (await channel())));
      const sent: Message[] = [status ? await status.edit(messages[0]!) : await (await channel()).send(messages[0]!)];
      for (const extra of messages.slice(1)) sent.push(await (await channel()).send(extra));
      return deliveryOf(sent);
    });
  }

  async failed(error: Error, record: JobRecord): Promise<void> {
    const reason = failureReason(error, this.context, { job: record.id, guild: record.guildId, user: record.userId });
    await this.editor.final(async () => {
      await (await settled(this.status))?.edit({ content: failedText(record, reason), components: [] });
    });
  }
}

/** The message once posted, or undefined when posting it failed (the caller handles that failure). */
function settled(message: Promise<Message>): Promise<Message | undefined> {
  return message.catch(() => undefined);
}

/** Upload limit for messages the bot posts itself, from the server's boost tier (10, 50 or 100 MiB). */
function attachmentLimitOf(where: Message | SendableChannels): number {
  const guild = 'guild' in where ? where.guild : null;
  const tier = guild?.premiumTier ?? 0;
  return tier >= 3 ? 100 * 2 ** 20 : tier === 2 ? 50 * 2 ** 20 : 10 * 2 ** 20;
}
