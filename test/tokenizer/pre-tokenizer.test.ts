import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipTokenizer } from '../../src/tokenizer/index.js';
import { splitWords } from '../../src/tokenizer/pre-tokenizer.js';
import { fixturePath } from '../helpers/fixtures.js';

// Expected values: `regex.findall` (Python `regex` module) with openai's CLIP pattern and regex.IGNORECASE,
// run on each input.
const table: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["it'S ok'LL", ['it', "'S", 'ok', "'LL"]],
  // U+017F (long s) case-folds to "s"
  ["it'\u017f", ['it', "'\u017f"]],
  ['<|STARTOFTEXT|>', ['<|STARTOFTEXT|>']],
  ['<|\u017ftartoftext|>', ['<|\u017ftartoftext|>']],
  ['<|startoftext|>x<|endoftext|>', ['<|startoftext|>', 'x', '<|endoftext|>']],
  // U+0345 folds to the letter ι under IGNORECASE: not a letter, yet excluded from the last class, so skipped
  ['a\u0345b', ['a', 'b']],
  ['\u0345', []],
  ['\u1fb3', ['\u1fb3']],
  // White_Space (the regex module's \s), not JavaScript's \s: U+FEFF is no separator, U+3000 and U+00A0 are
  ['x\u3000y\u00a0z\u2003w', ['x', 'y', 'z', 'w']],
  ['x\ufeffy', ['x', '\ufeff', 'y']],
  ['a\u200bb', ['a', '\u200b', 'b']],
  ['x\u001cy', ['x', '\u001c', 'y']],
  ['3.14159', ['3', '.', '1', '4', '1', '5', '9']],
];

describe('CLIP pre-tokenisation pattern', () => {
  for (const [input, words] of table) {
    it(JSON.stringify(input), () => assert.deepEqual(splitWords(input), words));
  }
});

describe('openai cleaning order', () => {
  const tokenizer = ClipTokenizer.fromFolder(fixturePath('tiny-sd', 'tokenizer'));

  it('unescapes twice after ftfy, even where ftfy kept the entities because of "<"', () => {
    // ftfy leaves "&amp;lt;" alone (the line has "<"); openai's two html.unescape calls make it "<".
    // Checked with ftfy 6.3.1 + html.unescape: clean("<3 &amp;lt;") == "<3 <", clean("<3 &amp;amp;lt;") == "<3 &lt;".
    assert.equal(tokenizer.cleanText('<3 &amp;lt;'), '<3 <');
    assert.equal(tokenizer.cleanText('<3 &amp;amp;lt;'), '<3 &lt;');
  });
});
