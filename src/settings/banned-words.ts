import { cleanPromptText } from '../tokenizer/index.js';

/**
 * Scripts written without spaces between words: a banned word in one of them matches anywhere, because
 * there are no word boundaries to look for.
 */
const unspacedScript =
  '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}' +
  '\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\p{Script=Tibetan}]';
/**
 * Scripts whose accented letters NFC composes: a combining mark still standing after a letter of theirs is
 * decoration that CLIP's pre-tokenizer splits off (`cat\u0301` is read as the word `cat`), so it ends the word.
 * In other scripts (Devanagari, Arabic, …) marks are vowels and signs inside words and continue them.
 */
const composingScript = '[\\p{Script=Latin}\\p{Script=Greek}\\p{Script=Cyrillic}]';
/**
 * A character that continues a word: a letter, or a combining mark inside a word of a non-composing script.
 * Digits and `_` are boundaries, as for CLIP's pre-tokenizer (`cat1` and `cat_` both give the token `cat`).
 */
const wordChar = `(?:(?!${unspacedScript})(?:\\p{L}|(?<=(?!${composingScript})\\p{L}\\p{M}*)\\p{M}))`;
const wordCharTest = new RegExp(`^${wordChar}$`, 'u');
/** Invisible format characters (zero-width space and joiners, soft hyphen, BOM, …): they split no word for a reader. */
const formatChars = /\p{Cf}/gu;

/**
 * Makes letter case and Unicode spelling variants compare equal: NFKC (composed accents, full-width
 * letters), then upper- and lower-casing, which folds `ß`/`SS`, `ς`/`σ`/`Σ` and similar pairs.
 */
export function foldForMatching(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase();
}

/**
 * The text the text encoder reads, prepared for matching: the tokenizer's own cleaning (ftfy, HTML entities
 * unescaped twice, white space collapsed, lower case), then format characters removed and the spelling folded.
 * `&#99;at`, `&amp;#99;at` and `c&#65279;at` all become `cat`.
 */
function readableText(text: string): string {
  return foldForMatching(cleanPromptText(text).replace(formatChars, ''));
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/gu, '\\$&');
}

/**
 * Builds a matcher for a list of banned words or phrases. A word matches case-insensitively and only as a
 * whole word: `cat` matches "Cat!" and "a CAT" but not "concatenate" or "cats"; the spaces inside a
 * phrase match any run of white space. Boundaries are Unicode-aware and split words where CLIP's
 * pre-tokenizer does: letters (and the marks of scripts that write vowels as marks) continue a word;
 * digits, `_` and punctuation end it, so `cat1` and `cat_food` contain `cat`. Words in scripts written
 * without spaces (Chinese, Japanese, Thai, …) match anywhere.
 *
 * A text matches when the banned word is in what the user wrote or in what the model reads: the prompt
 * as the tokenizer cleans it (HTML entities such as `&#99;at` decoded, invisible characters such as
 * `c&#65279;at`'s byte-order mark removed); see {@link readableText}.
 *
 * @returns a function giving the first banned entry found in a text (as configured), or `undefined`.
 */
export function bannedWordMatcher(bannedWords: readonly string[]): (text: string) => string | undefined {
  const patterns = bannedWords
    .map((word) => ({ word, folded: readableText(word) }))
    .filter(({ folded }) => folded !== '')
    .map(({ word, folded }) => {
      const chars = Array.from(folded);
      const body = folded.split(/\s+/u).map(escapeRegExp).join('\\s+');
      const before = wordCharTest.test(chars[0]!) ? `(?<!${wordChar})` : '';
      const after = wordCharTest.test(chars[chars.length - 1]!) ? `(?!${wordChar})` : '';
      return { word, pattern: new RegExp(before + body + after, 'u') };
    });
  return (text: string) => {
    if (patterns.length === 0) return undefined;
    const written = foldForMatching(text);
    const read = readableText(text);
    return patterns.find(({ pattern }) => pattern.test(written) || pattern.test(read))?.word;
  };
}

/** The first entry of `bannedWords` that occurs in `text` as a whole word (see {@link bannedWordMatcher}). */
export function findBannedWord(text: string, bannedWords: readonly string[]): string | undefined {
  return bannedWordMatcher(bannedWords)(text);
}
