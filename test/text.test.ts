import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codePointLength, oneLine, shorten } from '../src/text.js';

describe('shorten', () => {
  it('keeps text that fits and marks a cut with …, counting code points', () => {
    assert.equal(shorten('a running dog', 13), 'a running dog');
    assert.equal(shorten('a running dog', 6), 'a run…');
    assert.equal(shorten('🎨🎨🎨', 3), '🎨🎨🎨', 'three code points fit in three, though they are six UTF-16 units');
    assert.equal(shorten('abc', 0), '');
    assert.equal(shorten('abc', 1), '…');
  });

  it('never splits a surrogate pair', () => {
    for (let max = 1; max <= 8; max++) {
      const cut = shorten('a🎨b🌊c🎉d🦊e', max);
      assert.ok(codePointLength(cut) <= max, cut);
      assert.doesNotMatch(cut, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, `max ${max}: ${cut}`);
    }
  });
});

describe('oneLine', () => {
  it('folds white space and removes bidirectional controls', () => {
    assert.equal(oneLine('a\n\tb  c'), 'a b c');
    assert.equal(oneLine('invoice\u202Egnp.exe\u2066x\u2069\u200F'), 'invoicegnp.exex');
  });
});
