import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  StringSelectMenuBuilder,
  type MessageActionRowComponentBuilder,
} from 'discord.js';
import { UserError } from '../errors.js';
import type { JobRecord } from '../store/index.js';
import { resultButtons } from './buttons.js';
import type { BotContext } from './context.js';
import { customId } from './custom-ids.js';
import { fitMessage, quote } from './discord-text.js';
import { jobLabel, parameterLine, resultFileNames } from './messages.js';
import { resultActionsFor } from './result-actions.js';

/** Pictures on one page of `/history` (one embed each; Discord allows ten embeds, a select menu 25 options). */
export const historyPageSize = 5;

/** Where a history view is and whose it is, as its components carry it: `lc:history:<view>:<owner>:<page>`. */
export interface HistoryPlace {
  /** Whose pictures: only they see the (ephemeral) view. */
  readonly ownerId: string;
  /** The server (`null`: direct messages) whose pictures are listed. */
  readonly guildId: string | null;
  /** 0-based page. */
  readonly page: number;
}

/** A history view as discord.js sends or edits it. */
export interface HistoryMessage {
  content: string;
  embeds: EmbedBuilder[];
  components: ActionRowBuilder<MessageActionRowComponentBuilder>[];
  allowedMentions: { parse: [] };
}

/** What a result's pictures look like now: fresh attachment URLs, or that the result message is gone. */
interface ResultPictures {
  /** URL of each picture, in order (absent: unknown). */
  readonly urls: readonly (string | undefined)[];
  /** The result message, when it still exists. */
  readonly link: string | undefined;
  readonly deleted: boolean;
}

/** `https://discord.com/channels/…` of a job's result message. */
function resultLink(job: JobRecord): string | undefined {
  if (job.resultChannelId === null || job.resultMessageId === null) return undefined;
  return `https://discord.com/channels/${job.guildId ?? '@me'}/${job.resultChannelId}/${job.resultMessageId}`;
}

/**
 * The pictures of a delivered job as they are now. Discord's attachment URLs are signed and expire after about a
 * day, so the result message is fetched for fresh ones; a message that is gone is reported as deleted, and
 * where it cannot be read the stored URLs are the best there is.
 */
async function resultPictures(context: BotContext, job: JobRecord): Promise<ResultPictures> {
  const names = resultFileNames(job, job.count);
  const stored: ResultPictures = { urls: names.map((_, i) => job.attachmentUrls[i]), link: resultLink(job), deleted: false };
  if (job.resultChannelId === null || job.resultMessageId === null) return stored;
  let channel;
  try {
    channel = await context.client.channels.fetch(job.resultChannelId);
  } catch {
    return stored;
  }
  if (!channel?.isTextBased()) return stored;
  try {
    const message = await channel.messages.fetch(job.resultMessageId);
    return {
      // Pictures past the first message of a split result are not on it: their stored URLs stand in.
      urls: names.map((name, i) => message.attachments.find((a) => a.name === name)?.url ?? job.attachmentUrls[i]),
      link: stored.link,
      deleted: false,
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // 10008 Unknown Message: deleted. Anything else (no access, a network failure): keep what is stored.
    return code === 10008 ? { urls: [], link: undefined, deleted: true } : stored;
  }
}

/** A job's title in a list: its label and prompt. */
function titleOf(job: JobRecord, number?: number): string {
  return fitMessage([`${number !== undefined ? `${number}. ` : ''}${jobLabel(job)}: `, quote(job.prompt, 200)], 256);
}

/** One picture's embed in a list or on its own (`large`: the picture as the embed's image). */
function jobEmbed(job: JobRecord, pictures: ResultPictures, options: { number?: number; large: boolean }): EmbedBuilder {
  const lines = [parameterLine(job), `<t:${Math.floor(job.createdAt / 1000)}:R>${pictures.link ? ` · [open](${pictures.link})` : ''}`];
  if (pictures.deleted) lines.push('The message with this picture was deleted.');
  const embed = new EmbedBuilder().setTitle(titleOf(job, options.number)).setDescription(lines.join('\n'));
  const first = pictures.urls[0];
  if (first !== undefined) {
    if (options.large) embed.setImage(first);
    else embed.setThumbnail(first);
  }
  return embed;
}

function pageButtons(place: HistoryPlace, pages: number): ActionRowBuilder<MessageActionRowComponentBuilder> {
  const to = (page: number) => customId('history', 'page', place.ownerId, String(page));
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(to(place.page - 1))
      .setLabel('Newer')
      .setEmoji('◀️')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(place.page <= 0),
    new ButtonBuilder()
      // A label, not a control: its id only has to be unique in the message.
      .setCustomId(customId('history', 'at', place.ownerId, String(place.page)))
      .setLabel(`Page ${place.page + 1} of ${Math.max(1, pages)}`)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(true),
    new ButtonBuilder()
      .setCustomId(to(place.page + 1))
      .setLabel('Older')
      .setEmoji('▶️')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(place.page >= pages - 1),
  );
}

