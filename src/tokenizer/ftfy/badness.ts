import { pythonSpaceClass } from '../python-text.js';
import { mojibakeCategories as c } from './character-classes.js';

/**
 * ftfy 6.3.1's mojibake heuristic (`ftfy/badness.py`): a regular expression of unlikely juxtapositions of the
 * characters that UTF-8 mojibake is made of. Each alternative below is one alternative of ftfy's verbose
 * `BADNESS_RE`, in the same order, with Python's `\s` and `\w` spelled out (Python's `\w` is exactly
 * `[\p{L}\p{N}_]` in CPython 3.11) and Python's `.` (anything but "\n") written as `[^\n]`.
 */

const space = `[${pythonSpaceClass}]`;
const word = '[\\p{L}\\p{N}_]';
const arabicSecond = `${c.common}${c.currency}${c.bad}${c.numeric}${c.startPunctuation}ŸŠ®°µ»`;

const alternatives: readonly string[] = [
  `[${c.c1}]`,
  `[${c.bad}${c.lowerAccented}${c.upperAccented}${c.box}${c.startPunctuation}${c.endPunctuation}${c.currency}${c.numeric}${c.law}][${c.bad}]`,
  `[a-zA-Z][${c.lowerCommon}${c.upperCommon}][${c.bad}]`,
  `[${c.bad}][${c.lowerAccented}${c.upperAccented}${c.box}${c.startPunctuation}${c.endPunctuation}${c.currency}${c.numeric}${c.law}]`,
  `[${c.lowerAccented}${c.lowerCommon}${c.box}${c.endPunctuation}${c.currency}${c.numeric}][${c.upperAccented}]`,
  `[${c.box}${c.endPunctuation}${c.currency}${c.numeric}][${c.lowerAccented}]`,
  `[${c.lowerAccented}${c.box}${c.endPunctuation}][${c.currency}]`,
  `${space}[${c.upperAccented}][${c.currency}]`,
  `[${c.upperAccented}${c.box}][${c.numeric}${c.law}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.box}${c.currency}${c.endPunctuation}][${c.startPunctuation}][${c.numeric}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.currency}${c.numeric}${c.box}${c.law}][${c.endPunctuation}][${c.startPunctuation}]`,
  `[${c.currency}${c.numeric}${c.box}][${c.startPunctuation}]`,
  `[a-z][${c.upperAccented}][${c.startPunctuation}${c.currency}]`,
  `[${c.box}][${c.kaomoji}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.currency}${c.numeric}${c.startPunctuation}${c.endPunctuation}${c.law}][${c.box}]`,
  `[${c.box}][${c.endPunctuation}]`,
  `[${c.lowerAccented}${c.upperAccented}][${c.startPunctuation}${c.endPunctuation}]${word}`,
  // the ligature œ when not followed by an unaccented Latin letter
  '[Œœ][^A-Za-z]',
  // degree signs after capital letters
  `[${c.upperAccented}]°`,
  // common Windows-1252 two-character mojibake not covered above
  `[ÂÃÎÐ][€œŠš¢£Ÿž\u00a0\u00ad®©°·»${c.startPunctuation}${c.endPunctuation}–—´]`,
  '×[²³]',
  // Windows-1252 mojibake of Arabic needs the 'common' characters, so four characters are required
  `[ØÙ][${arabicSecond}][ØÙ][${arabicSecond}]`,
  // Windows-1252 starts of three-byte sequences of some South Asian scripts
  'à[²µ¹¼½¾]',
  // MacRoman mojibake
  '√[±∂†≠®™´≤≥¥µø]',
  '≈[°¢]',
  '‚Ä[ìîïòôúùû†°¢π]',
  '‚[âó][àä°ê]',
  // Windows-1251 mojibake of the U+2000 range
  'вЂ',
  // Windows-1251 mojibake of Latin-1 and/or Cyrillic, three characters
  `[ВГРС][${c.c1}${c.bad}${c.startPunctuation}${c.endPunctuation}${c.currency}°µ][ВГРС]`,
  'ГўВЂВ[^\\n][A-Za-z ]',
  // Windows-1252 encodings of 'à', 'á' and U+00A0 itself
  'Ã[\u00a0¡]',
  `[a-z]${space}?[ÃÂ][ ]`,
  '^[ÃÂ][ ]',
  // Â before a character as the encoding of exactly that character
  `[a-z.,?!${c.endPunctuation}]Â[ ${c.startPunctuation}${c.endPunctuation}]`,
  // Windows-1253 mojibake of the U+2000 range
  'β€[™\u00a0Ά\u00ad®°]',
  // Windows-1253 mojibake of Latin-1 and/or Greek
  `[ΒΓΞΟ][${c.c1}${c.bad}${c.startPunctuation}${c.endPunctuation}${c.currency}°][ΒΓΞΟ]`,
  // Windows-1257 mojibake of the U+2000 range
  'ā€',
];

const badnessSource = alternatives.join('|');
const badnessSearch = new RegExp(badnessSource, 'u');
const badnessAll = new RegExp(badnessSource, 'gu');

/** ftfy's `badness(text)`: how many unlikely sequences (non-overlapping matches) the text contains. */
export function badness(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(badnessAll)) count++;
  return count;
}

/** ftfy's `is_bad(text)`: whether the text looks like it contains mojibake. */
export function isBad(text: string): boolean {
  return badnessSearch.test(text);
}
