import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { badness, isBad } from '../../src/tokenizer/ftfy/badness.js';
import { ClipTokenizer, fixText } from '../../src/tokenizer/index.js';
import { fixturePath, repoRoot } from '../helpers/fixtures.js';

interface CrossCheckCase {
  input: string;
  fix_text: string;
  clean_text: string;
  ids: number[];
}

// Outputs of the real ftfy 6.3.1 / CPython 3.11 / openai tokenizer algorithm on realistic mojibake, entity
// and multi-line inputs; see "provenance" in the file.
const data = JSON.parse(readFileSync(join(repoRoot, 'test', 'tokenizer', 'ftfy-crosscheck.json'), 'utf8')) as {
  provenance: string;
  cases: CrossCheckCase[];
  badness: Array<[string, number]>;
};
const tokenizer = ClipTokenizer.fromFolder(fixturePath('tiny-sd', 'tokenizer'));

describe('cross-check against ftfy 6.3.1 outputs (ftfy-crosscheck.json)', () => {
  it('has the recorded cases', () => {
    assert.ok(data.cases.length >= 300);
    assert.ok(data.cases.some((c) => c.fix_text !== c.input));
  });

  for (const [index, c] of data.cases.entries()) {
    it(`case ${index}: ${JSON.stringify(c.input).slice(0, 50)}`, () => {
      assert.equal(fixText(c.input), c.fix_text, 'fix_text');
      assert.equal(tokenizer.cleanText(c.input), c.clean_text, 'clean_text');
      assert.deepEqual(tokenizer.rawIds(c.input).slice(1, -1), c.ids, 'ids');
    });
  }

  it('counts mojibake sequences like ftfy.badness on every alternative of BADNESS_RE', () => {
    assert.ok(data.badness.length > 250);
    for (const [text, count] of data.badness) {
      assert.equal(badness(text), count, JSON.stringify(text));
      assert.equal(isBad(text), count > 0, JSON.stringify(text));
    }
  });
});
