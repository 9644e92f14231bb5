import type { Message, SendableChannels } from 'discord.js';
import { UserError } from '../errors.js';
import type { Delivery, FinishedJob } from '../jobs/job-observer.js';
import { resultButtons, type ResultActions } from './buttons.js';
import { byteSize } from '../byte-size.js';
import { resultFileNames, resultText } from './messages.js';
import { spoilerFileName, type PictureFate } from './nsfw-policy.js';

/** Discord's most files in one message. */
const maxFilesPerMessage = 10;

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
    if (current.length === maxFilesPerMessage || size + png.length > limitBytes) {
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
export interface ResultMessage {
  content: string;
  files: { attachment: Buffer; name: string }[];
  components: ReturnType<typeof resultButtons>;
  allowedMentions: { users: string[]; parse: [] };
}

/**
 * The messages that carry a result: the first has the text (mentioning the requester) and the buttons, the
 * others only their share of the files. `fates` (from the NSFW policy) leaves blocked pictures out — they are
 * never uploaded — and names spoilered ones `SPOILER_…`; without it every picture is shown. Empty when every
 * picture is blocked.
 */
export function resultMessages(
  job: FinishedJob,
  uploadLimit: number,
  actions: ResultActions,
  fates: readonly PictureFate[] = [],
): ResultMessage[] {
  const names = resultFileNames(job.record, job.pngs.length);
  const shown = job.pngs.map((_, index) => index).filter((index) => fates[index] !== 'block');
  const groups = planUploads(
    shown.map((index) => job.pngs[index]!),
    uploadLimit,
  ).map((group) => group.map((k) => shown[k]!));
  const fileName = (index: number) => (fates[index] === 'spoiler' ? spoilerFileName(names[index]!) : names[index]!);
  return groups.map((group, i) => ({
    content: i === 0 ? resultText(job.record, job.prompt, job.negativePrompt) : `(${i + 1}/${groups.length})`,
    files: group.map((index) => ({ attachment: job.pngs[index]!, name: fileName(index) })),
    components: i === 0 ? resultButtons(job.record, job.pngs.length, actions) : [],
    allowedMentions: { users: [job.record.userId], parse: [] },
  }));
}

/** Where the result messages ended up: the first message, and every picture's URL. */
export function deliveryOf(messages: readonly Message[]): Delivery {
  const first = messages[0]!;
  return { messageId: first.id, channelId: first.channelId, attachmentUrls: messages.flatMap((m) => m.attachments.map((a) => a.url)) };
}

/** Upload limit for messages the bot posts itself, from the server's boost tier (10, 50 or 100 MiB). */
export function attachmentLimitOf(where: Message | SendableChannels): number {
  const guild = 'guild' in where ? where.guild : null;
  const tier = guild?.premiumTier ?? 0;
  return tier >= 3 ? 100 * 2 ** 20 : tier === 2 ? 50 * 2 ** 20 : 10 * 2 ** 20;
}
