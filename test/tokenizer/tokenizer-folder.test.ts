import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { ClipTokenizer } from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const sourceDir = fixturePath('tiny-sd', 'tokenizer');
const tokenizerFiles = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;
const scratchRoot = mkdtempSync(join(tmpdir(), 'latentcord-tokenizer-'));

after(() => rmSync(scratchRoot, { recursive: true, force: true }));

/** A copy of the tiny-sd tokenizer folder with some files replaced (`null` deletes the file). */
function tokenizerFolder(replacements: Partial<Record<(typeof tokenizerFiles)[number], string | null>> = {}): string {
  const target = mkdtempSync(join(scratchRoot, 'folder-'));
  for (const name of tokenizerFiles) {
    const replacement = replacements[name];
    if (replacement === undefined) copyFileSync(join(sourceDir, name), join(target, name));
    else if (replacement !== null) writeFileSync(join(target, name), replacement);
  }
  return target;
}

function jsonFile(name: 'tokenizer_config.json' | 'special_tokens_map.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(sourceDir, name), 'utf8')) as Record<string, unknown>;
}

/** Asserts that `action` throws a UserError with this identifier whose message names `path`. */
function assertUserError(action: () => unknown, identifier: string, path: string, messagePart?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    assert.equal(error.identifier, identifier);
    assert.ok(error.message.includes(path), `message ${JSON.stringify(error.message)} should name ${path}`);
    if (messagePart !== undefined) assert.match(error.message, messagePart);
    return true;
  });
}

