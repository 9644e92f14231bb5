/**
 * Text that quotes what someone typed, shortened for a message. Every layer that puts user or file text into
 * a message shortens it here, so a cut never splits a character (an emoji is two UTF-16 units: slicing
 * between them leaves a lone surrogate that shows as `�`) and is always marked the same way.
 */

/** How many code points (what Discord's and Python's `len` count) `text` has. */
export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** `text` cut to at most `max` code points, the last of which is `…` when anything was cut. */
export function shorten(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text; // at most `max` UTF-16 units, so at most `max` code points
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The longest start of `text` that has at most `maxCodePoints` code points and at most `maxUnits` UTF-16 units
 * and ends on a whole character, without a mark: for a value someone will edit (a form field prefilled with
 * their prompt), where an added `…` would become part of what they send. discord.js's builders and Discord's
 * client count UTF-16 units; Discord's API and our own checks count code points.
 */
export function leadingWhole(text: string, maxCodePoints: number, maxUnits: number = Number.POSITIVE_INFINITY): string {
  let units = 0;
  let codePoints = 0;
  for (const char of text) {
    if (codePoints + 1 > maxCodePoints || units + char.length > maxUnits) return text.slice(0, units);
    units += char.length;
    codePoints++;
  }
  return text;
}

/**
 * Unicode bidirectional controls (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069): in quoted text they
 * reorder what follows them, e.g. make `exe.png` read as `gnp.exe`.
 */
export const bidiControls = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** `text` on one line, white space runs as single spaces, bidirectional controls removed. */
export function oneLine(text: string): string {
  return text.replace(bidiControls, '').replace(/\s+/gu, ' ');
}
