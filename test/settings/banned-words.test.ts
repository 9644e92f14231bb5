import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findBannedWord } from '../../src/settings/index.js';

/** [banned list, text, expected match or undefined, why] */
const cases: ReadonlyArray<readonly [readonly string[], string, string | undefined, string]> = [
  [['cat'], 'a cat on a mat', 'cat', 'whole word'],
  [['cat'], 'A CAT!', 'cat', 'any letter case, punctuation is a boundary'],
  [['Cat'], 'cat', 'Cat', 'banned entry case does not matter; the entry is reported as configured'],
  [['cat'], 'concatenate', undefined, 'inside a word'],
  [['cat'], 'cats', undefined, 'plural is another word'],
  [['cat'], 'cat_food', undefined, 'underscore joins words'],
  [['cat'], 'cat2', undefined, 'digits join words'],
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
];

describe('findBannedWord', () => {
  for (const [banned, text, expected, why] of cases) {
    it(`${why}: ${JSON.stringify(banned)} in ${JSON.stringify(text)}`, () => {
      assert.equal(findBannedWord(text, banned), expected);
    });
  }
});
