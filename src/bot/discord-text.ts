import { escapeMarkdown } from 'discord.js';
import { codePointLength, oneLine, shorten } from '../text.js';

/** Discord's longest message content, in code points (what its API counts). */
export const maxMessageLength = 2000;

/** Someone's text (a prompt, a setting value) to show in a message; {@link fitMessage} escapes and shortens it. */
export interface Quoted {
  readonly quoted: string;
  /** Most code points it may take once escaped. */
  readonly max: number;
}

/** Marks `text` as user text to show as typed, on one line, in at most `max` code points once escaped. */
export function quote(text: string, max: number = maxMessageLength): Quoted {
  return { quoted: text, max };
}

/** A part of a message: the bot's own markdown, or quoted user text. */
export type MessagePart = string | Quoted;

/**
 * User text as Discord markdown that shows it as typed: one line, bidirectional controls removed, formatting
 * characters, masked links (`[Free Nitro](https://…)` would otherwise be a link in the bot's own message),
 * headings and lists escaped.
 */
export function escapeUserText(text: string): string {
  return escapeMarkdown(oneLine(text), { maskedLink: true, heading: true, bulletedList: true, numberedList: true });
}

/** Escaped text cut to `max` code points, without leaving an escape backslash whose character was cut off. */
function shortenEscaped(escaped: string, max: number): string {
  const cut = shorten(escaped, max);
  if (cut === escaped || cut === '') return cut;
  const body = cut.slice(0, -1);
  const backslashes = /\\+$/u.exec(body)?.[0].length ?? 0;
  return `${backslashes % 2 === 1 ? body.slice(0, -1) : body}…`;
}

/**
 * A message from the bot's own text and quoted user text, within Discord's limit as measured after escaping:
 * each quote is escaped and cut to its own maximum, then the longest quotes are cut further until the whole
 * fits. The bot's own text is never cut, unless it alone is too long (then the end goes).
 */
export function fitMessage(parts: readonly MessagePart[], limit: number = maxMessageLength): string {
  const quotes = parts.map((part) => (typeof part === 'string' ? undefined : shortenEscaped(escapeUserText(part.quoted), part.max)));
  const fixed = parts.reduce((sum, part) => sum + (typeof part === 'string' ? codePointLength(part) : 0), 0);
  const lengths = quotes.map((text) => (text === undefined ? 0 : codePointLength(text)));
  const total = (cap: number) => lengths.reduce((sum, length) => sum + Math.min(length, cap), fixed);
  let cap = Math.max(0, ...lengths);
  if (total(cap) > limit) {
    // The largest common cap on the quotes that lets the message fit: the longest ones give way first.
    let low = 0;
    while (low < cap) {
      const middle = Math.ceil((low + cap) / 2);
      if (total(middle) <= limit) low = middle;
      else cap = middle - 1;
    }
  }
  const text = parts.map((part, i) => (typeof part === 'string' ? part : shortenEscaped(quotes[i]!, cap))).join('');
  return shorten(text, limit);
}

/** {@link fitMessage} of lines joined with line breaks. */
export function fitLines(lines: readonly (MessagePart | readonly MessagePart[])[], limit: number = maxMessageLength): string {
  const parts = lines.flatMap((line, i) => [
    ...(i > 0 ? ['\n'] : []),
    ...((Array.isArray(line) ? line : [line]) as readonly MessagePart[]),
  ]);
  return fitMessage(parts, limit);
}
