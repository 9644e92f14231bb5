import type { ModelTiming } from '../components/io.js';
import { chunkInputIds } from './chunks.js';
import { applyEmphasis } from './emphasis.js';
import type { TokenizedPrompt } from './tokenize-prompt.js';

/** One text encoder's output for one chunk. */
export interface ChunkEncoding {
  /** `[tokens, hiddenSize]` float32: the hidden states the UNet is conditioned on. */
  readonly hiddenStates: Float32Array;
  readonly hiddenSize: number;
  /** A pooled text embedding, for encoders that give one the pipeline uses (SDXL's second encoder). */
  readonly pooled?: Float32Array;
}

/**
 * A text encoder as the prompt encoder uses it: one chunk of ids (`[1, 77]`) in, one hidden vector per id out.
 * Which output is taken (last hidden state, penultimate layer, …) is the implementation's business.
 */
export interface ChunkEncoder {
  encodeChunk(ids: Int32Array, timing: ModelTiming): Promise<ChunkEncoding>;
}

/** A prompt's conditioning: the chunks' weighted encoder outputs joined along the sequence axis. */
export interface PromptEmbeddings {
  /** `[sequenceLength, hiddenSize]` float32 (one batch row). */
  readonly data: Float32Array;
  /** 77 per chunk. */
  readonly sequenceLength: number;
  readonly hiddenSize: number;
  /** The first chunk's pooled embedding, as A1111 takes it, when the encoder gives one. */
  readonly pooled?: Float32Array;
}

/**
 * Turns tokenized prompts into conditioning: what the pipeline's conditioning step needs. {@link PromptEncoder}
 * does it with one text encoder; SDXL's two are a {@link DualPromptEncoder}, one PromptEncoder per encoder on the
 * same prompts, their results joined with {@link concatenateHidden}.
 */
export interface PromptsEncoder {
  /** One {@link PromptEmbeddings} per prompt, in order; each distinct chunk encoded once per call. */
  encodeAll(prompts: readonly TokenizedPrompt[], timing: ModelTiming): Promise<PromptEmbeddings[]>;
}

/** The special ids of the tokenizer that belongs to an encoder. */
export interface EncoderTokenIds {
  readonly eosTokenId: number;
  /** What follows the first eos in the encoder's input (eos itself for SD 1.x, `!` for SD 2.x). */
  readonly padTokenId: number;
}

/**
 * Turns tokenized prompts into conditioning through one text encoder, as A1111's `process_tokens` does: every
 * chunk is its own `[1, 77]` encoder call, its output is weighted with the chosen emphasis, and the chunks are
 * concatenated. A model with two text encoders (SDXL) runs one PromptEncoder per encoder on the same chunks and
 * joins the results along the hidden axis ({@link concatenateHidden}).
 */
export class PromptEncoder implements PromptsEncoder {
  constructor(
    private readonly encoder: ChunkEncoder,
    private readonly tokenIds: EncoderTokenIds,
  ) {}

  /**
   * Encodes several prompts; a chunk that occurs more than once (a repeated prompt, the empty chunk) is encoded
   * once. Results are in the order of `prompts`.
   */
  async encodeAll(prompts: readonly TokenizedPrompt[], timing: ModelTiming): Promise<PromptEmbeddings[]> {
    const encoded = new Map<string, ChunkEncoding>();
    const results: PromptEmbeddings[] = [];
    for (const prompt of prompts) {
      const parts: ChunkEncoding[] = [];
      for (const chunk of prompt.chunks) {
        const ids = chunkInputIds(chunk, this.tokenIds.eosTokenId, this.tokenIds.padTokenId);
        const key = ids.join(',');
        let encoding = encoded.get(key);
        if (!encoding) {
          encoding = await this.encoder.encodeChunk(ids, timing);
          if (encoding.hiddenStates.length !== ids.length * encoding.hiddenSize) {
            throw new Error(`text encoder gave ${encoding.hiddenStates.length} values for ${ids.length} tokens of ${encoding.hiddenSize}`);
          }
          encoded.set(key, encoding);
        }
        // Emphasis works in place and the encoding may be shared: weight a copy.
        const hiddenStates = encoding.hiddenStates.slice();
        applyEmphasis(hiddenStates, chunk.multipliers, encoding.hiddenSize, prompt.emphasis);
        parts.push({ ...encoding, hiddenStates });
      }
      results.push(joinChunks(parts));
    }
    return results;
  }
}

