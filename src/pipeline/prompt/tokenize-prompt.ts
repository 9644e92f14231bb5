import { isBreakMarker, parsePromptAttention, type WeightedText } from './attention.js';
import { chunkTokens, defaultChunkLength, type ChunkVocabulary, type PromptChunk, type PromptToken } from './chunks.js';

/**
 * How brackets in a prompt are read, as AUTOMATIC1111's "Emphasis mode" option:
 * - `original` (A1111's default): weights multiply the token vectors, then each chunk is rescaled to its
 *   former mean;
 * - `no-norm`: weights multiply the token vectors, nothing else;
 * - `off` (A1111's "None"): brackets, weights and `BREAK` are ordinary text, as diffusers reads prompts.
 */
export type EmphasisMode = 'original' | 'no-norm' | 'off';

/** Every emphasis mode, default first. */
export const emphasisModes: readonly EmphasisMode[] = ['original', 'no-norm', 'off'];

/** A1111's default emphasis mode. */
export const defaultEmphasis: EmphasisMode = 'original';

/** Longest prompt read by default, in A1111 tokens: three chunks. */
export const defaultMaxPromptTokens = 3 * defaultChunkLength;

/** The tokenizer as prompt reading needs it (implemented by `ClipTokenizer`). */
export interface PromptTokenizer extends ChunkVocabulary {
  /** Ids of a text's tokens: no bos/eos, no truncation. */
  tokenIds(text: string): number[];
  /** Ids back to text. */
  decode(ids: readonly number[]): string;
  /** Tokens per text-encoder call, bos and eos included (77). */
  readonly modelMaxLength: number;
}

/** Options of {@link tokenizePrompt}. */
export interface PromptReadingOptions {
  readonly emphasis?: EmphasisMode;
  /** Most A1111 tokens read ({@link ChunkedPrompt.tokenCount}); what lies beyond is cut and reported. */
  readonly maxTokens?: number;
}

/** How a prompt fared against the token limit: what the user should be told. */
export interface PromptReport {
  /** A1111's token count of the whole prompt, before any cut. */
  readonly tokenCount: number;
  /** The limit that applied. */
  readonly maxTokens: number;
  /** 77-token chunks the prompt was read in. */
  readonly chunkCount: number;
  /** True when tokens beyond the limit were cut. */
  readonly truncated: boolean;
  /** The cut tokens decoded back to text (`BREAK` where a marker was cut), `''` when nothing was cut. */
  readonly droppedText: string;
}

/** A prompt read the A1111 way: its pieces, the chunks the text encoder will see and the report. */
export interface TokenizedPrompt {
  readonly emphasis: EmphasisMode;
  /** The parse (`[[prompt, 1]]` with emphasis `off`). */
  readonly pieces: readonly WeightedText[];
  /** The chunks after the cut. */
  readonly chunks: readonly PromptChunk[];
  /** A1111's token count of what is read (after the cut). */
  readonly tokenCount: number;
  readonly report: PromptReport;
}

/**
 * Reads a prompt as AUTOMATIC1111 does with default settings: parse the emphasis syntax, tokenize every piece on
 * its own (piece boundaries are word boundaries), fill 75-token chunks with comma backtracking and `BREAK`, and
 * cut what lies beyond `maxTokens`.
 */
export function tokenizePrompt(prompt: string, tokenizer: PromptTokenizer, options: PromptReadingOptions = {}): TokenizedPrompt {
  const emphasis = options.emphasis ?? defaultEmphasis;
  const maxTokens = options.maxTokens ?? defaultMaxPromptTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  const chunkLength = tokenizer.modelMaxLength - 2;

  const pieces = emphasis === 'off' ? [{ text: prompt, weight: 1 }] : parsePromptAttention(prompt);
  const tokens: PromptToken[] = pieces.flatMap((piece): PromptToken[] =>
    isBreakMarker(piece) ? ['BREAK'] : tokenizer.tokenIds(piece.text).map((id) => ({ id, weight: piece.weight })),
  );
  const chunk = (count: number) => chunkTokens(tokens.slice(0, count), tokenizer, { chunkLength });

  const whole = chunk(tokens.length);
  let kept = tokens.length;
  let read = whole;
  if (whole.tokenCount > maxTokens) {
    // The count never falls as tokens are added, so the longest prefix within the limit is found by bisection.
    let low = 0;
    let high = tokens.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (chunk(middle).tokenCount <= maxTokens) low = middle;
      else high = middle - 1;
    }
    kept = low;
    read = chunk(kept);
  }
  return {
    emphasis,
    pieces,
    chunks: read.chunks,
    tokenCount: read.tokenCount,
    report: {
      tokenCount: whole.tokenCount,
      maxTokens,
      chunkCount: read.chunks.length,
      truncated: kept < tokens.length,
      droppedText: describeTokens(tokens.slice(kept), tokenizer),
    },
  };
}

/** Tokens back to text, `BREAK` markers included. */
function describeTokens(tokens: readonly PromptToken[], tokenizer: PromptTokenizer): string {
  const parts: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length > 0) parts.push(tokenizer.decode(run).trim());
    run = [];
  };
  for (const token of tokens) {
    if (token === 'BREAK') {
      flush();
      parts.push('BREAK');
    } else {
      run.push(token.id);
    }
  }
  flush();
  return parts.filter(Boolean).join(' ');
}
