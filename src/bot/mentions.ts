import type { Message } from 'discord.js';
import { noImageToRemix, UserError } from '../errors.js';
import type { UserGenerationOptions } from '../settings/index.js';
import type { BotContext } from './context.js';
import { replyWithMessageError } from './error-replies.js';
import type { SourceImage } from './generation-request.js';
import { jobOfMessage } from './job-lookup.js';
import { placeOfMessage } from './place.js';
import { runMessageRequest } from './run-request.js';
import { firstImageOf } from './source-images.js';

/** What a mention asked for. */
export interface MentionCommand {
  readonly kind: 'imagine' | 'remix';
  readonly options: Omit<UserGenerationOptions, 'kind'>;
}

const numberKeys = {
  strength: 'strength',
  steps: 'steps',
  guidance: 'guidance',
  cfg: 'guidance',
  width: 'width',
  height: 'height',
  count: 'count',
} as const;
const textKeys = { seed: 'seed', scheduler: 'scheduler', sampler: 'scheduler', negative: 'negativePrompt' } as const;

/**
 * Parses the text after the bot's mention: `remix strength:0.7 a watercolor dog`, `imagine a cat steps:30`,
 * `negative:"blurry, dark"`. `key:value` options may stand anywhere; everything else is the prompt. Without
 * a leading `remix` or `imagine`, a mention is a remix (it answers a picture). Inside the prompt's brackets a
 * `word:1.2` is a weight, not an option: `(sharp steps:1.3)` stays prompt text.
 */
export function parseMentionCommand(text: string): MentionCommand {
  let rest = text.trim();
  let kind: MentionCommand['kind'] = 'remix';
  const verb = /^(remix|imagine)\b/i.exec(rest);
  if (verb) {
    kind = verb[1]!.toLowerCase() as MentionCommand['kind'];
    rest = rest.slice(verb[0].length);
  }
  const options: Record<string, string | number> = {};
  const promptParts: string[] = [];
  const tokenPattern = /([a-z]+):(?:"([^"]*)"|“([^”]*)”|(\S+))|(\S+)/giu;
  let openBrackets = 0;
  for (const match of rest.matchAll(tokenPattern)) {
    const inBrackets = openBrackets > 0;
    const key = inBrackets ? undefined : match[1]?.toLowerCase();
    const value = match[2] ?? match[3] ?? match[4];
    if (!key || value === undefined || !(key in numberKeys || key in textKeys)) {
      openBrackets = Math.max(0, openBrackets + bracketBalance(match[0]));
      promptParts.push(match[0]);
    } else if (key in numberKeys) {
      const number = Number(value.replace(',', '.'));
      if (!Number.isFinite(number))
        throw new UserError(`options.${key}`, `Expected \`${key}\` to be a number, got \`${value.slice(0, 20)}\`.`);
      options[numberKeys[key as keyof typeof numberKeys]] = number;
    } else {
      options[textKeys[key as keyof typeof textKeys]] = value;
    }
  }
  return { kind, options: { prompt: promptParts.join(' '), ...options } as MentionCommand['options'] };
}

/** Opening minus closing round brackets of a piece of prompt (escaped ones do not count). */
function bracketBalance(text: string): number {
  let balance = 0;
  let escaped = false;
  for (const character of text) {
    if (!escaped && character === '(') balance++;
    else if (!escaped && character === ')') balance--;
    escaped = !escaped && character === '\\';
  }
  return balance;
}

/** Removes mentions of the bot from message text. */
function withoutBotMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').trim();
}

/**
 * A message that mentions the bot. As a reply to a picture (or with a picture attached) it is a remix;
 * `imagine …` makes a new picture. Messages that mention the bot carry their content without the
 * privileged Message Content intent; the picture of the message replied to needs that intent, so without
 * it people are told to attach the picture or use Apps › Remix.
 */
export async function handleMention(message: Message, context: BotContext): Promise<void> {
  const botId = context.client.user?.id;
  if (!botId || message.author.bot || !message.mentions.users.has(botId)) return;
  // A reply pings its author by default; only an explicit mention in the text is a request.
  if (!new RegExp(`<@!?${botId}>`).test(message.content)) return;

  let command: MentionCommand;
  let source: SourceImage | undefined;
  let parentJobId: string | null = null;
  try {
    command = parseMentionCommand(withoutBotMention(message.content, botId));
    if (command.kind === 'remix') {
      source = firstImageOf(message);
      if (!source) {
        const referenced = await referencedImage(message, context);
        source = referenced.source;
        parentJobId = jobOfMessage(context, referenced.message)?.id ?? null;
      }
    }
  } catch (error) {
    await replyWithMessageError(message, context, error);
    return;
  }
  await runMessageRequest(message, context, {
    kind: command.kind,
    ...placeOfMessage(message),
    userOptions: command.options,
    ...(source ? { source } : {}),
    parentJobId,
  });
}

async function referencedImage(message: Message, context: BotContext): Promise<{ source: SourceImage; message: Message }> {
  if (!message.reference?.messageId) {
    throw noImageToRemix(
      'Reply to a message with a picture (or attach one) when you mention me to remix it. To make a new picture, write `imagine` first.',
    );
  }
  const referenced = await message.fetchReference().catch(() => undefined);
  const image = referenced ? firstImageOf(referenced) : undefined;
  if (image && referenced) return { source: image, message: referenced };
  const hint = context.config.discord.messageContentIntent
    ? ''
    : ' (If it has one: without the Message Content intent Discord does not show me pictures in messages that do not mention me — ' +
      'attach the picture to your message, or use Apps › Remix on it.)';
  throw noImageToRemix(`The message you replied to has no picture I can see.${hint}`);
}
