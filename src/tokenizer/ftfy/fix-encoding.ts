import { isBad } from './badness.js';
import { utf8Clues } from './character-classes.js';
import {
  charmapEncodings,
  decodeCharmap,
  decodeUtf8Strict,
  decodeUtf8Variants,
  encodeCharmap,
  isAscii,
  isPossibleEncoding,
} from './codecs.js';
import { fixC1Controls, hasC1Controls } from './fixes.js';

/**
 * ftfy 6.3.1's mojibake repair (`fix_encoding` in `ftfy/__init__.py`, with the byte-level helpers of
 * `ftfy/fixes.py` and `ftfy/chardata.py`), default configuration: restore_byte_a0, replace_lossy_sequences,
 * decode_inconsistent_utf8 and fix_c1_controls all on. Byte strings are binary strings (see codecs.ts).
 */

// chardata.ALTERED_UTF8_RE: UTF-8 that would be valid if a space were byte A0 again.
const alteredUtf8Source =
  '[\\xc2\\xc3\\xc5\\xce\\xd0\\xd9][ ]' +
  '|[\\xe2\\xe3][ ][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf]' +
  '|[\\xe0-\\xe3][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf][ ]' +
  '|[\\xf0][ ][\\x80-\\xbf][\\x80-\\xbf]' +
  '|[\\xf0][\\x80-\\xbf][ ][\\x80-\\xbf]' +
  '|[\\xf0][\\x80-\\xbf][\\x80-\\xbf][ ]';
const alteredUtf8Search = new RegExp(alteredUtf8Source);
const alteredUtf8All = new RegExp(alteredUtf8Source, 'g');

// fixes.A_GRAVE_WORD_RE: " Ã " as a word is "à", except before Portuguese "às", "àquele", "àquela", "àquilo".
const aGraveWordPattern = /\xc3 (?! |quele|quela|quilo|s )/g;

/** ftfy's `restore_byte_a0`: puts back the A0 bytes that a space replaced inside UTF-8 sequences. */
export function restoreByteA0(bytes: string): string {
  const withAGrave = bytes.replace(aGraveWordPattern, '\xc3\xa0 ');
  return withAGrave.replace(alteredUtf8All, (match) => match.replaceAll(' ', '\xa0'));
}

// chardata.LOSSY_UTF8_RE: UTF-8 (or CESU-8) sequences some of whose bytes were lost to U+FFFD (byte 1A) or '?'.
const lossyUtf8Pattern = new RegExp(
  '[\\xc2-\\xdf][\\x1a]' +
    '|[\\xc2-\\xc3][?]' +
    '|\\xed[\\xa0-\\xaf][\\x1a?]\\xed[\\xb0-\\xbf][\\x1a?\\x80-\\xbf]' +
    '|\\xed[\\xa0-\\xaf][\\x1a?\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a?]' +
    '|[\\xe0-\\xef][\\x1a?][\\x1a\\x80-\\xbf]' +
    '|[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a?]' +
    '|[\\xf0-\\xf4][\\x1a?][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]' +
    '|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a?][\\x1a\\x80-\\xbf]' +
    '|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a?]' +
    '|\\x1a',
  'g',
);

/** ftfy's `replace_lossy_sequences`: such damaged sequences become the UTF-8 bytes of U+FFFD. */
export function replaceLossySequences(bytes: string): string {
  return bytes.replace(lossyUtf8Pattern, '\xef\xbf\xbd');
}

// chardata.UTF8_DETECTOR_RE: runs that look like UTF-8 decoded as a single-byte encoding, not preceded by a
// character that is only ever a continuation byte (so a few characters of a huge garble are left alone).
const utf8DetectorSource =
  `(?<![${utf8Clues.utf8ContinuationStrict}])` +
  `(?:[${utf8Clues.utf8FirstOf2}][${utf8Clues.utf8Continuation}]` +
  `|[${utf8Clues.utf8FirstOf3}][${utf8Clues.utf8Continuation}]{2}` +
  `|[${utf8Clues.utf8FirstOf4}][${utf8Clues.utf8Continuation}]{3})+`;
const utf8DetectorSearch = new RegExp(utf8DetectorSource, 'u');
const utf8DetectorAll = new RegExp(utf8DetectorSource, 'gu');

/** ftfy's `decode_inconsistent_utf8`: fixes mojibake runs embedded in otherwise different text. */
export function decodeInconsistentUtf8(text: string): string {
  return text.replace(utf8DetectorAll, (run) =>
    // a shorter run than the whole text, so that this cannot recurse forever
    run.length < text.length && isBad(run) ? fixEncoding(run) : run,
  );
}

/** One step of ftfy's `_fix_encoding_one_step_and_explain`; returns the text unchanged when it sees no fix. */
function fixEncodingOneStep(text: string): string {
  if (text.length === 0 || isAscii(text) || !isBad(text)) return text;

  const possibleEncodings = new Set<string>();
  for (const encoding of charmapEncodings) {
    if (!isPossibleEncoding(text, encoding)) continue;
    possibleEncodings.add(encoding);
    let bytes = encodeCharmap(text, encoding);
    // macroman is excluded: an en dash followed by a space would match
    if (encoding !== 'macroman' && alteredUtf8Search.test(bytes)) bytes = restoreByteA0(bytes);
    if (encoding.startsWith('sloppy-')) bytes = replaceLossySequences(bytes);
    const fixed = bytes.includes('\xed') || bytes.includes('\xc0') ? decodeUtf8Variants(bytes) : decodeUtf8Strict(bytes);
    if (fixed !== null) return fixed;
  }

  if (utf8DetectorSearch.test(text)) {
    const fixed = decodeInconsistentUtf8(text);
    if (fixed !== text) return fixed;
  }

  if (possibleEncodings.has('latin-1')) {
    // Latin-1 and Windows-1252 both fit: probably legitimate text.
    if (possibleEncodings.has('sloppy-windows-1252')) return text;
    // Characters of Latin-1 that are not Windows-1252 are C1 controls; nobody means those.
    const fixed = decodeWindows1252Strict(encodeCharmap(text, 'latin-1'));
    if (fixed !== null && fixed !== text) return fixed;
  }

  if (hasC1Controls(text)) return fixC1Controls(text);
  return text;
}

const windows1252Holes = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** Python's strict `bytes.decode('windows-1252')`: `null` when a byte is unassigned in that code page. */
function decodeWindows1252Strict(bytes: string): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    if (windows1252Holes.has(b)) return null;
    // only the sloppy code page gives byte 1A the meaning U+FFFD
    out += b < 0x80 ? bytes.charAt(i) : decodeCharmap(bytes.charAt(i), 'sloppy-windows-1252');
  }
  return out;
}

/**
 * ftfy's `fix_encoding(text)`: detects text that was encoded as UTF-8 and decoded with another encoding
 * (mojibake), and undoes it, repeatedly, until nothing changes. `"schÃ¶n"` → `"schön"`.
 */
export function fixEncoding(text: string): string {
  for (;;) {
    const fixed = fixEncodingOneStep(text);
    if (fixed === text) return fixed;
    text = fixed;
  }
}
