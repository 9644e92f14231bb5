import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelTiming } from '../../src/pipeline/components/io.js';
import { Unet } from '../../src/pipeline/components/unet.js';
import type { ModelIo, ModelSession } from '../../src/pipeline/model-session.js';
import { sdxlAddTimeIds } from '../../src/pipeline/model-family.js';
import { PromptConditioner, readPrompts } from '../../src/pipeline/prompt-conditioning.js';
import {
  DualPromptEncoder,
  PromptEncoder,
  type ChunkEncoder,
  type PromptsEncoder,
  type PromptEmbeddings,
} from '../../src/pipeline/prompt/prompt-encoder.js';
import type { TokenizedPrompt } from '../../src/pipeline/prompt/tokenize-prompt.js';
import { isUserError } from '../../src/errors.js';
import { tinyTokenizer } from './prompt/prompt-fixture.js';

/** The SDXL-specific rules of the conditioning, on small hand-made encoders (the goldens check them on real graphs). */
const tokenizer = tinyTokenizer();
const timing = (): ModelTiming => ({ modelMs: 0, modelCalls: 0 });
const decode = (prompt: TokenizedPrompt) => prompt.chunks.map((chunk) => tokenizer.decode(chunk.ids.filter((id) => id < 49406)).trim());

/** An embedder that records what it is asked to encode and answers with constant rows (value = chunk count). */
function recordingEmbedder(): PromptsEncoder & { seen: string[][] } {
  const seen: string[][] = [];
  return {
    seen,
    async encodeAll(prompts) {
      return prompts.map((prompt): PromptEmbeddings => {
        seen.push(decode(prompt));
        const sequenceLength = 77 * prompt.chunks.length;
        return {
          data: new Float32Array(sequenceLength * 2).fill(prompt.chunks.length),
          sequenceLength,
          hiddenSize: 2,
          pooled: Float32Array.of(7, 8, 9),
        };
      });
    },
  };
}

const longPrompt = Array.from({ length: 80 }, () => 'fox').join(' ');

describe("SDXL's added time ids", () => {
  it('are original size + crop top-left + target size, heights first, one row per UNet row', () => {
    assert.deepEqual(Array.from(sdxlAddTimeIds(128, 64, 2)), [64, 128, 0, 0, 64, 128, 64, 128, 0, 0, 64, 128]);
    assert.deepEqual(Array.from(sdxlAddTimeIds(1024, 1024, 1)), [1024, 1024, 0, 0, 1024, 1024]);
  });
});

