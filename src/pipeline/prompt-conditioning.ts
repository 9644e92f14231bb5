import { UserError } from '../errors.js';
import type { ModelTiming } from './components/io.js';
import { padWithEmptyChunks, type PromptEmbeddings, type PromptsEncoder } from './prompt/prompt-encoder.js';
import {
  tokenizePrompt,
  type EmphasisMode,
  type PromptReport,
  type PromptTokenizer,
  type TokenizedPrompt,
} from './prompt/tokenize-prompt.js';

/** A job's prompts and how they are read. */
export interface PromptTexts {
  readonly prompt: string;
  /** Defaults to the empty string, as in diffusers. */
  readonly negativePrompt?: string;
  /** Defaults to `original`, A1111's default. */
  readonly emphasis?: EmphasisMode;
  /** Most A1111 tokens read per prompt; defaults to 225 (three chunks). */
  readonly maxPromptTokens?: number;
}

/** What the conditioning of one job depends on. */
export interface PromptInputs extends PromptTexts {
  /** Images of the job: its conditioning fills this many rows. */
  readonly numImages: number;
}

/** A job's prompt and negative prompt, read into chunks (nothing is encoded). */
export function readPrompts(tokenizer: PromptTokenizer, job: PromptTexts): { prompt: TokenizedPrompt; negativePrompt: TokenizedPrompt } {
  const options = {
    ...(job.emphasis !== undefined ? { emphasis: job.emphasis } : {}),
    ...(job.maxPromptTokens !== undefined ? { maxTokens: job.maxPromptTokens } : {}),
  };
  return {
    prompt: tokenizePrompt(job.prompt, tokenizer, options),
    negativePrompt: tokenizePrompt(job.negativePrompt ?? '', tokenizer, options),
  };
}

/**
 * Chunks in a job's UNet rows: the longer of prompt and negative prompt with classifier-free guidance, the
 * prompt's without. Only jobs with equal counts can share a UNet batch: padding one job's conditioning to
 * another's length would change its pictures. Needs only the tokenizer, so a process without the model's graphs
 * (the bot's) can group jobs.
 */
export function conditioningChunkCount(tokenizer: PromptTokenizer, job: PromptTexts, doClassifierFreeGuidance: boolean): number {
  const { prompt, negativePrompt } = readPrompts(tokenizer, job);
  return rowChunks(prompt, negativePrompt, doClassifierFreeGuidance);
}

function rowChunks(prompt: TokenizedPrompt, negativePrompt: TokenizedPrompt, doClassifierFreeGuidance: boolean): number {
  return doClassifierFreeGuidance ? Math.max(prompt.chunks.length, negativePrompt.chunks.length) : prompt.chunks.length;
}

/** How each of a job's prompts fared against the token limit. */
export interface JobPromptReports {
  readonly prompt: PromptReport;
  readonly negativePrompt: PromptReport;
}

/** The text conditioning of a batch, laid out as the UNet's `encoder_hidden_states`. */
export interface BatchConditioning {
  /**
   * `[rows, sequenceLength, hiddenSize]`: with classifier-free guidance the negative rows of every job, then the
   * prompt rows (diffusers' `cat([negative, prompt])`); without, the prompt rows. Each job has `numImages` rows.
   */
  readonly embeddings: Float32Array;
  readonly sequenceLength: number;
  readonly hiddenSize: number;
  /**
   * `[rows, pooledSize]` pooled text embeddings in the same row order, when the text encoders give one (SDXL's second
   * encoder); zero rows where a negative prompt was zeroed.
   */
  readonly pooled?: { readonly data: Float32Array; readonly size: number };
  /** Per job, in job order. */
  readonly reports: readonly JobPromptReports[];
}

/** Options of {@link PromptConditioner}. */
export interface PromptConditionerOptions {
  /**
   * SDXL's `force_zeros_for_empty_prompt`: with guidance, a job without a negative prompt gets zeros as its negative
   * conditioning (and pooled embedding) instead of the encoded empty prompt, and the encoders never see it. A prompt
   * longer than one chunk pads those zeros with the empty prompt's chunk, as A1111 pads its zeroed uncond.
   */
  readonly zeroEmptyNegativePrompt?: boolean;
}

/**
 * Step 3 of the pipeline, "encode input prompt", the AUTOMATIC1111 way: each prompt is read with its emphasis
 * syntax into 77-token chunks, encoded chunk by chunk, and with classifier-free guidance the shorter of prompt and
 * negative prompt is padded with the empty prompt's chunk. The encoder decides the model family's part (one CLIP
 * encoder for SD 1.x/2.x, SDXL's two joined with a pooled embedding); SDXL's missing negative prompt becomes zeros.
 */
export class PromptConditioner {
  /**
   * @param fixedSequenceLength the UNet's text length when its graph fixes it (then only prompts of exactly that
   *   many chunks can be used); undefined for a dynamic axis
   * @param describeFixedLength where the fixed length comes from, for the refusal message
   */
  constructor(
    private readonly tokenizer: PromptTokenizer,
    private readonly encoder: PromptsEncoder,
    private readonly fixedSequenceLength: number | undefined,
    private readonly describeFixedLength = 'the UNet graph',
    private readonly options: PromptConditionerOptions = {},
  ) {}

  /** Tokens per chunk as the text encoder sees them (bos and eos included). */
  get chunkSize(): number {
    return this.tokenizer.modelMaxLength;
  }

  /** See {@link conditioningChunkCount}. */
  chunkCount(job: PromptTexts, doClassifierFreeGuidance: boolean): number {
    return conditioningChunkCount(this.tokenizer, job, doClassifierFreeGuidance);
  }

