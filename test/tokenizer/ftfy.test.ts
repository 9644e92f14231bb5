import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBad } from '../../src/tokenizer/ftfy/badness.js';
import { decodeUtf8Variants } from '../../src/tokenizer/ftfy/codecs.js';
import { fixEncoding, replaceLossySequences, restoreByteA0 } from '../../src/tokenizer/ftfy/fix-encoding.js';
import { fixText } from '../../src/tokenizer/ftfy/fix-text.js';
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
} from '../../src/tokenizer/ftfy/fixes.js';

// Expected values are ftfy 6.3.1's own doctests (file and function named in each comment) unless said
// otherwise; every one was also confirmed by running the real ftfy 6.3.1 on this machine.

describe('ftfy.fix_text', () => {
  it('repairs mojibake, entities, ligatures and width (ftfy/__init__.py, fix_text docstring)', () => {
    assert.equal(fixText('âœ” No problems'), '✔ No problems');
    assert.equal(fixText('&macr;\\_(ã\x83\x84)_/&macr;'), '¯\\_(ツ)_/¯');
    assert.equal(fixText('ＬＯＵＤ　ＮＯＩＳＥＳ'), 'LOUD NOISES');
    // The docstring shows "Broken text... it's flubberific!", a leftover of ftfy's NFKC days; with 6.3.1's
    // default NFC the ellipsis stays one character, which is what ftfy 6.3.1 really returns.
    assert.equal(fixText('Broken text&hellip; it&#x2019;s ﬂubberiﬁc!'), "Broken text\u2026 it's flubberific!");
  });

  it('leaves entities alone once a line contains "<" (TextFixerConfig docstring: unescape_html "auto")', () => {
    assert.equal(fixText('HTML entities &lt;3'), 'HTML entities <3');
    assert.equal(fixText('<em>HTML entities &lt;3</em>'), '<em>HTML entities &lt;3</em>');
    // fix_text keeps the "HTML mode" for the following lines: the entity on line 2 is not decoded
    assert.equal(fixText('a <b>\n&amp;'), 'a <b>\n&amp;');
    assert.equal(fixText('&amp;\na <b>'), '&\na <b>');
  });

  it('fixes the encoding inside a larger text (ftfy/__init__.py, apply_plan docstring: "schÃ¶n" → "schön")', () => {
    assert.equal(fixText('schÃ¶n'), 'schön');
    assert.equal(fixText('mojibake: schÃ¶n'), 'mojibake: schön');
  });
});

describe('ftfy.fix_encoding', () => {
  it('undoes UTF-8 read as Latin-1 (ftfy/__init__.py, fix_encoding and fix_encoding_and_explain docstrings)', () => {
    assert.equal(fixEncoding('Ã³'), 'ó');
    assert.equal(fixEncoding('sÃ³'), 'só');
    assert.equal(fixEncoding('&ATILDE;&SUP3;'), '&ATILDE;&SUP3;');
  });

  it('restores a no-break space turned into a space (fix_encoding_and_explain docstring: "voilÃ le travail")', () => {
    assert.equal(fixEncoding('voilÃ le travail'), 'voilà le travail');
    // fixes.py comment above A_GRAVE_WORD_RE: "fÃ cil" is read as "fà cil"
    assert.equal(fixEncoding('fÃ cil'), 'fà cil');
    assert.equal(restoreByteA0('\xc3 la'), '\xc3\xa0 la');
  });

  it('decodes lossy sequences to U+FFFD (ftfy/fixes.py, replace_lossy_sequences docstring)', () => {
    // 'the above text ``â€œ like this â€\ufffd`` will decode as ``“ like this \ufffd``' (uncurled by fix_text)
    assert.equal(fixEncoding('â€œ like this â€\ufffd'), '\u201c like this \ufffd');
    assert.equal(replaceLossySequences('\xe2\x80\x1a'), '\xef\xbf\xbd');
  });

  it('accepts CESU-8 and Java nulls in utf-8-variants (ftfy/bad_codecs/utf8_variants.py docstring)', () => {
    // b'here comes a null! \xc0\x80'.decode('utf-8-var') == 'here comes a null! \x00'
    assert.equal(decodeUtf8Variants('here comes a null! \xc0\x80'), 'here comes a null! \x00');
    // U+1F4A9 as a CESU-8 surrogate pair (ED A0 BD ED B2 A9)
    assert.equal(decodeUtf8Variants('\xed\xa0\xbd\xed\xb2\xa9'), '\u{1f4a9}');
    assert.equal(decodeUtf8Variants('\xed\xa0\xbd'), null);
  });

  it('leaves correct text alone', () => {
    for (const text of ['café crème brûlée', 'Ελληνικά', '東京の夜景', 'naïve Zoë', '(╯°□°)╯︵ ┻━┻', 'Ünïcödé ÀÉÎÕÜ ß ẞ']) {
      assert.equal(fixEncoding(text), text);
      assert.equal(isBad(text), false, text);
    }
    assert.equal(isBad('schÃ¶n'), true);
  });
});

