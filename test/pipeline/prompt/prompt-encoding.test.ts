import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ModelTiming } from '../../../src/pipeline/components/io.js';
import { TextEncoder } from '../../../src/pipeline/components/text-encoder.js';
import type { ModelSession } from '../../../src/pipeline/model-session.js';
import { applyEmphasis } from '../../../src/pipeline/prompt/emphasis.js';
import {
  concatenateHidden,
  padWithEmptyChunks,
  PromptEncoder,
  type ChunkEncoder,
  type PromptEmbeddings,
} from '../../../src/pipeline/prompt/prompt-encoder.js';
import { tokenizePrompt, type EmphasisMode } from '../../../src/pipeline/prompt/tokenize-prompt.js';
import { PromptConditioner } from '../../../src/pipeline/prompt-conditioning.js';
import { SessionFactory, defaultRuntimeOptions } from '../../../src/runtime/session-factory.js';
import { f32, fixturePath, maxAbsDiff } from '../../helpers/fixtures.js';
import { promptWeightingCases, tinyTokenizer } from './prompt-fixture.js';

/**
 * Chunk-wise encoding through the real tiny text encoder (onnxruntime) against A1111's conditionings: encoder
 * outputs, "No norm" everywhere, "Original" where the fixtures can check it (see the fixtures README: on this
 * random encoder the "Original" rescale is a ratio of two rounding noises except for unweighted chunks).
 * Tolerance 1e-5 absolute, the README's.
 */
const file = promptWeightingCases();
const tokenizer = tinyTokenizer();
const tolerance = 1e-5;
const timing = (): ModelTiming => ({ modelMs: 0, modelCalls: 0 });
const encoder = (textEncoder: TextEncoder) => new PromptEncoder(textEncoder, tokenizer);