describe('force_zeros_for_empty_prompt', () => {
  const zeroing = (embedder: PromptsEncoder) =>
    new PromptConditioner(tokenizer, embedder, undefined, 'the UNet', { zeroEmptyNegativePrompt: true });

  it('a job without a negative prompt gets zeros (pooled too) and the encoders never see the empty prompt', async () => {
    const embedder = recordingEmbedder();
    const conditioning = await zeroing(embedder).encode([{ prompt: 'a fox', numImages: 2 }], true, timing());
    assert.deepEqual(embedder.seen, [['a fox']]);
    const rowSize = 77 * 2;
    assert.equal(conditioning.embeddings.length, 4 * rowSize, 'two negative rows, then two prompt rows');
    assert.ok(conditioning.embeddings.subarray(0, 2 * rowSize).every((v) => v === 0));
    assert.ok(conditioning.embeddings.subarray(2 * rowSize).every((v) => v === 1));
    assert.deepEqual(Array.from(conditioning.pooled!.data), [0, 0, 0, 0, 0, 0, 7, 8, 9, 7, 8, 9]);
    assert.equal(conditioning.pooled!.size, 3);
  });

  it('an empty negative prompt counts as none; a given one is encoded', async () => {
    const embedder = recordingEmbedder();
    const conditioning = await zeroing(embedder).encode(
      [
        { prompt: 'a fox', negativePrompt: '', numImages: 1 },
        { prompt: 'a cat', negativePrompt: 'blurry', numImages: 1 },
      ],
      true,
      timing(),
    );
    assert.deepEqual(embedder.seen, [['a fox'], ['a cat'], ['blurry']]);
    assert.deepEqual(Array.from(conditioning.pooled!.data), [0, 0, 0, 7, 8, 9, 7, 8, 9, 7, 8, 9]);
  });

  it("a long prompt: one chunk of zeros padded with the empty prompt's chunk (A1111's pad_cond_uncond); a short negative likewise", async () => {
    const embedder = recordingEmbedder();
    const conditioning = await zeroing(embedder).encode([{ prompt: longPrompt, numImages: 1 }], true, timing());
    assert.equal(conditioning.sequenceLength, 154);
    assert.deepEqual(
      embedder.seen,
      [[''], ['fox '.repeat(75).trim(), 'fox fox fox fox fox']],
      'the empty chunk, for padding, then the prompt',
    );
    assert.ok(
      conditioning.embeddings.subarray(0, 77 * 2).every((v) => v === 0),
      'zeros where the negative prompt would be',
    );
    assert.ok(
      conditioning.embeddings.subarray(77 * 2, 154 * 2).every((v) => v === 1),
      'then the empty chunk',
    );
    assert.deepEqual(Array.from(conditioning.pooled!.data), [0, 0, 0, 7, 8, 9], 'the pooled negative stays zero');

    const padding = recordingEmbedder();
    const padded = await zeroing(padding).encode([{ prompt: longPrompt, negativePrompt: 'blurry', numImages: 1 }], true, timing());
    assert.deepEqual(padding.seen[0], [''], 'the empty chunk, for padding');
    assert.deepEqual(Array.from(padded.embeddings.subarray(0, 4)), [1, 1, 1, 1], 'negative: its own chunk first');
    assert.equal(padded.embeddings[77 * 2], 1, 'then the empty chunk (one chunk)');
  });

  it('without guidance nothing negative is made; without the option (SD 1.x/2.x) the empty prompt is encoded', async () => {
    const noGuidance = recordingEmbedder();
    const alone = await zeroing(noGuidance).encode([{ prompt: 'a fox', numImages: 1 }], false, timing());
    assert.deepEqual(noGuidance.seen, [['a fox']]);
    assert.equal(alone.embeddings.length, 77 * 2);

    const sd = recordingEmbedder();
    const conditioning = await new PromptConditioner(tokenizer, sd, undefined).encode([{ prompt: 'a fox', numImages: 1 }], true, timing());
    assert.deepEqual(sd.seen, [['a fox'], ['']]);
    assert.ok(conditioning.embeddings.every((v) => v === 1));
  });
});

