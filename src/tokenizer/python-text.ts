/**
 * Python's notions of whitespace, which differ from JavaScript's `\s` (JavaScript counts U+FEFF and not
 * U+0085; Python's `str.isspace` also counts U+001C–U+001F). Sets taken from CPython 3.11 (Unicode 14) and
 * the `regex` module, enumerated over all code points.
 */

/** Body of a character class matching what `str.isspace()` and the `re` module's `\s` accept. */
export const pythonSpaceClass = '\t-\r\u001c- \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';

/**
 * Body of a character class matching the `regex` module's `\s` (Unicode White_Space), used by openai's
 * `whitespace_clean` and the CLIP pre-tokenisation pattern: like {@link pythonSpaceClass} without U+001C–U+001F.
 */
export const regexModuleSpaceClass = '\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';

const leadingSpace = new RegExp(`^[${pythonSpaceClass}]+`);
const trailingSpace = new RegExp(`[${pythonSpaceClass}]+$`);

/** Python's `str.strip()` without arguments. */
export function pythonStrip(text: string): string {
  return text.replace(leadingSpace, '').replace(trailingSpace, '');
}
