/**
 * Scripts written without spaces between words: a banned word in one of them matches anywhere, because
 * there are no word boundaries to look for.
 */
const unspacedScript =
  '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}' +
  '\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\p{Script=Tibetan}]';
/** A character that continues a word: letters, marks, digits, connector punctuation. */
const wordChar = `(?:(?!${unspacedScript})[\\p{L}\\p{M}\\p{N}\\p{Pc}])`;
const wordCharTest = new RegExp(`^${wordChar}$`, 'u');

/**
 * Makes letter case and Unicode spelling variants compare equal: NFKC (composed accents, full-width
 * letters), then upper- and lower-casing, which folds `ß`/`SS`, `ς`/`σ`/`Σ` and similar pairs.
 */
export function foldForMatching(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/gu, '\\$&');
}

/**
 * Builds a matcher for a list of banned words or phrases. A word matches case-insensitively and only as a
 * whole word: `cat` matches "Cat!" and "a CAT" but not "concatenate" or "cats"; the spaces inside a
 * phrase match any run of white space. Boundaries are Unicode-aware (letters of any script, combining
 * marks and digits count as word characters); words in scripts written without spaces (Chinese,
 * Japanese, Thai, …) match anywhere.
 *
 * @returns a function giving the first banned entry found in a text (as configured), or `undefined`.
 */
export function bannedWordMatcher(bannedWords: readonly string[]): (text: string) => string | undefined {
  const patterns = bannedWords
    .map((word) => ({ word, folded: foldForMatching(word).trim() }))
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
    const folded = foldForMatching(text);
    return patterns.find(({ pattern }) => pattern.test(folded))?.word;
  };
}

/** The first entry of `bannedWords` that occurs in `text` as a whole word (see {@link bannedWordMatcher}). */
export function findBannedWord(text: string, bannedWords: readonly string[]): string | undefined {
  return bannedWordMatcher(bannedWords)(text);
}
