import { pythonHtmlUnescape } from '../html-unescape.js';
import { html5NamedReferences } from '../html-entities.js';
import { decodeCharmap } from './codecs.js';

/**
 * The individual string fixers of ftfy 6.3.1 (`ftfy/fixes.py` and the tables of `ftfy/chardata.py`) that
 * `fix_text` applies with its default configuration.
 */

let ftfyEntities: Map<string, string> | undefined;

/**
 * ftfy's `chardata.HTML_ENTITIES`: every HTML5 named reference that ends in `;` (written with its `&`), plus
 * the all-caps spelling of lower-case names (`&EACUTE;` → `É`) when that spelling means nothing else to
 * `html.unescape`.
 */
function ftfyHtmlEntities(): ReadonlyMap<string, string> {
  if (ftfyEntities === undefined) {
    const entities = new Map<string, string>();
    for (const [name, value] of html5NamedReferences()) {
      if (!name.endsWith(';')) continue;
      entities.set('&' + name, value);
      if (name === name.toLowerCase()) {
        const upperEntity = '&' + name.toUpperCase();
        if (pythonHtmlUnescape(upperEntity) === upperEntity) entities.set(upperEntity, value.toUpperCase());
      }
    }
    ftfyEntities = entities;
  }
  return ftfyEntities;
}

const htmlEntityPattern = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * ftfy's `unescape_html`: decodes `&name;` references of the HTML5 table (and all-caps Latin ones such as
 * `&NTILDE;`) and numeric references that end in `;`, but nothing without a semicolon (`this&not that` stays).
 */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  const entities = ftfyHtmlEntities();
  return text.replace(htmlEntityPattern, (entity) => {
    const named = entities.get(entity);
    if (named !== undefined) return named;
    if (entity.startsWith('&#')) {
      const unescaped = pythonHtmlUnescape(entity);
      // html.unescape decoded only a prefix (e.g. "&#65x;"): leave the whole reference alone
      return unescaped.includes(';') ? entity : unescaped;
    }
    return entity;
  });
}

// Python's `\d` is any Unicode decimal digit.
const ansiEscapePattern = /\u001b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu;

/** ftfy's `remove_terminal_escapes`: strips ANSI terminal escapes (colour codes and the like). */
export function removeTerminalEscapes(text: string): string {
  return text.includes('\u001b') ? text.replace(ansiEscapePattern, '') : text;
}

/** ftfy's `uncurl_quotes`: curly single quotes (and U+02BC) become `'`, curly double quotes `"`. */
export function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
}

/** ftfy's `chardata.LIGATURES`: Latin typographic ligatures and legacy digraphs, and what they stand for. */
const ligatures: ReadonlyMap<string, string> = new Map([
  ['\u0132', 'IJ'], // Ĳ
  ['\u0133', 'ij'], // ĳ
  ['\u0149', '\u02bcn'], // ŉ → ʼn
  ['\u01f1', 'DZ'], // Ǳ
  ['\u01f2', 'Dz'], // ǲ
  ['\u01f3', 'dz'], // ǳ
  ['\u01c4', 'D\u017d'], // Ǆ → DŽ
  ['\u01c5', 'D\u017e'], // ǅ → Dž
  ['\u01c6', 'd\u017e'], // ǆ → dž
  ['\u01c7', 'LJ'], // Ǉ
  ['\u01c8', 'Lj'], // ǈ
  ['\u01c9', 'lj'], // ǉ
  ['\u01ca', 'NJ'], // Ǌ
  ['\u01cb', 'Nj'], // ǋ
  ['\u01cc', 'nj'], // ǌ
  ['\ufb00', 'ff'], // ﬀ
  ['\ufb01', 'fi'], // ﬁ
  ['\ufb02', 'fl'], // ﬂ
  ['\ufb03', 'ffi'], // ﬃ
  ['\ufb04', 'ffl'], // ﬄ
  ['\ufb05', '\u017ft'], // ﬅ → ſt
  ['\ufb06', 'st'], // ﬆ
]);
const ligaturePattern = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

/** ftfy's `fix_latin_ligatures`: `ﬂuﬃeﬆ` → `fluffiest`. */
export function fixLatinLigatures(text: string): string {
  return text.replace(ligaturePattern, (ligature) => ligatures.get(ligature) ?? ligature);
}

let widthMap: Map<string, string> | undefined;

/** ftfy's `chardata.WIDTH_MAP`: U+3000 → space and the NFKC form of every changed character in U+FF01–U+FFEF. */
function characterWidthMap(): ReadonlyMap<string, string> {
  if (widthMap === undefined) {
    const map = new Map<string, string>([['\u3000', ' ']]);
    for (let cp = 0xff01; cp < 0xfff0; cp++) {
      const char = String.fromCharCode(cp);
      const alternate = char.normalize('NFKC');
      if (alternate !== char) map.set(char, alternate);
    }
    widthMap = map;
  }
  return widthMap;
}
const widthPattern = /[\u3000\uff01-\uffef]/g;

/** ftfy's `fix_character_width`: full-width Latin and half-width Katakana/Hangul to their usual forms. */
export function fixCharacterWidth(text: string): string {
  const map = characterWidthMap();
  return text.replace(widthPattern, (char) => map.get(char) ?? char);
}

/** ftfy's `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 become "\n". */
export function fixLineBreaks(text: string): string {
  return text
    .replaceAll('\r\n', '\n')
    .replaceAll('\r', '\n')
    .replaceAll('\u2028', '\n')
    .replaceAll('\u2029', '\n')
    .replaceAll('\u0085', '\n');
}

const loneSurrogatePattern = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * ftfy's `fix_surrogates`. A JavaScript string already reads a high+low surrogate pair as one character, so
 * only the unpaired surrogates remain to be replaced by U+FFFD.
 */
export function fixSurrogates(text: string): string {
  return text.replace(loneSurrogatePattern, '\ufffd');
}

const controlCharPattern = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/**
 * ftfy's `remove_control_chars`: removes C0 controls other than tab, LF, FF and CR, DEL, the deprecated
 * Arabic format controls, the byte order mark and the interlinear annotation / object replacement characters.
 */
export function removeControlChars(text: string): string {
  return text.replace(controlCharPattern, '');
}

const c1Pattern = /[\u0080-\u009f]/g;

/** ftfy's `fix_c1_controls`: C1 controls read as their Windows-1252 characters, as web browsers do. */
export function fixC1Controls(text: string): string {
  return text.replace(c1Pattern, (char) => decodeCharmap(char, 'sloppy-windows-1252'));
}

/** Whether the text contains a C1 control character (ftfy's `C1_CONTROL_RE.search`). */
export function hasC1Controls(text: string): boolean {
  return /[\u0080-\u009f]/.test(text);
}