describe('ftfy single fixers (ftfy/fixes.py docstrings)', () => {
  it('unescape_html', () => {
    assert.equal(unescapeHtml('&lt;tag&gt;'), '<tag>');
    assert.equal(unescapeHtml('&Jscr;ohn &HilbertSpace;ancock'), '𝒥ohn ℋancock');
    assert.equal(unescapeHtml('&checkmark;'), '✓');
    assert.equal(unescapeHtml('P&eacute;rez'), 'Pérez');
    assert.equal(unescapeHtml('P&EACUTE;REZ'), 'PÉREZ');
    assert.equal(unescapeHtml('BUNDESSTRA&SZLIG;E'), 'BUNDESSTRASSE');
    assert.equal(unescapeHtml('&ntilde; &Ntilde; &NTILDE; &nTILDE;'), 'ñ Ñ Ñ &nTILDE;');
    // docstring prose: 'the informally written text "this&not that" should not automatically be decoded'
    assert.equal(unescapeHtml('this&not that'), 'this&not that');
  });

  it('remove_terminal_escapes', () => {
    assert.equal(removeTerminalEscapes("\x1b[36;44mI'm blue, da ba dee da ba doo...\x1b[0m"), "I'm blue, da ba dee da ba doo...");
  });

  it('uncurl_quotes', () => {
    assert.equal(uncurlQuotes('\u201chere\u2019s a test\u201d'), '"here\'s a test"');
  });

  it('fix_latin_ligatures', () => {
    assert.equal(fixLatinLigatures('ﬂuﬃeﬆ'), 'fluffiest');
  });

  it('fix_character_width', () => {
    assert.equal(fixCharacterWidth('ＬＯＵＤ　ＮＯＩＳＥＳ'), 'LOUD NOISES');
    assert.equal(fixCharacterWidth('Ｕﾀｰﾝ'), 'Uターン');
  });

  it('fix_line_breaks', () => {
    assert.equal(
      fixLineBreaks('This string is made of two things:\u20291. Unicode\u20282. Spite'),
      'This string is made of two things:\n1. Unicode\n2. Spite',
    );
    assert.equal(fixLineBreaks('Content-type: text/plain\r\n\r\nHi.'), 'Content-type: text/plain\n\nHi.');
    assert.equal(fixLineBreaks('This is how Microsoft \r trolls Mac users'), 'This is how Microsoft \n trolls Mac users');
    assert.equal(fixLineBreaks("What is this \x85 I don't even"), "What is this \n I don't even");
  });

  it('fix_surrogates', () => {
    assert.equal(fixSurrogates('\ud83d\udca9'), '💩');
    assert.equal(fixSurrogates('\udca9\ud83d'), '\ufffd\ufffd');
  });

  it('remove_control_chars and fix_c1_controls', () => {
    // remove_control_chars docstring lists U+00–U+08, U+0B, U+0E–U+1F, U+7F, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFC
    // as removed and tab, LF, FF, CR as kept
    assert.equal(removeControlChars('a\x00\x08\x0b\x0e\x1f\x7f\u206a\ufeff\ufffcb\t\n\x0c\r'), 'ab\t\n\x0c\r');
    // fix_c1_controls docstring: "treat them as their Windows-1252 equivalents"
    assert.equal(fixC1Controls('\x80 \x93quoted\x94 \x81'), '€ \u201cquoted\u201d \x81');
  });
});