describe('SD 2.x style tokenizer folders (pad_token "!")', () => {
  // stabilityai/stable-diffusion-2-1 and SD-Turbo: pad_token "!" in both files, no added_tokens_decoder.
  const config = { ...jsonFile('tokenizer_config.json'), pad_token: '!' };
  const specialMap = { ...jsonFile('special_tokens_map.json'), pad_token: '!' };
  const sd2 = ClipTokenizer.fromFolder(
    tokenizerFolder({ 'tokenizer_config.json': JSON.stringify(config), 'special_tokens_map.json': JSON.stringify(specialMap) }),
  );
  const sd1 = ClipTokenizer.fromFolder(sourceDir);

  it('pads with id 0 after the eos token', () => {
    assert.equal(sd2.padTokenId, 0);
    assert.equal(sd2.eosTokenId, 49407);
    const { inputIds } = sd2.encode('a running dog');
    // tokenizer-cases.json: "a running dog" → raw_ids [49406, 320, 2761, 1929, 49407]
    assert.deepEqual(Array.from(inputIds.slice(0, 5)), [49406, 320, 2761, 1929, 49407]);
    assert.equal(inputIds.length, 77);
    assert.ok(inputIds.slice(5).every((id) => id === 0));
    assert.ok(
      sd1
        .encode('a running dog')
        .inputIds.slice(5)
        .every((id) => id === 49407),
    );
  });

  it('splits "!" off as its own token like transformers does for SD 2.x / SDXL', () => {
    // huggingface/diffusers issue #4153: CLIPTokenizer of SDXL's tokenizer_2 (pad_token "!") turns
    // "! !! !!!" into [49406, 0, 0, 0, 0, 0, 0, 49407, 0, ...], where open_clip gives [49406, 256, 748, 995, 49407, ...].
    const expectedSd2 = [49406, 0, 0, 0, 0, 0, 0, 49407, ...new Array<number>(69).fill(0)];
    assert.deepEqual(Array.from(sd2.encode('! !! !!!').inputIds), expectedSd2);
    assert.deepEqual(sd2.bpeTokens('! !! !!!'), ['!', '!', '!', '!', '!', '!']);
    // the SD 1.x folder has no such added token: openai's BPE words "!</w>", "!!</w>", "!!!</w>"
    assert.deepEqual(sd1.rawIds('! !! !!!'), [49406, 256, 748, 995, 49407]);
    // the text around each "!" is cleaned and encoded on its own
    assert.deepEqual(sd2.rawIds('Hello, world!'), [49406, ...sd1.rawIds('Hello, world').slice(1, -1), 0, 49407]);
  });

  it('takes the special tokens from tokenizer_config.json alone when it has added_tokens_decoder', () => {
    // transformers ≥ 4.34 reads special_tokens_map.json only for legacy configs without added_tokens_decoder
    const modern = {
      ...jsonFile('tokenizer_config.json'),
      pad_token: '!',
      added_tokens_decoder: {
        '0': { content: '!', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
        '49406': { content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false, special: true },
        '49407': { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false, special: true },
      },
    };
    const tokenizer = ClipTokenizer.fromFolder(tokenizerFolder({ 'tokenizer_config.json': JSON.stringify(modern) }));
    assert.equal(tokenizer.padTokenId, 0);
    assert.deepEqual(tokenizer.rawIds('wow!'), [49406, ...sd1.rawIds('wow').slice(1, -1), 0, 49407]);
  });

  it('lets special_tokens_map.json override tokenizer_config.json in legacy folders', () => {
    const tokenizer = ClipTokenizer.fromFolder(tokenizerFolder({ 'special_tokens_map.json': JSON.stringify(specialMap) }));
    assert.equal(tokenizer.padTokenId, 0);
  });
});

describe('missing or malformed tokenizer files', () => {
  for (const name of tokenizerFiles) {
    it(`names the missing ${name}`, () => {
      const dir = tokenizerFolder({ [name]: null });
      assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMissing', join(dir, name), /missing/);
    });
  }

  it('rejects a vocab.json that is not JSON', () => {
    const dir = tokenizerFolder({ 'vocab.json': '{"a": 1,' });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'vocab.json'), /not valid JSON/);
  });

  it('rejects a vocab.json whose ids are not integers', () => {
    const dir = tokenizerFolder({ 'vocab.json': JSON.stringify({ a: 0, b: '1' }) });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'vocab.json'), /integer id/);
  });

  it('rejects a vocab.json that is a list', () => {
    const dir = tokenizerFolder({ 'vocab.json': '["a", "b"]' });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'vocab.json'), /not a JSON object/);
  });

  it('rejects a merges.txt line that is not two symbols', () => {
    const dir = tokenizerFolder({ 'merges.txt': '#version: 0.2\ni n\nt h e\n' });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'merges.txt'), /line 3/);
  });

  it('rejects a tokenizer_config.json without a usable model_max_length', () => {
    const { model_max_length: _unused, ...withoutLength } = jsonFile('tokenizer_config.json');
    const dir = tokenizerFolder({ 'tokenizer_config.json': JSON.stringify(withoutLength) });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'tokenizer_config.json'), /model_max_length/);
    const huge = tokenizerFolder({ 'tokenizer_config.json': JSON.stringify({ ...withoutLength, model_max_length: 1e30 }) });
    assertUserError(
      () => ClipTokenizer.fromFolder(huge),
      'tokenizer.fileMalformed',
      join(huge, 'tokenizer_config.json'),
      /model_max_length/,
    );
  });

  it('rejects a special token that is neither a string nor {content}', () => {
    const dir = tokenizerFolder({ 'special_tokens_map.json': JSON.stringify({ ...jsonFile('special_tokens_map.json'), bos_token: 42 }) });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'special_tokens_map.json'), /bos_token/);
  });

  it('rejects a special token missing from the vocabulary', () => {
    const dir = tokenizerFolder({
      'special_tokens_map.json': JSON.stringify({ ...jsonFile('special_tokens_map.json'), pad_token: '<pad>' }),
    });
    assertUserError(() => ClipTokenizer.fromFolder(dir), 'tokenizer.fileMalformed', join(dir, 'special_tokens_map.json'), /<pad>/);
  });

  it('still loads after a missing file is restored (no stale state)', () => {
    const dir = tokenizerFolder();
    unlinkSync(join(dir, 'merges.txt'));
    assert.throws(() => ClipTokenizer.fromFolder(dir));
    copyFileSync(join(sourceDir, 'merges.txt'), join(dir, 'merges.txt'));
    assert.deepEqual(ClipTokenizer.fromFolder(dir).rawIds('a running dog'), [49406, 320, 2761, 1929, 49407]);
  });
});
