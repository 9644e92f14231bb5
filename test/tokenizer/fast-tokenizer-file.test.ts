import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { ClipTokenizer } from '../../src/tokenizer/index.js';
import { fixturePath, loadJsonFixture } from '../helpers/fixtures.js';

/**
 * Some exports ship a tokenizer folder with transformers' "fast" `tokenizer.json` and no vocab.json/merges.txt. Its
 * BPE tables are the same; the folder must tokenize exactly like the slow files (the 32 tokenizer goldens).
 */
const sourceDir = fixturePath('tiny-sdxl', 'tokenizer_2');
const scratch = mkdtempSync(join(tmpdir(), 'latentcord-fast-tokenizer-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A tokenizer.json as transformers writes it for CLIP, built from the slow files; merges as strings or as pairs. */
function fastFolder(mergeStyle: 'strings' | 'pairs'): string {
  const dir = mkdtempSync(join(scratch, `${mergeStyle}-`));
  const vocab = JSON.parse(readFileSync(join(sourceDir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(sourceDir, 'merges.txt'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => (mergeStyle === 'strings' ? line : line.split(' ')));
  const model = { type: 'BPE', dropout: null, unk_token: '<|endoftext|>', end_of_word_suffix: '</w>', fuse_unk: false, vocab, merges };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [], model }));
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(sourceDir, name), join(dir, name));
  return dir;
}

describe('tokenizer folders with only tokenizer.json', () => {
  const slow = ClipTokenizer.fromFolder(sourceDir);
  const prompts = loadJsonFixture<{ cases: { prompt: string }[] }>('tokenizer-cases.json').cases.map((c) => c.prompt);

  for (const style of ['strings', 'pairs'] as const) {
    it(`merges as ${style}: the same ids as vocab.json + merges.txt on every golden prompt, the same padding`, () => {
      const fast = ClipTokenizer.fromFolder(fastFolder(style));
      assert.equal(fast.padTokenId, slow.padTokenId);
      assert.ok(fast.hasSameVocabulary(slow));
      for (const prompt of [...prompts, 'wow!! a (red:1.2) fox'])
        assert.deepEqual(fast.encode(prompt).inputIds, slow.encode(prompt).inputIds, prompt);
    });
  }

  it('a tokenizer.json that is not a BPE model is refused by name', () => {
    const dir = fastFolder('strings');
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
    assert.throws(
      () => ClipTokenizer.fromFolder(dir),
      (error: unknown) => isUserError(error) && error.identifier === 'tokenizer.fileMalformed' && error.message.includes('tokenizer.json'),
    );
  });
});
