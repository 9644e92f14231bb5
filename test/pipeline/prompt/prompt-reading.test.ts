import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../../src/errors.js';
import { isBreakMarker, parsePromptAttention } from '../../../src/pipeline/prompt/attention.js';
import { chunkInputIds, chunkTokens, type PromptToken } from '../../../src/pipeline/prompt/chunks.js';
import { emphasisModes, tokenizePrompt } from '../../../src/pipeline/prompt/tokenize-prompt.js';
import { emphasisNames } from '../../../src/settings/index.js';
import { loadJsonFixture } from '../../helpers/fixtures.js';
import { promptWeightingCases, tinyTokenizer } from './prompt-fixture.js';

/**
 * AUTOMATIC1111's prompt reading (parse, per-piece tokenization, 75-token chunks with BREAK and comma backtrack,
 * token count) against the 21 cases computed with A1111's own code: everything exact, weights as float64.
 */
const file = promptWeightingCases();
const tokenizer = tinyTokenizer();
const pairs = (pieces: readonly { text: string; weight: number }[]) => pieces.map((p) => [p.text, p.weight]);

describe('A1111 prompt reading goldens (prompt-weighting-cases.json)', () => {
  it('the tokenizer has the special ids the goldens use', () => {
    assert.deepEqual(
      [tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId, tokenizer.commaTokenId, tokenizer.modelMaxLength - 2],
      [file.bos_token_id, file.eos_token_id, file.eos_token_id, file.comma_token_id, file.chunk_length],
    );
  });

  for (const c of file.cases) {
    it(`${c.id}: parse, piece ids, chunks, multipliers and token count are A1111's exactly (${c.covers})`, () => {
      assert.deepEqual(pairs(parsePromptAttention(c.prompt)), c.parsed, 'parse_prompt_attention');
      const read = tokenizePrompt(c.prompt, tokenizer, { maxTokens: 10_000 });
      assert.deepEqual(pairs(read.pieces), c.parsed);
      assert.deepEqual(
        read.pieces.map((piece) => tokenizer.tokenIds(piece.text)),
        c.fragment_token_ids,
        'each piece tokenized on its own',
      );
      assert.equal(read.tokenCount, c.token_count, 'token_count');
      assert.equal(read.chunks.length, c.num_chunks);
      read.chunks.forEach((chunk, i) => {
        assert.deepEqual(chunk.ids, c.chunks[i]!.tokens, `chunk ${i} ids`);
        assert.deepEqual(chunk.multipliers, c.chunks[i]!.multipliers, `chunk ${i} multipliers (float64, exact)`);
      });
      assert.deepEqual(read.report, {
        tokenCount: c.token_count,
        maxTokens: 10_000,
        chunkCount: c.num_chunks,
        truncated: false,
        droppedText: '',
      });
    });
  }
});

