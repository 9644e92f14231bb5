import type { JobRecord } from '../store/index.js';
import type { BotContext } from './context.js';
import { fitMessage, quote } from './discord-text.js';
import { failedText } from './messages.js';

/**
 * Tells the requesters of jobs that a crash or restart interrupted, as far as their channels allow: the
 * job's frozen status message says so (and loses its Cancel button), and a notice mentions the requester.
 */
export async function reportInterruptedJobs(context: BotContext, jobs: readonly JobRecord[]): Promise<void> {
  if (jobs.length === 0) return;
  context.logger.warn({ jobs: jobs.map((j) => j.id) }, 'jobs interrupted by the previous shutdown');
  for (const job of jobs) {
    try {
      const channel = await context.client.channels.fetch(job.channelId);
      if (!channel?.isSendable()) continue;
      if (job.statusMessageId !== null) {
        await channel.messages
          .edit(job.statusMessageId, {
            content: failedText(job, 'the bot restarted before this picture was done. Please ask again.'),
            components: [],
            attachments: [],
          })
          .catch((error: unknown) =>
            context.logger.warn({ err: error, job: job.id }, 'could not mark the status message of an interrupted job'),
          );
      }
      await channel.send({
        content: fitMessage([
          `<@${job.userId}> The bot restarted before your picture **`,
          quote(job.prompt, 100),
          '** was done. Please ask again.',
        ]),
        allowedMentions: { users: [job.userId], parse: [] },
      });
    } catch (error) {
      context.logger.warn({ err: error, job: job.id }, 'could not report an interrupted job');
    }
  }
}
