import { fixEncoding } from './fix-encoding.js';
import {
  fixC1Controls,
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  removeControlChars,
  removeTerminalEscapes,
  uncurlQuotes,
  unescapeHtml,
} from './fixes.js';

/** ftfy's default `TextFixerConfig.max_decode_length`: the longest segment fixed at once. */
const maxDecodeLength = 1_000_000;

/**
 * One segment through ftfy's `fix_and_explain` with the default configuration: the fixers in ftfy's order,
 * then NFC, repeated until the text stops changing.
 */
function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const original = text;
    if (unescape) text = unescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === original) return text;
  }
}

/**
 * A port of ftfy 6.3.1's `fix_text(text)` with its default configuration: line by line, decode HTML
 * entities (only until a line contains `<`, from then on the text is taken to be HTML), repair mojibake,
 * C1 controls, Latin ligatures, full/half-width forms, curly quotes, line breaks, surrogates, terminal
 * escapes and control characters, and normalise to NFC.
 */
export function fixText(text: string): string {
  const out: string[] = [];
  let unescape = true;
  let pos = 0;
  while (pos < text.length) {
    let textBreak = text.indexOf('\n', pos) + 1;
    if (textBreak === 0) textBreak = text.length;
    if (textBreak - pos > maxDecodeLength) {
      textBreak = pos + maxDecodeLength;
      // keep a surrogate pair together (Python counts code points, not UTF-16 units)
      if (/[\udc00-\udfff]/.test(text.charAt(textBreak))) textBreak += 1;
    }
    const segment = text.slice(pos, textBreak);
    if (unescape && segment.includes('<')) unescape = false;
    out.push(fixSegment(segment, unescape));
    pos = textBreak;
  }
  return out.join('');
}