describe('A1111 prompt encoding goldens (tiny text encoder, onnxruntime)', () => {
  let session: ModelSession;
  let textEncoder: TextEncoder;
  let promptEncoder: PromptEncoder;
  before(async () => {
    session = await new SessionFactory(defaultRuntimeOptions).load(fixturePath('tiny-sd', 'text_encoder', 'model.onnx'));
    textEncoder = new TextEncoder(session);
    promptEncoder = new PromptEncoder(textEncoder, tokenizer);
  });
  after(async () => {
    await session.release();
  });

  const encode = async (prompt: string, emphasis: EmphasisMode): Promise<PromptEmbeddings> =>
    (await promptEncoder.encodeAll([tokenizePrompt(prompt, tokenizer, { emphasis, maxTokens: 10_000 })], timing()))[0]!;

  for (const c of file.cases) {
    it(`${c.id}: ${c.z ? 'z ("Original")' : 'hidden states and z_no_norm'} within ${tolerance}`, async (t) => {
      const noNorm = await encode(c.prompt, 'no-norm');
      assert.equal(noNorm.sequenceLength, 77 * c.num_chunks);
      assert.equal(noNorm.hiddenSize, 32);
      if (c.z) {
        const original = await encode(c.prompt, 'original');
        const diff = maxAbsDiff(original.data, f32(c.z));
        t.diagnostic(`z max abs diff ${diff.toExponential(2)}`);
        assert.ok(diff <= tolerance, `z differs by ${diff}`);
        assert.deepEqual(noNorm.data, original.data, 'unweighted chunks: every mode gives the encoder output unchanged');
        return;
      }
      // The encoder output itself, chunk by chunk.
      const hidden = new Float32Array(77 * c.num_chunks * 32);
      for (const [i, chunk] of c.chunks.entries()) {
        const { hiddenStates } = await textEncoder.encodeChunk(Int32Array.from(chunk.tokens), timing());
        hidden.set(hiddenStates, i * 77 * 32);
      }
      const hiddenDiff = maxAbsDiff(hidden, f32(c.hidden_states!));
      const noNormDiff = maxAbsDiff(noNorm.data, f32(c.z_no_norm!));
      t.diagnostic(`hidden_states max abs diff ${hiddenDiff.toExponential(2)}, z_no_norm ${noNormDiff.toExponential(2)}`);
      assert.ok(hiddenDiff <= tolerance, `hidden states differ by ${hiddenDiff}`);
      assert.ok(noNormDiff <= tolerance, `z_no_norm differs by ${noNormDiff}`);
      // "Original" on this encoder: finite, and equal to "No norm" times one factor per chunk (or "No norm" where
      // the rescale is not a usable number).
      const original = await encode(c.prompt, 'original');
      assert.ok(original.data.every(Number.isFinite), 'original emphasis never produces NaN or infinity');
    });
  }

  it('an unweighted one-chunk prompt is the diffusers encoding bit for bit, in every mode', async () => {
    for (const c of file.cases.filter((c) => c.equals_diffusers_encoding_of !== undefined)) {
      const diffusers = await textEncoder.encode(tokenizer.encode(c.equals_diffusers_encoding_of!).inputIds, timing());
      for (const emphasis of ['original', 'no-norm'] as const)
        assert.deepEqual((await encode(c.prompt, emphasis)).data, diffusers.data, c.id);
    }
    const plain = file.cases.find((c) => c.id === 'A01-plain')!;
    const diffusers = await textEncoder.encode(tokenizer.encode(plain.prompt).inputIds, timing());
    assert.deepEqual((await encode(plain.prompt, 'off')).data, diffusers.data);
  });

  it('guidance: encoder calls as diffusers makes them, plus the empty chunk only where a side needs padding', async () => {
    const calls: number[][] = [];
    const counting: ChunkEncoder = {
      encodeChunk: (ids, t) => {
        calls.push(Array.from(ids));
        return textEncoder.encodeChunk(ids, t);
      },
    };
    const conditioner = new PromptConditioner(tokenizer, new PromptEncoder(counting, tokenizer), undefined);
    const even = await conditioner.encode([{ prompt: 'a fox', negativePrompt: 'blur', numImages: 1 }], true, timing());
    assert.equal(calls.length, 2, 'prompt and negative prompt');
    assert.equal(even.sequenceLength, 77);
    calls.length = 0;
    const uneven = await conditioner.encode([{ prompt: 'a fox BREAK snow', negativePrompt: 'blur', numImages: 2 }], true, timing());
    assert.equal(calls.length, 4, 'two prompt chunks, the negative prompt and the empty chunk');
    assert.ok(
      calls.some((ids) => ids[1] === tokenizer.eosTokenId),
      'the empty chunk: bos then eos',
    );
    assert.equal(uneven.sequenceLength, 154);
    assert.equal(uneven.embeddings.length, 2 * 2 * 154 * 32, 'negative rows then prompt rows, one per image');
    const empty = (await encoder(textEncoder).encodeAll([tokenizePrompt('', tokenizer)], timing()))[0]!;
    // The negative rows end with the empty chunk; the prompt rows with the prompt's second chunk.
    assert.deepEqual(uneven.embeddings.subarray(77 * 32, 154 * 32), empty.data);
    assert.notDeepEqual(uneven.embeddings.subarray(2 * 154 * 32 + 77 * 32, 3 * 154 * 32), empty.data);
    calls.length = 0;
    await conditioner.encode([{ prompt: 'a fox BREAK snow', negativePrompt: 'blur BREAK x', numImages: 1 }], false, timing());
    assert.equal(calls.length, 2, 'without guidance only the prompt is encoded');
  });

  it('each distinct chunk is encoded once per call; prompts keep their own emphasis', async () => {
    let calls = 0;
    const counting: ChunkEncoder = {
      encodeChunk: (ids, t) => {
        calls++;
        return textEncoder.encodeChunk(ids, t);
      },
    };
    const encoder = new PromptEncoder(counting, tokenizer);
    const weighted = tokenizePrompt('a (red:1.5) cube', tokenizer, { emphasis: 'no-norm' });
    const same = tokenizePrompt('a (red:1.5) cube', tokenizer, { emphasis: 'no-norm' });
    const unweighted = tokenizePrompt('a red cube', tokenizer);
    const [a, b, c] = await encoder.encodeAll([weighted, same, unweighted], timing());
    assert.equal(calls, 1, 'three prompts, one distinct chunk');
    assert.deepEqual(a!.data, b!.data);
    assert.notDeepEqual(a!.data, c!.data, 'the weight applies to the first prompt only');
    assert.deepEqual(c!.data, (await textEncoder.encodeChunk(Int32Array.from(unweighted.chunks[0]!.ids), timing())).hiddenStates);
  });
});