describe('both SDXL encoders read the same chunks (as A1111 does)', () => {
  /** A fake encoder: every token's vector is [id, id·scale, …], and the pooled embedding is the chunk's first ids. */
  function fakeEncoder(hiddenSize: number, scale: number, pooled: boolean): ChunkEncoder & { ids: Int32Array[] } {
    const ids: Int32Array[] = [];
    return {
      ids,
      async encodeChunk(chunk) {
        ids.push(chunk.slice());
        const hiddenStates = new Float32Array(chunk.length * hiddenSize);
        chunk.forEach((id, t) => {
          for (let h = 0; h < hiddenSize; h++) hiddenStates[t * hiddenSize + h] = (id % 1000) * scale + h;
        });
        return { hiddenStates, hiddenSize, ...(pooled ? { pooled: Float32Array.from(chunk.slice(0, 3)) } : {}) };
      },
    };
  }

  it('each chunk through both encoders, the second padded with "!", joined token by token, pooled from the first chunk', async () => {
    const first = fakeEncoder(2, 1, false);
    const second = fakeEncoder(3, 2, true);
    const dual = new DualPromptEncoder(
      new PromptEncoder(first, { eosTokenId: 49407, padTokenId: 49407 }),
      new PromptEncoder(second, { eosTokenId: 49407, padTokenId: 0 }),
    );
    const { prompt } = readPrompts(tokenizer, { prompt: 'a fox BREAK (snow:1.5)', emphasis: 'no-norm' });
    const [joined] = await dual.encodeAll([prompt], timing());
    assert.equal(first.ids.length, 2);
    const untilEos = (ids: Int32Array) => Array.from(ids.slice(0, ids.indexOf(49407) + 1));
    assert.deepEqual(first.ids.map(untilEos), second.ids.map(untilEos), 'the same chunk ids');
    assert.deepEqual(first.ids.map(untilEos), [
      [49406, 320, first.ids[0]![2]!, 49407],
      [49406, first.ids[1]![1]!, 49407],
    ]);
    assert.ok(first.ids[0]!.slice(4).every((id) => id === 49407));
    assert.equal(second.ids[0]![3], 49407, 'eos');
    assert.ok(
      second.ids[0]!.slice(4).every((id) => id === 0),
      'then "!"',
    );
    assert.equal(joined!.hiddenSize, 5);
    assert.equal(joined!.sequenceLength, 154);
    const token = (t: number) => Array.from(joined!.data.subarray(t * 5, t * 5 + 5));
    const fox = first.ids[0]![2]! % 1000;
    assert.deepEqual(token(2), [fox, fox + 1, fox * 2, fox * 2 + 1, fox * 2 + 2], 'encoder 1 first, then encoder 2');
    const snow = first.ids[1]![1]! % 1000;
    assert.deepEqual(
      token(78),
      [snow, snow + 1, snow * 2, snow * 2 + 1, snow * 2 + 2].map((v) => Math.fround(v * 1.5)),
      'the weight applies to both encoders',
    );
    assert.deepEqual(Array.from(joined!.pooled!), Array.from(second.ids[0]!.slice(0, 3)), 'pooled: encoder 2, first chunk, unweighted');
  });
});

describe('SDXL UNet layouts (declared inputs)', () => {
  function session(inputs: ModelIo[]): ModelSession {
    return {
      path: '/models/x/unet/model.onnx',
      inputs: [
        { name: 'sample', type: 'float32', shape: ['batch', 4, 'h', 'w'] },
        { name: 'timestep', type: 'float32', shape: [1] },
        { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 2048] },
        ...inputs,
      ],
      outputs: [{ name: 'out_sample', type: 'float32', shape: ['batch', 4, 'h', 'w'] }],
      run: () => Promise.reject(new Error('not run')),
      release: () => Promise.resolve(),
    };
  }

  it('text_embeds and time_ids make an SDXL UNet; the declared pooled size is read', () => {
    const unet = new Unet(
      session([
        { name: 'text_embeds', type: 'float16', shape: ['batch', 1280] },
        { name: 'time_ids', type: 'float16', shape: ['batch', 6] },
      ]),
    );
    assert.equal(unet.takesAddedConditions, true);
    assert.equal(unet.textEmbedsDim, 1280);
  });

  it("the refiner's five time ids (aesthetic score) and integer time ids are refused by name", () => {
    const refuse = (inputs: ModelIo[], message: RegExp) =>
      assert.throws(
        () => new Unet(session(inputs)),
        (error: unknown) => isUserError(error) && error.identifier === 'model.unexpectedLayout' && message.test(error.message),
      );
    refuse(
      [
        { name: 'text_embeds', type: 'float32', shape: ['batch', 1280] },
        { name: 'time_ids', type: 'float32', shape: ['batch', 5] },
      ],
      /`time_ids` has 5 values per row.*refiner's aesthetic-score form/,
    );
    refuse(
      [
        { name: 'text_embeds', type: 'float32', shape: ['batch', 1280] },
        { name: 'time_ids', type: 'int64', shape: ['batch', 6] },
      ],
      /`time_ids` \(size micro-conditioning\) to be float32 or float16, got int64/,
    );
    refuse([{ name: 'controlnet_cond', type: 'float32', shape: ['batch', 3, 'H', 'W'] }], /does not provide: `controlnet_cond`/);
  });
});
