import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BytePairEncoder } from '../../src/tokenizer/bpe.js';
import { bytesToSymbols } from '../../src/tokenizer/byte-encoder.js';
import { readTokenizerFiles } from '../../src/tokenizer/tokenizer-files.js';
import { fixturePath } from '../helpers/fixtures.js';

const files = readTokenizerFiles(fixturePath('tiny-sd', 'tokenizer'));

/** openai's `SimpleTokenizer.bpe` loop, written plainly: quadratic, but obviously the reference. */
function referenceBpe(word: string, ranks: ReadonlyMap<string, number>): string[] {
  let symbols = Array.from(word);
  symbols[symbols.length - 1] += '</w>';
  for (;;) {
    let best: [string, string] | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = ranks.get(symbols[i] + ' ' + symbols[i + 1]);
      if (rank !== undefined && rank < bestRank) [bestRank, best] = [rank, [symbols[i]!, symbols[i + 1]!]];
    }
    if (best === undefined) return symbols;
    const merged: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (symbols[i] === best[0] && symbols[i + 1] === best[1]) {
        merged.push(best[0] + best[1]);
        i++;
      } else {
        merged.push(symbols[i]!);
      }
    }
    symbols = merged;
    if (symbols.length === 1) return symbols;
  }
}

/** A deterministic pseudo-random generator (mulberry32) so the word list is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('BPE', () => {
  const ranks = new Map(files.merges.map(([a, b], rank) => [a + ' ' + b, rank] as const));

  it('matches the plain openai loop on repetitive, random and long words', () => {
    const bpe = new BytePairEncoder(files.merges, [], 0);
    const next = random(1234);
    const alphabets = ['abcdefghijklmnopqrstuvwxyz', 'etaoinshr', 'aab', '!?.,', '0123456789', 'éàüößçñ', '東京の夜景ネオン猫犬', '🐶🔥✨'];
    const words: string[] = ['a', 'aa', 'aaa', 'aaaa', 'a'.repeat(33), 'ab'.repeat(40), '!'.repeat(17), 'hello', 'rutkowski'];
    for (let n = 0; n < 400; n++) {
      const alphabet = Array.from(alphabets[Math.floor(next() * alphabets.length)]!);
      const length = 1 + Math.floor(next() * (n % 10 === 0 ? 300 : 20));
      words.push(Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]!).join(''));
    }
    for (const word of words) {
      const symbols = bytesToSymbols(word);
      assert.deepEqual(bpe.encodeWord(symbols), referenceBpe(symbols, ranks), `word ${JSON.stringify(word)}`);
    }
  });

  it('keeps at most cacheSize words however many distinct words it sees', () => {
    const bpe = new BytePairEncoder(files.merges, ['<|startoftext|>'], 3);
    const uncached = new BytePairEncoder(files.merges, [], 0);
    for (let i = 0; i < 50; i++) {
      const word = bytesToSymbols(`word${i}`);
      assert.deepEqual(bpe.encodeWord(word), uncached.encodeWord(word));
      assert.ok(bpe.cachedWords <= 3);
    }
    assert.equal(bpe.cachedWords, 3);
    assert.equal(uncached.cachedWords, 0);
    // pinned words map to themselves and take no cache room
    assert.deepEqual(bpe.encodeWord('<|startoftext|>'), ['<|startoftext|>']);
    assert.equal(bpe.cachedWords, 3);
  });
});
