import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipTokenizer } from '../../src/tokenizer/index.js';
import { fixturePath, loadJsonFixture } from '../helpers/fixtures.js';

interface TokenizerCase {
  prompt: string;
  raw_ids: number[];
  bpe_tokens: string[];
  truncated: boolean;
}

const cases = loadJsonFixture<{ cases: TokenizerCase[] }>('tokenizer-cases.json').cases;
const tokenizer = ClipTokenizer.fromFolder(fixturePath('tiny-sd', 'tokenizer'));

function caseWithRawLength(length: number): TokenizerCase {
  const found = cases.find((c) => c.raw_ids.length === length);
  assert.ok(found, `tokenizer-cases.json has a case with ${length} raw ids`);
  return found;
}

describe('truncation report', () => {
  it('reports the text of the tokens dropped from the 84-id prompt', () => {
    const c = caseWithRawLength(84);
    const encoded = tokenizer.encode(c.prompt);
    assert.equal(encoded.tokenCount, 82);
    assert.equal(encoded.truncated, true);
    // golden bpe_tokens[75:] are art, station</w>, ,</w>, by</w>, greg</w>, rut, kowski</w>; openai's decode
    // turns every "</w>" into a space, hence the space before the comma
    assert.deepEqual(c.bpe_tokens.slice(75), ['art', 'station</w>', ',</w>', 'by</w>', 'greg</w>', 'rut', 'kowski</w>']);
    assert.equal(encoded.droppedText, 'artstation , by greg rutkowski');
    // the kept ids are the first 75 and eos comes right after them
    assert.deepEqual(Array.from(encoded.inputIds), [...c.raw_ids.slice(0, 76), 49407]);
  });

  it('drops exactly one word at 76 words and nothing at 75', () => {
    const over = tokenizer.encode(caseWithRawLength(78).prompt);
    assert.deepEqual([over.tokenCount, over.truncated, over.droppedText], [76, true, 'cat']);
    const exact = tokenizer.encode(caseWithRawLength(77).prompt);
    assert.deepEqual([exact.tokenCount, exact.truncated, exact.droppedText], [75, false, '']);
    assert.equal(exact.inputIds[76], 49407);
  });

  it('keeps rawIds untruncated', () => {
    const c = caseWithRawLength(84);
    assert.deepEqual(tokenizer.rawIds(c.prompt), c.raw_ids);
  });

  it('decodes like openai: bytes back to UTF-8, "</w>" to a space, special tokens as text', () => {
    const c = cases.find((x) => x.prompt.startsWith('emoji'));
    assert.ok(c);
    assert.equal(tokenizer.decode(c.raw_ids.slice(1, -1)), 'emoji 🐶🔥✨ and 👩‍💻 ');
    assert.equal(tokenizer.decode([49406, 320, 2761, 1929, 49407]), '<|startoftext|>a running dog <|endoftext|>');
    assert.throws(() => tokenizer.decode([49408]), RangeError);
  });
});
