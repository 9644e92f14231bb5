/**
 * GPT-2/CLIP's reversible byte ↔ unicode mapping (`bytes_to_unicode` in openai/CLIP's simple_tokenizer.py):
 * printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to U+0100 onwards, so that
 * BPE works on visible characters and never on whitespace or control characters.
 */

function buildByteTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const byteToChar = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    byteToChar[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + shifted++);
  }
  const charToByte = new Map<string, number>();
  byteToChar.forEach((char, b) => charToByte.set(char, b));
  return { byteToChar, charToByte };
}

const { byteToChar, charToByte } = buildByteTables();
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** A word's UTF-8 bytes written as byte symbols (what openai does before BPE). */
export function bytesToSymbols(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      out += byteToChar[cp]!;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    // a lone surrogate is encoded as U+FFFD, as TextEncoder does
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x800) {
      out += byteToChar[0xc0 | (cp >> 6)]! + byteToChar[0x80 | (cp & 0x3f)]!;
    } else if (cp < 0x10000) {
      out += byteToChar[0xe0 | (cp >> 12)]! + byteToChar[0x80 | ((cp >> 6) & 0x3f)]! + byteToChar[0x80 | (cp & 0x3f)]!;
    } else {
      out +=
        byteToChar[0xf0 | (cp >> 18)]! +
        byteToChar[0x80 | ((cp >> 12) & 0x3f)]! +
        byteToChar[0x80 | ((cp >> 6) & 0x3f)]! +
        byteToChar[0x80 | (cp & 0x3f)]!;
    }
  }
  return out;
}

/**
 * The inverse: byte symbols back to text, decoding UTF-8 with replacement characters for broken sequences
 * (Python's `errors="replace"`). Characters that are not byte symbols (only possible in a foreign vocabulary)
 * are kept as they are.
 */
export function symbolsToText(symbols: string): string {
  const bytes: number[] = [];
  for (const char of symbols) {
    const b = charToByte.get(char);
    if (b !== undefined) bytes.push(b);
    else for (const unit of utf8Encoder.encode(char)) bytes.push(unit);
  }
  return utf8Decoder.decode(Uint8Array.from(bytes));
}
