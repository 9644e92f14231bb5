import type { Message, SendableChannels } from 'discord.js';
import { UserError, type Failure } from '../errors.js';
import type { Delivery, FinishedJob } from '../jobs/job-observer.js';
import type { JobRecord } from '../store/index.js';
import type { BotContext } from './context.js';
import { fitMessage, quote } from './discord-text.js';
import { failedText } from './messages.js';
import { resultActionsFor } from './result-actions.js';
import { StatusMessageObserver } from './status-message.js';
import { attachmentLimitOf, deliveryOf, resultMessages } from './upload-plan.js';

/**
 * Shows a job the bot took up again after a restart (it was still with the remote workers): its stored
 * status message goes on showing the steps, and the result is posted in the job's channel with a mention
 * (the interaction that asked for it is gone with the previous process), the status message pointing to it.
 */
export class ResumedJobObserver extends StatusMessageObserver {
  constructor(context: BotContext, record: JobRecord) {
    super(
      context,
      async (payload) => {
        if (record.statusMessageId === null) return undefined;
        return (await channelOf(context, record)).messages.edit(record.statusMessageId, payload);
      },
      (error) => context.logger.debug({ err: error, job: record.id }, 'could not update the status message of a resumed job'),
    );
  }

  async deliver(job: FinishedJob): Promise<Delivery> {
    return this.editor.final(async () => {
      const channel = await channelOf(this.context, job.record);
      const messages = resultMessages(job, attachmentLimitOf(channel), resultActionsFor(this.context, job.record.guildId));
      const sent: Message[] = [];
      for (const message of messages) sent.push(await channel.send(message));
      await this.markStatus(
        channel,
        job.record,
        fitMessage(['✅ **', quote(job.record.prompt, 120), `** — done (the bot restarted meanwhile): ${sent[0]!.url}`]),
      );
      return deliveryOf(sent);
    });
  }

  async failed(failure: Failure, record: JobRecord): Promise<void> {
    await this.editor.final(async () => {
      const channel = await channelOf(this.context, record);
      const content = failedText(record, failure.message);
      await this.markStatus(channel, record, content);
      await channel.send({ content: `<@${record.userId}> ${content}`, allowedMentions: { users: [record.userId], parse: [] } });
    });
  }

  /** The frozen status message says how it ended and loses its Cancel button (when it still exists). */
  private async markStatus(channel: SendableChannels, record: JobRecord, content: string): Promise<void> {
    if (record.statusMessageId === null) return;
    await channel.messages
      .edit(record.statusMessageId, { content, components: [] })
      .catch((error: unknown) =>
        this.context.logger.debug({ err: error, job: record.id }, 'could not mark the status message of a resumed job'),
      );
  }
}

async function channelOf(context: BotContext, record: JobRecord): Promise<SendableChannels> {
  const channel = await context.client.channels.fetch(record.channelId);
  if (!channel || !channel.isSendable()) throw new UserError('delivery.channel', 'I can no longer post in that channel.');
  return channel;
}
