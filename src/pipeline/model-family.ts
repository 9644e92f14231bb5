/**
 * What differs between the model families the pipeline runs: which text encoders there are, how their outputs
 * condition the UNet, and which added inputs the UNet takes. Everything else (latents, schedulers, guidance, the
 * VAE) is one recipe for all families.
 */
import { UserError } from '../errors.js';
import type { ModelFamily, ModelFolder } from '../model/model-folder.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import type { ModelTiming } from './components/io.js';
import { TextEncoder } from './components/text-encoder.js';
import { sdxlTimeIdsLength, type AddedConditions, type Unet } from './components/unet.js';
import type { ModelSession } from './model-session.js';
import { PromptConditioner, type BatchConditioning, type PromptInputs } from './prompt-conditioning.js';
import { DualPromptEncoder, PromptEncoder } from './prompt/prompt-encoder.js';

/** The conditioning of a batch as the UNet takes it: text embeddings and, for SDXL, the added conditions. */
export interface FamilyConditioning extends BatchConditioning {
  /** SDXL's `text_embeds` and `time_ids`, one row per UNet row; undefined for SD 1.x/2.x. */
  readonly added?: AddedConditions;
}

/** One text encoder as `info` reports it. */
export interface TextEncoderDescription {
  readonly file: string;
  /** The output the UNet is conditioned on: `last_hidden_state` or `hidden_states.N` (SDXL's penultimate layer). */
  readonly hiddenState: string;
  readonly idsType: string;
  readonly outputType: string;
  /** The id after the first eos (49407 `<|endoftext|>`, or 0 `!` for SD 2.x and SDXL's second tokenizer). */
  readonly padToken: number;
  /** Whether its pooled `text_embeds` are used (SDXL's second encoder). */
  readonly pooled: boolean;
}

/** The family-specific step 3 of the pipeline, "encode input prompt" (plus SDXL's step 7, the added time ids). */
export interface FamilyStrategy {
  readonly family: ModelFamily;
  readonly textEncoders: readonly TextEncoderDescription[];
  /** SDXL: a job without a negative prompt gets zeros as its negative conditioning (`force_zeros_for_empty_prompt`). */
  readonly zeroEmptyNegativePrompt: boolean;
  /** 77-token chunks of a job's UNet rows; only jobs with equal counts share a batch. */
  chunkCount(job: PromptInputs, doClassifierFreeGuidance: boolean): number;
  /** Encodes a batch's prompts; `size` is the picture's, for SDXL's micro-conditioning. */
  encode(
    jobs: readonly PromptInputs[],
    doClassifierFreeGuidance: boolean,
    size: { readonly width: number; readonly height: number },
    timing: ModelTiming,
  ): Promise<FamilyConditioning>;
}

/**
 * SDXL's `add_time_ids` for a picture of `width` × `height` drawn as is: `original_size + crops_coords_top_left +
 * target_size` = `[height, width, 0, 0, height, width]` (diffusers' defaults; img2img of a base model without an
 * aesthetic score uses the same form), one row per UNet row (with guidance the negative rows are identical).
 */
export function sdxlAddTimeIds(width: number, height: number, rows: number): Float32Array {
  const row = [height, width, 0, 0, height, width];
  const ids = new Float32Array(rows * sdxlTimeIdsLength);
  for (let r = 0; r < rows; r++) ids.set(row, r * sdxlTimeIdsLength);
  return ids;
}

/** Loads a folder's text encoders (one, or SDXL's two) through `load`; `load` keeps the sessions for release. */
export async function loadTextEncoders(
  folder: ModelFolder,
  load: (path: string) => Promise<ModelSession>,
): Promise<readonly TextEncoder[]> {
  if (folder.family === 'stable-diffusion') return [new TextEncoder(await load(folder.modelFiles.text_encoder))];
  const layers = folder.textEncoderLayers;
  return [
    new TextEncoder(await load(folder.modelFiles.text_encoder), {
      hiddenState: 'penultimate',
      ...(layers.text_encoder !== undefined ? { numHiddenLayers: layers.text_encoder } : {}),
    }),
    new TextEncoder(await load(folder.modelFiles.text_encoder_2!), {
      hiddenState: 'penultimate',
      pooled: true,
      ...(layers.text_encoder_2 !== undefined ? { numHiddenLayers: layers.text_encoder_2 } : {}),
    }),
  ];
}

/**
 * The strategy for a folder's family, after checking that the UNet graph agrees with it: an SDXL folder needs a UNet
 * that takes `text_embeds` and `time_ids`, and a UNet that takes them needs SDXL's second text encoder.
 */
export function familyStrategy(
  folder: ModelFolder,
  tokenizer: ClipTokenizer,
  encoders: readonly TextEncoder[],
  unet: Unet,
): FamilyStrategy {
  const unetFile = folder.modelFiles.unet;
  if (folder.family === 'stable-diffusion') {
    if (unet.takesAddedConditions) {
      throw new UserError(
        'model.unexpectedLayout',
        `${unetFile}: the UNet takes SDXL's added conditions (\`text_embeds\`, \`time_ids\`), but ${folder.dir} has no text_encoder_2/ ` +
          "(SDXL's second text encoder, which gives the pooled text embedding) and no tokenizer_2/. Download or export the whole SDXL folder.",
      );
    }
    return new SingleEncoderStrategy(folder, tokenizer, encoders[0]!, unet);
  }
  if (!unet.takesAddedConditions) {
    throw new UserError(
      'model.unexpectedLayout',
      `${unetFile}: this is an SDXL folder (${folder.familyReason}), but the UNet graph has no \`text_embeds\`/\`time_ids\` inputs: ` +
        'it is not an SDXL UNet, or it was exported without the added conditions.',
    );
  }
  const tokenizer2 = ClipTokenizer.fromFolder(folder.tokenizer2Dir!);
  if (
    !tokenizer.hasSameVocabulary(tokenizer2) ||
    tokenizer2.eosTokenId !== tokenizer.eosTokenId ||
    tokenizer2.bosTokenId !== tokenizer.bosTokenId
  ) {
    throw new UserError(
      'model.unexpectedLayout',
      `${folder.tokenizer2Dir}: SDXL's two tokenizers must share CLIP's vocabulary (they differ only in padding); this one does not match tokenizer/.`,
    );
  }
  return new DualEncoderStrategy(folder, tokenizer, tokenizer2, encoders as [TextEncoder, TextEncoder], unet);
}

