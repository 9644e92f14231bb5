import { PermissionFlagsBits, type Attachment, type Message, type TextBasedChannel } from 'discord.js';
import { noImageToRemix, UserError } from '../errors.js';
import type { SourceImage } from './generation-request.js';

const imageExtensions = /\.(png|jpe?g|webp|gif|avif)$/i;

/** Whether an attachment claims to be a picture (by content type, else by file name). */
export function isImageAttachment(attachment: Attachment): boolean {
  if (attachment.contentType) return attachment.contentType.startsWith('image/');
  return imageExtensions.test(attachment.name);
}

/** A source image from an attachment, as Discord describes it (size checked before any download). */
export function sourceFromAttachment(attachment: Attachment): SourceImage {
  return { url: attachment.url, size: attachment.size, contentType: attachment.contentType, name: attachment.name };
}

/** The first picture of a message: an image attachment, else an embed's image. */
export function firstImageOf(message: Message): SourceImage | undefined {
  const attachment = message.attachments.find(isImageAttachment);
  if (attachment) return sourceFromAttachment(attachment);
  for (const embed of message.embeds) {
    const url = embed.image?.url ?? embed.thumbnail?.url;
    if (url) return { url };
  }
  return undefined;
}

/** The refusal when the bot may not read a channel's history (Read Message History). */
export function noHistoryError(): UserError {
  return new UserError(
    'remix.noHistory',
    "I can't read this channel's history, so attach the picture to remix (or use Apps › Remix on its message).",
  );
}

/** A picture found in a channel, with the message that carries it. */
export interface LatestImage {
  readonly source: SourceImage;
  readonly message: Message;
}

/**
 * The most recent picture in a channel among the last 50 messages the bot can read. Needs the Read
 * Message History permission; without it the user is told to attach a picture instead.
 */
export async function latestImageIn(channel: TextBasedChannel | null, canReadHistory: boolean): Promise<LatestImage> {
  if (!channel || !canReadHistory) throw noHistoryError();
  const messages = await channel.messages.fetch({ limit: 50 });
  for (const message of messages.values()) {
    const image = firstImageOf(message);
    if (image) return { source: image, message };
  }
  throw noImageToRemix(
    'I found no picture in the last 50 messages here. Attach one to /remix, or use Apps › Remix on a message with a picture.',
  );
}

/** The permission `latestImageIn` needs. */
export const readHistoryPermission = PermissionFlagsBits.ReadMessageHistory;