/**
 * SDXL's two text encoders on the same chunks, as A1111 conditions SDXL: each encoder reads every chunk with its own
 * padding id, weights its own output with the emphasis (so "original" rescales each encoder's part to its own mean),
 * and the two are joined token by token along the hidden axis, encoder 1 first (diffusers' `torch.concat(…, dim=-1)`).
 * The pooled embedding is the second encoder's, of the first chunk.
 */
export class DualPromptEncoder implements PromptsEncoder {
  constructor(
    private readonly first: PromptsEncoder,
    private readonly second: PromptsEncoder,
  ) {}

  async encodeAll(prompts: readonly TokenizedPrompt[], timing: ModelTiming): Promise<PromptEmbeddings[]> {
    const firsts = await this.first.encodeAll(prompts, timing);
    const seconds = await this.second.encodeAll(prompts, timing);
    return firsts.map((first, i) => {
      const second = seconds[i]!;
      if (!second.pooled) throw new Error('the second text encoder gave no pooled embedding');
      return concatenateHidden(first, second);
    });
  }
}

function joinChunks(parts: readonly ChunkEncoding[]): PromptEmbeddings {
  const hiddenSize = parts[0]!.hiddenSize;
  const tokens = parts.reduce((sum, part) => sum + part.hiddenStates.length / hiddenSize, 0);
  const data = new Float32Array(tokens * hiddenSize);
  let offset = 0;
  for (const part of parts) {
    if (part.hiddenSize !== hiddenSize) throw new Error('text encoder chunks differ in hidden size');
    data.set(part.hiddenStates, offset);
    offset += part.hiddenStates.length;
  }
  const pooled = parts[0]!.pooled;
  return { data, sequenceLength: tokens, hiddenSize, ...(pooled ? { pooled } : {}) };
}

/**
 * Classifier-free guidance with a prompt and a negative prompt of different lengths: the shorter one gets copies of
 * the empty prompt's chunk appended until both have the same length (A1111's `pad_cond_uncond`; its cached
 * `get_empty_cond`), so both rows of the UNet batch have one sequence length.
 */
export function padWithEmptyChunks(embeddings: PromptEmbeddings, sequenceLength: number, emptyChunk: PromptEmbeddings): PromptEmbeddings {
  const missing = sequenceLength - embeddings.sequenceLength;
  if (missing === 0) return embeddings;
  if (missing < 0 || missing % emptyChunk.sequenceLength !== 0 || emptyChunk.hiddenSize !== embeddings.hiddenSize) {
    throw new RangeError(`cannot pad ${embeddings.sequenceLength} tokens to ${sequenceLength} with chunks of ${emptyChunk.sequenceLength}`);
  }
  const data = new Float32Array(sequenceLength * embeddings.hiddenSize);
  data.set(embeddings.data);
  for (let offset = embeddings.data.length; offset < data.length; offset += emptyChunk.data.length) data.set(emptyChunk.data, offset);
  return { ...embeddings, data, sequenceLength };
}

/**
 * Joins two encoders' conditionings of the same prompt token by token along the hidden axis (`torch.cat(…, dim=-1)`),
 * as SDXL conditions its UNet on both of its text encoders. The pooled embedding is taken from `second`.
 */
export function concatenateHidden(first: PromptEmbeddings, second: PromptEmbeddings): PromptEmbeddings {
  if (first.sequenceLength !== second.sequenceLength) {
    throw new RangeError(`cannot join conditionings of ${first.sequenceLength} and ${second.sequenceLength} tokens`);
  }
  const hiddenSize = first.hiddenSize + second.hiddenSize;
  const data = new Float32Array(first.sequenceLength * hiddenSize);
  for (let token = 0; token < first.sequenceLength; token++) {
    data.set(first.data.subarray(token * first.hiddenSize, (token + 1) * first.hiddenSize), token * hiddenSize);
    data.set(second.data.subarray(token * second.hiddenSize, (token + 1) * second.hiddenSize), token * hiddenSize + first.hiddenSize);
  }
  return { data, sequenceLength: first.sequenceLength, hiddenSize, ...(second.pooled ? { pooled: second.pooled } : {}) };
}
