import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { findBannedWord } from '../../src/settings/index.js';
import { ClipTokenizer } from '../../src/tokenizer/index.js';
import { tinyModelDir } from '../helpers/fixtures.js';

/** [banned list, text, expected match or undefined, why] */
const cases: ReadonlyArray<readonly [readonly string[], string, string | undefined, string]> = [
  [['cat'], 'a cat on a mat', 'cat', 'whole word'],
  [['cat'], 'A CAT!', 'cat', 'any letter case, punctuation is a boundary'],
  [['Cat'], 'cat', 'Cat', 'banned entry case does not matter; the entry is reported as configured'],
  [['cat'], 'concatenate', undefined, 'inside a word'],
  [['cat'], 'cats', undefined, 'plural is another word'],
  [['cat'], 'cat_food', 'cat', 'an underscore is a boundary, as for the tokenizer'],
  [['cat'], 'cat2', 'cat', 'digits are boundaries, as for the tokenizer'],
  [['cat'], '2cat', 'cat', 'a digit before the word is a boundary'],
  [['cat'], '(cat)', 'cat', 'brackets are boundaries'],
  [['cat'], 'cat-like', 'cat', 'a hyphen is a boundary'],
  [['blood bath'], 'a Blood   Bath at noon', 'blood bath', 'phrases match across any white space'],
  [['blood bath'], 'bloodbath', undefined, 'phrase words need their space'],
  [['ärger'], 'viel ÄRGER heute', 'ärger', 'non-ASCII upper case'],
  [['ärger'], 'viel A\u0308rger', 'ärger', 'decomposed accent (NFD) matches composed'],
  [['arger'], 'viel ärger', undefined, 'an accented letter is a different letter'],
  [['ärger'], 'verärgert', undefined, 'accented word inside a longer word'],
  [['straße'], 'STRASSE', 'straße', 'ß folds to ss'],
  [['кот'], 'Кот спит', 'кот', 'Cyrillic case'],
  [['кот'], 'котик', undefined, 'Cyrillic word boundary'],
  [['σοφος'], 'ΣΟΦΟΣ', 'σοφος', 'Greek final sigma'],
  [['nsfw'], 'ｎｓｆｗ art', 'nsfw', 'full-width letters (NFKC)'],
  [['nsfw'], 'nsfwé', undefined, 'a following accented letter continues the word'],
  [['猫'], '我的猫很可爱', '猫', 'scripts without spaces match anywhere'],
  [['ねこ'], 'かわいいねこです', 'ねこ', 'Japanese kana match anywhere'],
  [['c++'], 'I like C++ a lot', 'c++', 'regex characters are literal'],
  [['a.b'], 'axb', undefined, 'a dot is literal'],
  [['gore', 'blood'], 'bloody gore', 'gore', 'first matching entry in list order'],
  [[], 'anything', undefined, 'empty list'],
  [['cat'], 'ca&#116;s', undefined, 'an entity inside a longer word does not make the word'],
  [['cat'], 'c\u200bat', 'cat', 'a zero-width space is removed'],
  [['cat'], 'c\u00adat', 'cat', 'a soft hyphen is removed'],
  [['cat'], 'a &lt;b&gt; c&#65279;at', 'cat', 'entities are decoded also when the text holds `<` (ftfy then leaves them to html.unescape)'],
  [['cat'], 'cat\u0301', 'cat', 'a leftover combining mark after a Latin letter ends the word, as for the tokenizer'],
  [['nsfw'], 'nsfwe\u0301', undefined, 'a decomposed accent that NFC composes still continues the word'],
  [['नमस'], 'नमस्ते', undefined, 'Devanagari vowel signs continue a word'],
  [['c&#97;t'], 'cat', 'c&#97;t', 'a banned entry is cleaned the same way'],
];

/**
 * Spellings the text encoder reads as the very token `cat` (openai/CLIP's cleaning: ftfy, `html.unescape`
 * twice; its pre-tokenizer splits letters from digits and `_`). Each must be refused when `cat` is banned.
 */
const readAsCat = ['&#99;at', '&amp;#99;at', 'c&#65279;at', 'cat_', 'cat1', '&#x63;&#x61;&#x74;', 'ＣＡＴ'];

describe('findBannedWord', () => {
  const tokenizer = ClipTokenizer.fromFolder(join(tinyModelDir, 'tokenizer'));
  const catTokens = tokenizer.bpeTokens('cat');

  for (const text of readAsCat) {
    it(`refuses ${JSON.stringify(text)}, which the tokenizer reads as \`cat\``, () => {
      const tokens = tokenizer.bpeTokens(`a ${text} on a mat`);
      assert.deepEqual(tokens.slice(1, 1 + catTokens.length), catTokens, `the tokenizer gives ${tokens.join(' ')}`);
      assert.equal(findBannedWord(`a ${text} on a mat`, ['cat']), 'cat');
    });
  }

  for (const [banned, text, expected, why] of cases) {
    it(`${why}: ${JSON.stringify(banned)} in ${JSON.stringify(text)}`, () => {
      assert.equal(findBannedWord(text, banned), expected);
    });
  }
});