describe('parse_prompt_attention rules', () => {
  it("A1111's documented examples", () => {
    // The examples of parse_prompt_attention's docstring in modules/prompt_parser.py.
    assert.deepEqual(pairs(parsePromptAttention('normal text')), [['normal text', 1]]);
    assert.deepEqual(pairs(parsePromptAttention('an (important) word')), [
      ['an ', 1],
      ['important', 1.1],
      [' word', 1],
    ]);
    assert.deepEqual(pairs(parsePromptAttention('(unbalanced')), [['unbalanced', 1.1]]);
    assert.deepEqual(pairs(parsePromptAttention('\\(literal\\]')), [['(literal]', 1]]);
    assert.deepEqual(pairs(parsePromptAttention('(unnecessary)(parens)')), [['unnecessaryparens', 1.1]]);
    assert.deepEqual(pairs(parsePromptAttention('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).')), [
      ['a ', 1],
      ['house', 1.5730000000000004],
      [' ', 1.1],
      ['on', 1],
      [' a ', 1.1],
      ['hill', 0.55],
      [', sun, ', 1.1],
      ['sky', 1.4641000000000006],
      ['.', 1.1],
    ]);
  });

  it('weights: spaces around the number, zero, negative, Unicode digits as Python reads them', () => {
    assert.deepEqual(pairs(parsePromptAttention('(neon sign : 1.35)')), [['neon sign ', 1.35]]);
    assert.deepEqual(pairs(parsePromptAttention('(a:0) b')), [
      ['a', 0],
      [' b', 1],
    ]);
    assert.deepEqual(pairs(parsePromptAttention('(a:-.5)')), [['a', -0.5]]);
    assert.deepEqual(pairs(parsePromptAttention('(a:1.)')), [['a', 1]]);
    // Python's \d and float() accept any decimal digit: full-width ones, Devanagari ones.
    assert.deepEqual(pairs(parsePromptAttention('(a:１.５)')), [['a', 1.5]]);
    assert.deepEqual(pairs(parsePromptAttention('(a:२)')), [['a', 2]]);
    // `:N)` with no `(` open and a lone `:` are text.
    assert.deepEqual(pairs(parsePromptAttention('ratio 16:9) x:y')), [['ratio 16:9) x:y', 1]]);
  });

  it('a number Python cannot read is a clear error instead of a crash', () => {
    for (const prompt of ['(a:1.2.3)', '(a:.)', '(a:-.)']) {
      assert.throws(
        () => parsePromptAttention(prompt),
        (e: unknown) => isUserError(e) && e.identifier === 'prompt.badWeight' && e.message.includes('is not a number'),
        prompt,
      );
    }
  });

  it('backslashes: escapes are literal, a lone backslash disappears but still separates pieces', () => {
    assert.deepEqual(pairs(parsePromptAttention('a\\b \\\\ c')), [['ab \\ c', 1]]);
    // Inside brackets the empty piece a lone backslash leaves takes the brackets' weight and is merged away.
    assert.deepEqual(pairs(parsePromptAttention('(x\\y) z\\')), [
      ['xy', 1.1],
      [' z', 1],
    ]);
  });

  it('BREAK: upper case, a word of its own (Python word boundaries), whitespace around it swallowed', () => {
    assert.deepEqual(pairs(parsePromptAttention('a\n BREAK\tb')), [
      ['a', 1],
      ['BREAK', -1],
      ['b', 1],
    ]);
    for (const text of ['a break b', 'a Break b', 'BREAKING', 'aBREAK', 'BREAK_b', 'éBREAK', 'BREAK2', 'BREAK東']) {
      assert.ok(!parsePromptAttention(text).some(isBreakMarker), text);
    }
    for (const text of ['a,BREAK,b', '(x)BREAK(y)', 'BREAK', '🐶BREAK🐶']) {
      assert.ok(parsePromptAttention(text).some(isBreakMarker), text);
    }
  });
});

describe('chunking rules (tokenize_line)', () => {
  const vocabulary = { bosTokenId: 1, eosTokenId: 2, commaTokenId: 9 };
  const words = (count: number, id = 5, weight = 1): PromptToken[] => Array.from({ length: count }, () => ({ id, weight }));
  const comma: PromptToken = { id: 9, weight: 1 };

  it('a comma within the last 20 tokens moves the words after it to the next chunk; the comma stays', () => {
    const { chunks, tokenCount } = chunkTokens([...words(60), comma, ...words(20, 6, 1.5)], vocabulary);
    assert.equal(chunks.length, 2);
    assert.deepEqual(chunks[0]!.ids.slice(60, 63), [5, 9, 2], 'comma kept, then eos padding');
    assert.deepEqual(chunks[1]!.ids.slice(0, 22), [1, ...Array(20).fill(6), 2]);
    assert.deepEqual(chunks[1]!.multipliers.slice(1, 21), Array(20).fill(1.5));
    assert.equal(tokenCount, 75 + 20);
  });

  it('a comma further back than 20 tokens is ignored: a hard cut after 75', () => {
    const { chunks } = chunkTokens([...words(50), comma, ...words(40)], vocabulary);
    assert.deepEqual(chunks[0]!.ids.slice(74, 77), [5, 5, 2]);
    assert.equal(chunks[1]!.ids.filter((id) => id === 5).length, 91 - 75);
  });

  it('a comma arriving as the 76th token starts the next chunk; BREAK right after a full chunk adds none', () => {
    const first = chunkTokens([...words(75), comma, ...words(3)], vocabulary);
    assert.deepEqual(first.chunks[1]!.ids.slice(0, 6), [1, 9, 5, 5, 5, 2]);
    const second = chunkTokens([...words(75), 'BREAK', ...words(3)], vocabulary);
    assert.equal(second.chunks.length, 2, 'BREAK closes the full chunk; no empty chunk follows');
    const leading = chunkTokens(['BREAK', 'BREAK', ...words(1)], vocabulary);
    assert.equal(leading.chunks.length, 3, 'BREAK closes even an empty chunk');
    assert.equal(leading.tokenCount, 151);
  });

  it('comma backtracking can be turned off', () => {
    const { chunks } = chunkTokens([...words(60), comma, ...words(20)], vocabulary, { commaBacktrack: 0 });
    assert.equal(chunks[0]!.ids.filter((id) => id === 5).length, 74);
  });

  it('SD 2.x style pad ids replace everything after the first eos; SD 1.x keeps eos', () => {
    const { chunks } = chunkTokens(words(3), vocabulary);
    assert.deepEqual(Array.from(chunkInputIds(chunks[0]!, 2, 0)).slice(0, 7), [1, 5, 5, 5, 2, 0, 0]);
    assert.equal(chunkInputIds(chunks[0]!, 2, 0).at(-1), 0);
    assert.deepEqual(Array.from(chunkInputIds(chunks[0]!, 2, 2)), chunks[0]!.ids);
  });
});

