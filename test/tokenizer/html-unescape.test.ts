import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pythonHtmlUnescape } from '../../src/tokenizer/index.js';

// Expected values: CPython 3.11.7's html.unescape run on each input (Lib/html/__init__.py implements the
// HTML5 character-reference rules: legacy names without ";", longest-prefix match, the Windows-1252 meaning
// of references 0x80-0x9F, U+FFFD for 0, surrogates and values above U+10FFFF, nothing for other invalid ones).
const table: ReadonlyArray<readonly [string, string]> = [
  ['&amp; &lt; &gt; &quot; &#39;', '& < > " \''],
  ['&amp', '&'],
  ['&ampx', '&x'],
  ['&AMP;', '&'],
  ['&notit;', '¬it;'],
  ['&notin;', '∉'],
  ['&not', '¬'],
  ['&#0;', '\ufffd'],
  ['&#x80;', '€'],
  ['&#150;', '–'],
  ['&#xD800;', '\ufffd'],
  ['&#1114112;', '\ufffd'],
  ['&#1;', ''],
  ['&#65', 'A'],
  ['&#x41;', 'A'],
  ['&#X41;', 'A'],
  ['&#00000000065;', 'A'],
  ['&unknown;', '&unknown;'],
  ['&#13;', '\r'],
  ['&#xFFFE;', ''],
  ['&eacute', 'é'],
  ['&EACUTE;', '&EACUTE;'],
  ['&lt&gt', '<>'],
  ['no entity', 'no entity'],
  ['&;', '&;'],
  ['&#;', '&#;'],
  ['&#x;', '&#x;'],
  ['&hellip;&#x2019;', '…\u2019'],
  ['&acE;', '\u223e\u0333'],
  ['&' + '1'.repeat(40) + ';', '&' + '1'.repeat(40) + ';'],
];

describe("Python's html.unescape", () => {
  for (const [input, expected] of table) {
    it(JSON.stringify(input), () => assert.equal(pythonHtmlUnescape(input), expected));
  }

  it('is applied twice by openai after ftfy, so double-escaped text comes out plain', () => {
    assert.equal(pythonHtmlUnescape(pythonHtmlUnescape('&amp;lt;3')), '<3');
  });
});