  /** Encodes every job's prompts (each distinct chunk once) and lays them out as {@link BatchConditioning}. */
  async encode(jobs: readonly PromptInputs[], doClassifierFreeGuidance: boolean, timing: ModelTiming): Promise<BatchConditioning> {
    const read = jobs.map((job) => readPrompts(this.tokenizer, job));
    const chunkCounts = read.map(({ prompt, negativePrompt }) => rowChunks(prompt, negativePrompt, doClassifierFreeGuidance));
    if (this.fixedSequenceLength !== undefined) read.forEach((prompts, j) => this.checkFixedLength(prompts, chunkCounts[j]!));
    if (chunkCounts.some((count) => count !== chunkCounts[0])) {
      throw new Error(`jobs of one batch must have prompts of the same length in chunks, got ${chunkCounts.join(', ')}`);
    }

    // diffusers zeroes the negative side when no negative prompt was given (`negative_prompt is None`).
    const zeroed = jobs.map((job) => doClassifierFreeGuidance && this.options.zeroEmptyNegativePrompt === true && !job.negativePrompt);
    const sequenceLength = chunkCounts[0]! * this.chunkSize;
    // Without guidance diffusers never encodes the negative prompt (it is still read, for the report). The empty
    // prompt's chunk is only needed where a prompt is shorter than its negative prompt or the other way round.
    const needsPadding =
      doClassifierFreeGuidance && read.some(({ prompt, negativePrompt }) => prompt.chunks.length !== negativePrompt.chunks.length);
    const negatives = doClassifierFreeGuidance ? read.flatMap((r, j) => (zeroed[j] ? [] : [r.negativePrompt])) : [];
    const encoded = await this.encoder.encodeAll(
      [...(needsPadding ? [tokenizePrompt('', this.tokenizer)] : []), ...read.map((r) => r.prompt), ...negatives],
      timing,
    );
    const emptyChunk = needsPadding ? encoded.shift()! : undefined;
    const padded = (embeddings: PromptEmbeddings) => (emptyChunk ? padWithEmptyChunks(embeddings, sequenceLength, emptyChunk) : embeddings);
    const prompts = encoded.splice(0, jobs.length);
    const negative = doClassifierFreeGuidance
      ? read.map((r, j) => padded(zeroed[j] ? zeros(r.negativePrompt.chunks.length * this.chunkSize, prompts[j]!) : encoded.shift()!))
      : [];
    const positive = prompts.map(padded);

    const hiddenSize = positive[0]!.hiddenSize;
    const rowSize = sequenceLength * hiddenSize;
    const pooledSize = positive[0]!.pooled?.length;
    const totalRows = jobs.reduce((sum, job) => sum + job.numImages, 0);
    const rows = (doClassifierFreeGuidance ? 2 : 1) * totalRows;
    const embeddings = new Float32Array(rows * rowSize);
    const pooled = pooledSize !== undefined ? new Float32Array(rows * pooledSize) : undefined;
    let row = 0;
    const place = (list: readonly PromptEmbeddings[]) => {
      jobs.forEach((job, j) => {
        for (let k = 0; k < job.numImages; k++, row++) {
          embeddings.set(list[j]!.data, row * rowSize);
          if (pooled) pooled.set(list[j]!.pooled!, row * pooledSize!);
        }
      });
    };
    if (doClassifierFreeGuidance) place(negative);
    place(positive);
    return {
      embeddings,
      sequenceLength,
      hiddenSize,
      ...(pooled ? { pooled: { data: pooled, size: pooledSize! } } : {}),
      reports: read.map(({ prompt, negativePrompt }) => ({ prompt: prompt.report, negativePrompt: negativePrompt.report })),
    };
  }

  private checkFixedLength(read: { prompt: TokenizedPrompt; negativePrompt: TokenizedPrompt }, chunkCount: number): void {
    const fixed = this.fixedSequenceLength!;
    if (chunkCount * this.chunkSize === fixed) return;
    const side = read.prompt.chunks.length === chunkCount ? read.prompt : read.negativePrompt;
    const which = side === read.prompt ? 'prompt' : 'negative prompt';
    const rule =
      fixed === this.chunkSize
        ? `a prompt can have at most ${this.chunkSize - 2} tokens and no BREAK`
        : `every prompt must fill exactly ${fixed / this.chunkSize} chunks of ${this.chunkSize - 2} tokens`;
    throw new UserError(
      'prompt.tooLongForModel',
      `This model reads exactly ${fixed} text tokens (${this.describeFixedLength} fixes the sequence axis of \`encoder_hidden_states\` at ${fixed}), ` +
        `so ${rule}; the ${which} has ${side.report.tokenCount} tokens in ${side.chunks.length} chunks. ` +
        'Shorten it, or use a model exported with a dynamic sequence axis, which reads prompts of any length: ' +
        '`optimum-cli export onnx --model <model> --task text-to-image <folder>` and diffusers’ `convert_stable_diffusion_checkpoint_to_onnx.py` both export one.',
    );
  }
}

/** A zero conditioning of `sequenceLength` tokens shaped like `like` (its pooled embedding too): `torch.zeros_like`. */
function zeros(sequenceLength: number, like: PromptEmbeddings): PromptEmbeddings {
  return {
    data: new Float32Array(sequenceLength * like.hiddenSize),
    sequenceLength,
    hiddenSize: like.hiddenSize,
    ...(like.pooled ? { pooled: new Float32Array(like.pooled.length) } : {}),
  };
}