describe('emphasis off and the token limit', () => {
  it('off reads brackets and BREAK literally, and short prompts give exactly the diffusers tokenization', () => {
    const cases = loadJsonFixture<{ cases: { prompt: string; input_ids: number[]; num_raw_ids: number }[] }>('tokenizer-cases.json').cases;
    let checked = 0;
    for (const c of cases.filter((c) => c.num_raw_ids - 2 <= 75)) {
      const read = tokenizePrompt(c.prompt, tokenizer, { emphasis: 'off' });
      assert.equal(read.chunks.length, 1, c.prompt);
      assert.deepEqual(read.chunks[0]!.ids, c.input_ids, c.prompt);
      assert.ok(read.chunks[0]!.multipliers.every((m) => m === 1));
      checked++;
    }
    assert.ok(checked >= 28, `${checked} cases`);
    const literal = tokenizePrompt('a (red:1.5) cube BREAK x', tokenizer, { emphasis: 'off' });
    assert.deepEqual(pairs(literal.pieces), [['a (red:1.5) cube BREAK x', 1]]);
  });

  it("the server setting offers exactly the pipeline's modes, default first", () => {
    assert.deepEqual([...emphasisNames], [...emphasisModes]);
  });

  it('original and no-norm read a prompt identically (they differ only in the encoder step)', () => {
    const prompt = '(masterpiece:1.2), a [red] fox BREAK snow';
    assert.deepEqual(
      tokenizePrompt(prompt, tokenizer, { emphasis: 'original' }).chunks,
      tokenizePrompt(prompt, tokenizer, { emphasis: 'no-norm' }).chunks,
    );
  });

  it('a prompt over the limit keeps the longest start within it and reports the rest', () => {
    const long = file.cases.find((c) => c.id === 'A16-194-tokens-commas')!;
    const full = tokenizePrompt(long.prompt, tokenizer, { maxTokens: 10_000 });
    for (const maxTokens of [1, 74, 75, 76, 100, 150, 151, 205]) {
      const read = tokenizePrompt(long.prompt, tokenizer, { maxTokens });
      assert.ok(read.tokenCount <= maxTokens, `${maxTokens}: ${read.tokenCount}`);
      assert.equal(read.report.tokenCount, 206);
      assert.equal(read.report.truncated, true);
      assert.ok(read.report.droppedText.length > 0);
      // What is read is the same as reading the kept part alone: chunks are a prefix of the full reading.
      read.chunks.slice(0, -1).forEach((chunk, i) => assert.deepEqual(chunk, full.chunks[i]));
    }
    const atLimit = tokenizePrompt(long.prompt, tokenizer, { maxTokens: 206 });
    assert.equal(atLimit.report.truncated, false);
    assert.deepEqual(atLimit.chunks, full.chunks);
  });

  it('the default limit is 225 tokens, three chunks, and the cut words are told back as text', () => {
    const words = Array.from({ length: 240 }, (_, i) => (i < 225 ? 'cat' : 'dog')).join(' ');
    const read = tokenizePrompt(words, tokenizer);
    assert.deepEqual([read.report.maxTokens, read.report.tokenCount, read.chunks.length, read.tokenCount], [225, 240, 3, 225]);
    assert.equal(read.report.droppedText, Array(15).fill('dog').join(' '));
    const breaks = tokenizePrompt('a BREAK b BREAK c BREAK d BREAK', tokenizer);
    assert.equal(breaks.chunks.length, 3);
    assert.equal(breaks.report.droppedText, 'd BREAK');
  });
});