function describeEncoder(file: string, encoder: TextEncoder, padToken: number, pooled: boolean): TextEncoderDescription {
  return { file, hiddenState: encoder.hiddenStateOutput, idsType: encoder.inputIdsType, outputType: encoder.outputType, padToken, pooled };
}

/** Where a fixed text length comes from, in the refusal: named inside the model folder, because the refusal reaches
 * Discord users, who need not see the host's paths. */
const fixedLengthSource = "the model's unet/model.onnx";

/** SD 1.x/2.x: one CLIP text encoder's last hidden state; no added conditions. */
class SingleEncoderStrategy implements FamilyStrategy {
  readonly family = 'stable-diffusion' as const;
  readonly zeroEmptyNegativePrompt = false;
  readonly textEncoders: readonly TextEncoderDescription[];
  private readonly conditioner: PromptConditioner;

  constructor(folder: ModelFolder, tokenizer: ClipTokenizer, encoder: TextEncoder, unet: Unet) {
    const ids = { eosTokenId: tokenizer.eosTokenId, padTokenId: tokenizer.padTokenId };
    this.conditioner = new PromptConditioner(tokenizer, new PromptEncoder(encoder, ids), unet.sequenceLength, fixedLengthSource);
    this.textEncoders = [describeEncoder(folder.modelFiles.text_encoder, encoder, tokenizer.padTokenId, false)];
  }

  chunkCount(job: PromptInputs, doClassifierFreeGuidance: boolean): number {
    return this.conditioner.chunkCount(job, doClassifierFreeGuidance);
  }

  encode(
    jobs: readonly PromptInputs[],
    doClassifierFreeGuidance: boolean,
    _size: unknown,
    timing: ModelTiming,
  ): Promise<FamilyConditioning> {
    return this.conditioner.encode(jobs, doClassifierFreeGuidance, timing);
  }
}

/**
 * SDXL, as diffusers' `StableDiffusionXLPipeline.encode_prompt` and A1111 condition it: every chunk through both
 * encoders (penultimate hidden states, joined on the hidden axis), the second encoder's pooled embedding as
 * `text_embeds`, zeros for a missing negative prompt when the folder says so, and the size micro-conditioning.
 */
class DualEncoderStrategy implements FamilyStrategy {
  readonly family = 'stable-diffusion-xl' as const;
  readonly zeroEmptyNegativePrompt: boolean;
  readonly textEncoders: readonly TextEncoderDescription[];
  private readonly conditioner: PromptConditioner;

  constructor(
    folder: ModelFolder,
    tokenizer: ClipTokenizer,
    tokenizer2: ClipTokenizer,
    [first, second]: readonly [TextEncoder, TextEncoder],
    private readonly unet: Unet,
  ) {
    this.zeroEmptyNegativePrompt = folder.forceZerosForEmptyPrompt;
    const embedder = new DualPromptEncoder(
      new PromptEncoder(first, { eosTokenId: tokenizer.eosTokenId, padTokenId: tokenizer.padTokenId }),
      new PromptEncoder(second, { eosTokenId: tokenizer2.eosTokenId, padTokenId: tokenizer2.padTokenId }),
    );
    this.conditioner = new PromptConditioner(tokenizer, embedder, unet.sequenceLength, fixedLengthSource, {
      zeroEmptyNegativePrompt: this.zeroEmptyNegativePrompt,
    });
    this.textEncoders = [
      describeEncoder(folder.modelFiles.text_encoder, first, tokenizer.padTokenId, false),
      describeEncoder(folder.modelFiles.text_encoder_2!, second, tokenizer2.padTokenId, true),
    ];
  }

  chunkCount(job: PromptInputs, doClassifierFreeGuidance: boolean): number {
    return this.conditioner.chunkCount(job, doClassifierFreeGuidance);
  }

  async encode(
    jobs: readonly PromptInputs[],
    doClassifierFreeGuidance: boolean,
    size: { readonly width: number; readonly height: number },
    timing: ModelTiming,
  ): Promise<FamilyConditioning> {
    const conditioning = await this.conditioner.encode(jobs, doClassifierFreeGuidance, timing);
    const pooled = conditioning.pooled!;
    const declared = this.unet.textEmbedsDim;
    if (declared !== undefined && declared !== pooled.size) {
      throw new UserError(
        'model.unexpectedLayout',
        `The second text encoder's \`text_embeds\` have ${pooled.size} values, but the UNet's \`text_embeds\` input takes ${declared}: the two graphs do not belong together.`,
      );
    }
    const rows = pooled.data.length / pooled.size;
    return { ...conditioning, added: { textEmbeds: pooled.data, timeIds: sdxlAddTimeIds(size.width, size.height, rows) } };
  }
}