describe('emphasis arithmetic', () => {
  for (const unit of file.emphasis_original_unit_cases) {
    it(`"Original" unit case from ${unit.source_case} chunk ${unit.chunk}: A1111's output within ${tolerance}`, (t) => {
      const hidden = f32(unit.input);
      applyEmphasis(hidden, unit.multipliers, 32, 'original');
      const diff = maxAbsDiff(hidden, f32(unit.output));
      t.diagnostic(`max abs diff ${diff.toExponential(2)}`);
      assert.ok(diff <= tolerance, `differs by ${diff}`);
    });
  }

  it('"No norm" multiplies each token vector by float32(weight) and nothing else', () => {
    const hidden = Float32Array.from([1, 2, 3, 4, 5, 6]);
    applyEmphasis(hidden, [1, 1.1, -0.5], 2, 'no-norm');
    assert.deepEqual(Array.from(hidden), [1, 2, Math.fround(3 * Math.fround(1.1)), Math.fround(4 * Math.fround(1.1)), -2.5, -3]);
  });

  it('"Original" restores the chunk mean; all-1 chunks and unusable rescales are left unnormalised', () => {
    const hidden = Float32Array.from([1, 1, 2, 2]);
    applyEmphasis(hidden, [2, 1], 2, 'original');
    // mean before 1.5, after (4 + 4)/4 = 2: every value times 0.75.
    assert.deepEqual(Array.from(hidden), [1.5, 1.5, 1.5, 1.5]);
    const zeroMean = Float32Array.from([1, -1, 2, -2]);
    applyEmphasis(zeroMean, [1, 1], 2, 'original');
    assert.deepEqual(Array.from(zeroMean), [1, -1, 2, -2], 'A1111 would give NaN (0/0) here');
    const weightedZeroMean = Float32Array.from([1, -1, 2, -2]);
    applyEmphasis(weightedZeroMean, [1.5, 1], 2, 'original');
    assert.deepEqual(Array.from(weightedZeroMean), [1.5, -1.5, 2, -2], 'rescale 0/0 skipped: "No norm" result');
    const off = Float32Array.from([1, 2]);
    applyEmphasis(off, [3], 2, 'off');
    assert.deepEqual(Array.from(off), [1, 2]);
  });
});

describe('conditioning shapes', () => {
  const embeddings = (tokens: number, hiddenSize: number, value: number, pooled?: number): PromptEmbeddings => ({
    data: new Float32Array(tokens * hiddenSize).fill(value),
    sequenceLength: tokens,
    hiddenSize,
    ...(pooled !== undefined ? { pooled: Float32Array.of(pooled) } : {}),
  });

  it('pads the shorter side with whole copies of the empty chunk', () => {
    const padded = padWithEmptyChunks(embeddings(2, 3, 1), 6, embeddings(2, 3, 7));
    assert.equal(padded.sequenceLength, 6);
    assert.deepEqual(Array.from(padded.data), [...Array(6).fill(1), ...Array(12).fill(7)]);
    assert.throws(() => padWithEmptyChunks(embeddings(2, 3, 1), 5, embeddings(2, 3, 7)), RangeError);
    assert.throws(() => padWithEmptyChunks(embeddings(4, 3, 1), 2, embeddings(2, 3, 7)), RangeError);
  });

  it("joins two encoders' conditionings token by token, pooled from the second (SDXL)", () => {
    const first = { data: Float32Array.from([1, 2, 3, 4]), sequenceLength: 2, hiddenSize: 2 };
    const second = { data: Float32Array.from([5, 6, 7, 8, 9, 10]), sequenceLength: 2, hiddenSize: 3, pooled: Float32Array.of(42) };
    const joined = concatenateHidden(first, second);
    assert.deepEqual(Array.from(joined.data), [1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
    assert.equal(joined.hiddenSize, 5);
    assert.deepEqual(joined.pooled, Float32Array.of(42));
    assert.throws(() => concatenateHidden(first, embeddings(3, 3, 0)), RangeError);
  });
});
