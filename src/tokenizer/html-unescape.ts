import { html5NamedReferences } from './html-entities.js';

/**
 * A port of CPython 3.11's `html.unescape` (Lib/html/__init__.py), which follows the HTML5 tokenizer rules:
 * named references from the full HTML5 table (legacy names also without `;`, longest prefix wins), decimal and
 * hexadecimal references with or without `;`, and the HTML5 replacements for invalid numeric references.
 */

const charrefPattern = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Windows-1252 meanings HTML5 gives to numeric references 0x80–0x9F (holes map to themselves). */
const c1Charrefs =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Python's `_invalid_codepoints`: numeric references that decode to nothing. */
function isDroppedCodePoint(num: number): boolean {
  return (
    (num >= 0x1 && num <= 0x8) ||
    num === 0xb ||
    (num >= 0xe && num <= 0x1f) ||
    (num >= 0x7f && num <= 0x9f) ||
    (num >= 0xfdd0 && num <= 0xfdef) ||
    (num & 0xfffe) === 0xfffe
  );
}

/** Value of a run of digits, or +Infinity when it is certainly beyond U+10FFFF. */
function parseDigits(digits: string, radix: 10 | 16): number {
  const significant = digits.replace(/^0+/, '');
  if (significant.length > (radix === 10 ? 8 : 7)) return Number.POSITIVE_INFINITY;
  return significant === '' ? 0 : Number.parseInt(significant, radix);
}

function replaceCharref(whole: string, body: string): string {
  if (body.startsWith('#')) {
    const hex = body[1] === 'x' || body[1] === 'X';
    const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
    // CPython's int() refuses more than 4,300 digits and html.unescape then raises; such a reference is
    // treated here like any other out-of-range one.
    const num = parseDigits(digits, hex ? 16 : 10);
    if (num === 0) return '\ufffd';
    if (num === 0x0d) return '\r';
    if (num >= 0x80 && num <= 0x9f) return c1Charrefs[num - 0x80]!;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (isDroppedCodePoint(num)) return '';
    return String.fromCodePoint(num);
  }
  const table = html5NamedReferences();
  const exact = table.get(body);
  if (exact !== undefined) return exact;
  for (let x = body.length - 1; x > 1; x--) {
    const prefix = table.get(body.slice(0, x));
    if (prefix !== undefined) return prefix + body.slice(x);
  }
  return whole;
}

/** Python's `html.unescape(text)`. */
export function pythonHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(charrefPattern, replaceCharref);
}
