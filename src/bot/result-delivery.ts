import {
  DiscordAPIError,
  MessageFlags,
  RESTJSONErrorCodes,
  type Message,
  type RepliableInteraction,
  type SendableChannels,
} from 'discord.js';
import { UserError, type Failure } from '../errors.js';
import type { Delivery, FinishedJob } from '../jobs/job-observer.js';
import type { JobRecord } from '../store/index.js';
import { settingsFor, type BotContext } from './context.js';
import { failedText } from './messages.js';
import { decideNsfw, withheldText, type NsfwDecision } from './nsfw-policy.js';
import { isAgeRestricted } from './place.js';
import { resultActionsFor } from './result-actions.js';
import { StatusMessageObserver } from './status-message.js';
import { attachmentLimitOf, deliveryOf, resultMessages, type ResultMessage } from './upload-plan.js';

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

async function sendableChannel(context: BotContext, channelId: string): Promise<SendableChannels> {
  const channel = await context.client.channels.fetch(channelId);
  if (!channel || !channel.isSendable()) throw new UserError('delivery.channel', 'I can no longer post in that channel.');
  return channel;
}

/**
 * The NSFW policy's decision on a finished job's pictures, made before anything is uploaded: with today's
 * settings of the server and today's age restriction of the channel (an admin may have changed either while the
 * job waited). A channel that cannot be read counts as not age-restricted.
 */
async function nsfwDecisionOf(context: BotContext, job: FinishedJob): Promise<NsfwDecision> {
  const { record, pngs, flagged } = job;
  if (!flagged?.some(Boolean)) return decideNsfw(flagged, pngs.length, context.defaults, { inServer: false, ageRestricted: false });
  const channel = await context.client.channels.fetch(record.channelId).catch(() => null);
  const place = { inServer: record.guildId !== null, ageRestricted: isAgeRestricted(channel) };
  const decision = decideNsfw(flagged, pngs.length, settingsFor(context, record.guildId), place);
  context.logger.info(
    { job: record.id, flagged: decision.flagged, blocked: decision.blocked, ageRestricted: place.ageRestricted, fates: decision.fates },
    'the safety checker flagged pictures',
  );
  return decision;
}

/**
 * Tells the requester privately, in a direct message, why pictures were not posted (a request by mention has no
 * private reply). When they do not take direct messages, the log says so.
 */
async function tellInDirectMessage(context: BotContext, userId: string, content: string): Promise<void> {
  try {
    const user = await context.client.users.fetch(userId);
    await user.send({ content, allowedMentions: { parse: [] } });
  } catch (error) {
    context.logger.info({ user: userId, err: error }, 'could not tell the requester privately why pictures were not posted');
  }
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
      const decision = await nsfwDecisionOf(this.context, job);
      const actions = resultActionsFor(this.context, job.record.guildId);
      const messages = resultMessages(job, this.interaction.attachmentSizeLimit, actions, decision.fates);
      if ((await this.isAcknowledged()) && this.tokenUsable()) {
        try {
          const sent: Message[] = [
            await this.interaction.editReply(messages[0] ?? { content: withheldText(job.pngs.length), components: [], attachments: [] }),
          ];
          for (const extra of messages.slice(1)) sent.push(await this.interaction.followUp(extra));
          if (decision.privateNotice) {
            await this.interaction.followUp({
              content: decision.privateNotice,
              flags: MessageFlags.Ephemeral,
              allowedMentions: { parse: [] },
            });
          }
          return deliveryOf(sent);
        } catch (error) {
          if (!isExpiredToken(error)) throw error;
        }
      }
      return this.deliverToChannel(job, messages, decision);
    });
  }

  async failed(failure: Failure, record: JobRecord): Promise<void> {
    await this.editor.final(async () => {
      // A job whose acknowledgement failed was never shown to anyone: there is nobody to tell.
      if (!(await this.isAcknowledged())) return;
      const content = failedText(record, failure.message);
      if (this.tokenUsable()) {
        try {
          // `attachments: []` takes a live preview off the message.
          await this.interaction.editReply({ content, components: [], attachments: [] });
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

  private async deliverToChannel(job: FinishedJob, messages: ResultMessage[], decision: NsfwDecision): Promise<Delivery> {
    const { record } = job;
    const channel = await sendableChannel(this.context, record.channelId);
    const sent: Message[] = [];
    for (const message of messages) sent.push(await channel.send(message));
    if (sent.length === 0) {
      sent.push(
        await channel.send({
          content: `<@${record.userId}> ${withheldText(job.pngs.length)}`,
          allowedMentions: { users: [record.userId], parse: [] },
        }),
      );
    }
    if (decision.privateNotice) await tellInDirectMessage(this.context, record.userId, decision.privateNotice);
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
      const limit = attachmentLimitOf(status ?? (await channel()));
      const decision = await nsfwDecisionOf(this.context, job);
      const messages = resultMessages(job, limit, resultActionsFor(this.context, job.record.guildId), decision.fates);
      const first = messages[0] ?? { content: withheldText(job.pngs.length), components: [], files: [] };
      const sent: Message[] = [status ? await status.edit(first) : await (await channel()).send(first)];
      for (const extra of messages.slice(1)) sent.push(await (await channel()).send(extra));
      if (decision.privateNotice) await tellInDirectMessage(this.context, job.record.userId, decision.privateNotice);
      return deliveryOf(sent);
    });
  }

  async failed(failure: Failure, record: JobRecord): Promise<void> {
    await this.editor.final(async () => {
      await (await settled(this.status))?.edit({ content: failedText(record, failure.message), components: [], attachments: [] });
    });
  }
}

/** The message once posted, or undefined when posting it failed (the caller handles that failure). */
function settled(message: Promise<Message>): Promise<Message | undefined> {
  return message.catch(() => undefined);
}