/**
 * A page of someone's pictures in one server (or their direct messages), newest first: one embed per picture
 * with its thumbnail, parameters, age and a link to it; a menu to open one (for its buttons); and paging.
 */
export async function historyListView(context: BotContext, place: HistoryPlace): Promise<HistoryMessage> {
  const { jobs, total } = context.store.jobHistory(place.ownerId, place.guildId, historyPageSize, place.page * historyPageSize);
  const pages = Math.ceil(total / historyPageSize);
  if (total === 0) {
    return {
      content: `🖼️ You have no pictures ${place.guildId === null ? 'in our direct messages' : 'in this server'} yet. Try \`/imagine\`.`,
      embeds: [],
      components: [],
      allowedMentions: { parse: [] },
    };
  }
  if (jobs.length === 0) return historyListView(context, { ...place, page: Math.max(0, pages - 1) });
  const pictures = await Promise.all(jobs.map((job) => resultPictures(context, job)));
  const first = place.page * historyPageSize + 1;
  const menu = new StringSelectMenuBuilder()
    .setCustomId(customId('history', 'open', place.ownerId, String(place.page)))
    .setPlaceholder('Open a picture for Vary, Upscale, Reroll…')
    .addOptions(
      jobs.map((job, i) => ({
        label: fitMessage([`${first + i}. `, quote(job.prompt, 90)], 100),
        description: fitMessage([parameterLine(job).replace(/`/gu, '')], 100),
        value: job.id,
      })),
    );
  return {
    content: `🖼️ **Your pictures ${place.guildId === null ? 'in our direct messages' : 'in this server'}** — ${total} in all, newest first.`,
    embeds: jobs.map((job, i) => jobEmbed(job, pictures[i]!, { number: first + i, large: false })),
    components: [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(menu), pageButtons(place, pages)],
    allowedMentions: { parse: [] },
  };
}

/**
 * One picture of the history with the buttons of its result (Reroll, Vary, Upscale, Remix, Info, Delete, acting as
 * they do under the result) and a way back to its page.
 */
export async function historyJobView(context: BotContext, place: HistoryPlace, jobId: string): Promise<HistoryMessage> {
  const job = context.store.getJob(jobId);
  if (!job || job.userId !== place.ownerId || job.guildId !== place.guildId || job.status !== 'succeeded') {
    throw new UserError('history.gone', 'That picture is no longer in your history.');
  }
  const pictures = await resultPictures(context, job);
  const back = new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId('history', 'page', place.ownerId, String(place.page)))
      .setLabel('Back to the list')
      .setEmoji('↩️')
      .setStyle(ButtonStyle.Secondary),
  );
  const buttons = pictures.deleted ? [] : resultButtons(job, job.count, resultActionsFor(context, job.guildId));
  // Embeds that share a URL show as one gallery: the result's other pictures join the first.
  const embeds = [jobEmbed(job, pictures, { large: true })];
  const gallery = pictures.link ?? `https://discord.com/channels/${job.guildId ?? '@me'}/${job.channelId}`;
  embeds[0]!.setURL(gallery);
  for (const url of pictures.urls.slice(1)) if (url !== undefined) embeds.push(new EmbedBuilder().setURL(gallery).setImage(url));
  return {
    content: job.count > 1 ? `🖼️ ${job.count} pictures: the buttons numbered 1 to ${job.count} act on each.` : '🖼️',
    embeds,
    components: [...buttons, back],
    allowedMentions: { parse: [] },
  };
}
