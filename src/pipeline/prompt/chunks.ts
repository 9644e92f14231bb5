/**
 * AUTOMATIC1111's way of reading prompts of any length (`modules/sd_hijack_clip.py`, `tokenize_line`): the tokens
 * of all pieces fill 75-token chunks; each chunk becomes one 77-token text-encoder call (bos + 75 + eos, padded
 * with eos), and the encoder outputs are later joined along the sequence axis.
 */

/** One 77-token text-encoder input and the weight of each of its tokens. */
export interface PromptChunk {
  /** bos, 75 token ids (padded with eos), eos. */
  readonly ids: readonly number[];
  /** One multiplier per id; 1 on bos, eos and padding. */
  readonly multipliers: readonly number[];
}

/** A prompt's tokens in order, each with its weight, and the `BREAK` markers between them. */
export type PromptToken = { readonly id: number; readonly weight: number } | 'BREAK';

/** The ids the chunker needs from the tokenizer. */
export interface ChunkVocabulary {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  /** `,</w>`; undefined when the vocabulary has none (then no comma backtracking happens). */
  readonly commaTokenId: number | undefined;
}

/** A1111's defaults: 75 tokens per chunk and `comma_padding_backtrack` 20. */
export interface ChunkOptions {
  /** Prompt tokens per chunk (the text encoder's length minus bos and eos). */
  readonly chunkLength?: number;
  /** How far back (in tokens) a comma may lie for the text after it to move to the next chunk; 0 turns it off. */
  readonly commaBacktrack?: number;
}

/** The chunks of a prompt and A1111's token count. */
export interface ChunkedPrompt {
  readonly chunks: readonly PromptChunk[];
  /**
   * A1111's count: the chunk length for every chunk but the last (also for chunks a `BREAK` or a comma closed
   * early) plus the real tokens of the last. What A1111 shows as "N/75" above its prompt box.
   */
  readonly tokenCount: number;
}

/** Standard chunk length of Stable Diffusion's CLIP text encoders (77 positions minus bos and eos). */
export const defaultChunkLength = 75;

/** Splits a prompt's tokens into chunks exactly as A1111's `tokenize_line` does (without textual-inversion embeddings). */
export function chunkTokens(tokens: readonly PromptToken[], vocabulary: ChunkVocabulary, options: ChunkOptions = {}): ChunkedPrompt {
  const chunkLength = options.chunkLength ?? defaultChunkLength;
  const commaBacktrack = options.commaBacktrack ?? 20;
  const { bosTokenId, eosTokenId, commaTokenId } = vocabulary;

  const chunks: PromptChunk[] = [];
  let ids: number[] = [];
  let multipliers: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const closeChunk = (isLast: boolean) => {
    tokenCount += isLast ? ids.length : chunkLength;
    const padding = chunkLength - ids.length;
    chunks.push({
      ids: [bosTokenId, ...ids, ...Array<number>(padding).fill(eosTokenId), eosTokenId],
      multipliers: [1, ...multipliers, ...Array<number>(padding).fill(1), 1],
    });
    ids = [];
    multipliers = [];
    lastComma = -1;
  };

  for (const token of tokens) {
    if (token === 'BREAK') {
      closeChunk(false);
      continue;
    }
    if (token.id === commaTokenId) {
      lastComma = ids.length;
    } else if (commaBacktrack !== 0 && ids.length === chunkLength && lastComma !== -1 && ids.length - lastComma <= commaBacktrack) {
      // The chunk is full and a comma lies close behind: the words after it move to the next chunk together.
      const moved = lastComma + 1;
      const movedIds = ids.slice(moved);
      const movedMultipliers = multipliers.slice(moved);
      ids = ids.slice(0, moved);
      multipliers = multipliers.slice(0, moved);
      closeChunk(false);
      ids = movedIds;
      multipliers = movedMultipliers;
    }
    if (ids.length === chunkLength) closeChunk(false);
    ids.push(token.id);
    multipliers.push(token.weight);
  }
  if (ids.length > 0 || chunks.length === 0) closeChunk(true);
  return { chunks, tokenCount };
}

/**
 * The ids a text encoder gets for a chunk. Where the tokenizer pads with something other than eos (SD 2.x and
 * SDXL's second tokenizer pad with `!`), everything after the first eos becomes the pad id, as A1111 does.
 */
export function chunkInputIds(chunk: PromptChunk, eosTokenId: number, padTokenId: number): Int32Array {
  const ids = Int32Array.from(chunk.ids);
  if (padTokenId !== eosTokenId) {
    const end = ids.indexOf(eosTokenId);
    if (end >= 0) ids.fill(padTokenId, end + 1);
  }
  return ids;
}
