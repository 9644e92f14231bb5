import type { Message } from 'discord.js';
import { UserError } from '../errors.js';
import type { JobRecord } from '../store/index.js';
import type { BotContext } from './context.js';
import { parseCustomId } from './custom-ids.js';

/**
 * The user's own part of a stored negative prompt: the server's prefix is put in front again when a reroll
 * (or Vary, Upscale) is checked, so it must not be there twice.
 */
export function withoutServerPrefix(negativePrompt: string, serverPrefix: string): string {
  const prefix = serverPrefix.trim();
  if (!prefix) return negativePrompt;
  if (negativePrompt === prefix) return '';
  return negativePrompt.startsWith(`${prefix}, `) ? negativePrompt.slice(prefix.length + 2) : negativePrompt;
}

/** The stored job a button or form names, or a UserError when its record is gone. */
export function storedJob(context: BotContext, jobId: string | undefined): JobRecord {
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
