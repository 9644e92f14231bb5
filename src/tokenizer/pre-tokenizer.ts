import { regexModuleSpaceClass } from './python-text.js';

/**
 * A regular expression source matching `literal` as the `regex` module's IGNORECASE does (simple case
 * folding): ASCII letters in both cases, plus U+017F for `s` and U+212A for `k`.
 */
function caseless(literal: string): string {
  let source = '';
  for (const char of literal) {
    const lower = char.toLowerCase();
    if (lower >= 'a' && lower <= 'z') {
      const extra = lower === 's' ? '\u017f' : lower === 'k' ? '\u212a' : '';
      source += `[${lower}${lower.toUpperCase()}${extra}]`;
    } else {
      source += char.replace(/[|\\^$.*+?()[\]{}]/g, '\\$&');
    }
  }
  return source;
}

/**
 * CLIP's word splitter, `regex.findall` with
 * `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` and
 * `regex.IGNORECASE`, as the Python `regex` module evaluates it:
 * - `\s` is Unicode White_Space (not JavaScript's `\s`);
 * - case-insensitive literals also match `K`-style case variants: `'s` matches `'ſ` (U+017F folds to `s`);
 *   no other contraction letter has such a variant;
 * - under IGNORECASE, U+0345 (combining ypogegrammeni, which case-folds to the letter ι) is excluded from the
 *   last class but not a letter either, so the `regex` module skips it; it is excluded here too.
 * Case-insensitivity is spelled out instead of using JavaScript's `i` flag, whose folding of negated
 * property classes differs.
 */
const clipWordPattern = new RegExp(
  [
    caseless('<|startoftext|>'),
    caseless('<|endoftext|>'),
    ...["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map(caseless),
    '\\p{L}+',
    '\\p{N}',
    `[^${regexModuleSpaceClass}\\p{L}\\p{N}\\u0345]+`,
  ].join('|'),
  'gu',
);

/** The words (pre-tokens) of an already cleaned prompt, in order. */
export function splitWords(cleanText: string): string[] {
  return cleanText.match(clipWordPattern) ?? [];
}
