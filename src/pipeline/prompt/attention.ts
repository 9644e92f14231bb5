import { UserError } from '../../errors.js';
import { pythonSpaceClass } from '../../tokenizer/python-text.js';

/**
 * AUTOMATIC1111's emphasis syntax (`modules/prompt_parser.py`, `parse_prompt_attention`), ported rule for rule:
 *
 * - `(text)` multiplies the weight of `text` by 1.1, `[text]` divides it by 1.1, nesting multiplies;
 * - `(text:1.5)` sets the factor explicitly (spaces around the number are allowed; 0 and negative numbers too);
 * - `\(` `\)` `\[` `\]` `\\` are the literal characters; a lone `\` before anything else disappears;
 * - a `)` or `]` with nothing open is plain text, and brackets still open at the end weight everything after them;
 * - the word `BREAK` (upper case, on its own) ends the current 75-token chunk;
 * - neighbouring pieces of equal weight are joined.
 *
 * Weights are float64 products formed in the order the brackets close, as in Python, so they match A1111's numbers
 * exactly (`((x))` is 1.2100000000000002).
 */

/** A piece of the prompt and the weight its tokens get. */
export interface WeightedText {
  readonly text: string;
  readonly weight: number;
}

/** Weight A1111 gives its `BREAK` markers; a marker inside brackets is multiplied and stops being one. */
const breakWeight = -1;

/** True for the chunk-break marker `BREAK` leaves in a parse (text `BREAK`, weight exactly −1). */
export function isBreakMarker(piece: WeightedText): boolean {
  return piece.text === 'BREAK' && piece.weight === breakWeight;
}

const space = `[${pythonSpaceClass}]`;
// Python's `\w` on str: letters, digits and other numbers, and the underscore.
const wordCharacter = '[\\p{L}\\p{Nd}\\p{Nl}\\p{No}_]';

/**
 * A1111's `re_attention`, alternatives in its order: escapes, a lone backslash, `(`, `[`, `:weight)`, `)`, `]`,
 * a run of plain text, a lone `:`. Python's `\s` and Unicode `\d` are spelled out (JavaScript's differ).
 */
const attentionToken = new RegExp(
  [
    '\\\\\\(',
    '\\\\\\)',
    '\\\\\\[',
    '\\\\\\]',
    '\\\\\\\\',
    '\\\\',
    '\\(',
    '\\[',
    `:${space}*([+-]?[.\\p{Nd}]+)${space}*\\)`,
    '\\)',
    '\\]',
    '[^\\\\()\\[\\]:]+',
    ':',
  ].join('|'),
  'gu',
);

/** A1111's `re_break`, `\s*\bBREAK\b\s*`, with Python's Unicode word boundaries. */
const breakPattern = new RegExp(`${space}*(?<!${wordCharacter})BREAK(?!${wordCharacter})${space}*`, 'u');

const roundBracketMultiplier = 1.1;
const squareBracketMultiplier = 1 / 1.1;

/** Parses a prompt into weighted pieces and `BREAK` markers, exactly as A1111's `parse_prompt_attention`. */
export function parsePromptAttention(prompt: string): WeightedText[] {
  const result: { text: string; weight: number }[] = [];
  const roundBrackets: number[] = [];
  // Where each open `(` stands in the prompt, to quote the whole `(text:weight)` in an error.
  const roundBracketOffsets: number[] = [];
  const squareBrackets: number[] = [];
  const multiplyRange = (start: number, multiplier: number) => {
    for (let p = start; p < result.length; p++) result[p]!.weight *= multiplier;
  };

  for (const match of prompt.matchAll(attentionToken)) {
    const token = match[0];
    const weight = match[1];
    if (token.startsWith('\\')) {
      result.push({ text: token.slice(1), weight: 1 });
    } else if (token === '(') {
      roundBrackets.push(result.length);
      roundBracketOffsets.push(match.index);
    } else if (token === '[') {
      squareBrackets.push(result.length);
    } else if (weight !== undefined && roundBrackets.length > 0) {
      const quoted = prompt.slice(roundBracketOffsets.pop(), match.index + token.length);
      multiplyRange(roundBrackets.pop()!, parseWeight(weight, quoted));
    } else if (token === ')' && roundBrackets.length > 0) {
      roundBracketOffsets.pop();
      multiplyRange(roundBrackets.pop()!, roundBracketMultiplier);
    } else if (token === ']' && squareBrackets.length > 0) {
      multiplyRange(squareBrackets.pop()!, squareBracketMultiplier);
    } else {
      token.split(breakPattern).forEach((part, i) => {
        if (i > 0) result.push({ text: 'BREAK', weight: breakWeight });
        result.push({ text: part, weight: 1 });
      });
    }
  }
  for (const start of roundBrackets) multiplyRange(start, roundBracketMultiplier);
  for (const start of squareBrackets) multiplyRange(start, squareBracketMultiplier);

  if (result.length === 0) result.push({ text: '', weight: 1 });
  // Join runs of equal weights (A1111 compares the floats exactly).
  for (let i = 0; i + 1 < result.length; ) {
    if (result[i]!.weight === result[i + 1]!.weight) {
      result[i]!.text += result[i + 1]!.text;
      result.splice(i + 1, 1);
    } else {
      i++;
    }
  }
  return result;
}

/**
 * Python's `float()` of the number in `(text:number)`. The pattern admits strings Python refuses (`1.2.3`, `.`),
 * which make A1111 fail with a ValueError; here they are a clear error. Unicode digits count, as in Python.
 */
function parseWeight(digits: string, quoted: string): number {
  const value = Number(asciiDigits(digits));
  if (!Number.isFinite(value)) {
    throw new UserError(
      'prompt.badWeight',
      `\`${quoted.length > 60 ? `${quoted.slice(0, 40)}…${quoted.slice(-15)}` : quoted}\` in the prompt: \`${digits}\` is not a number. Write a weight like \`(word:1.2)\`, or \`\\(\` and \`\\)\` for literal brackets.`,
    );
  }
  return value;
}

const decimalDigit = /\p{Nd}/u;

/** Replaces every Unicode decimal digit by its ASCII digit (Unicode encodes each 0–9 run contiguously). */
function asciiDigits(text: string): string {
  return Array.from(text, (character) => {
    if (character >= '0' && character <= '9') return character;
    if (!decimalDigit.test(character)) return character;
    let zero = character.codePointAt(0)!;
    while (decimalDigit.test(String.fromCodePoint(zero - 1))) zero--;
    return String((character.codePointAt(0)! - zero) % 10);
  }).join('');
}
