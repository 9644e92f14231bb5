import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codePointLength, leadingWhole, oneLine, shorten } from '../src/text.js';

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

describe('leadingWhole', () => {
  it('keeps text within both limits whole, and otherwise cuts whole characters without a mark', () => {
    assert.equal(leadingWhole('a running dog', 13, 13), 'a running dog');
    assert.equal(leadingWhole('a running dog', 5), 'a run');
    assert.equal(leadingWhole('🎨🎨🎨', 3), '🎨🎨🎨', 'three code points, six units');
    assert.equal(leadingWhole('🎨🎨🎨', 3, 5), '🎨🎨', 'five units hold two emoji, not two and a half');
    assert.equal(leadingWhole('ab🎨', 10, 3), 'ab', 'the emoji would need units 3 and 4');
    assert.equal(leadingWhole('abc', 0), '');
  });

  it('never leaves a lone surrogate', () => {
    const text = `${'x'.repeat(991)}${'🌊'.repeat(9)}`;
    for (let units = 990; units <= 1010; units++) {
      const cut = leadingWhole(text, 1000, units);
      assert.ok(cut.length <= units);
      assert.doesNotMatch(cut, /[\uD800-\uDBFF]$/, `${units} units`);
    }
  });
});

describe('oneLine', () => {
  it('folds white space and removes bidirectional controls', () => {
    assert.equal(oneLine('a\n\tb  c'), 'a b c');
    assert.equal(oneLine('invoice\u202Egnp.exe\u2066x\u2069\u200F'), 'invoicegnp.exex');
  });
});
