import { UserError } from '../../errors.js';
import { float32ToFloat16Bits } from '../float16.js';
import type { ModelIo, ModelSession, TensorData } from '../model-session.js';
import {
  expectRank,
  findInput,
  findOutput,
  floatTensor,
  floatTypeOf,
  readFloatOutput,
  timedRun,
  type FloatType,
  type ModelTiming,
} from './io.js';

/** How the exported graph wants its timestep: element type and whether it is a scalar, `[1]` or `[batch]`. */
export interface TimestepLayout {
  readonly type: 'float32' | 'float16' | 'float64' | 'int64' | 'int32';
  readonly shape: 'scalar' | 'single' | 'batch';
}

/** Inputs of one UNet evaluation. */
export interface UnetInput {
  /** `[batch, 4, h, w]` latents after `scale_model_input` (and CFG duplication). */
  readonly sample: Float32Array;
  readonly sampleDims: readonly [number, number, number, number];
  /** The scheduler's timestep value (exact float32 or integer). */
  readonly timestep: number;
  /** `[batch, sequence, hidden]` text embeddings. */
  readonly encoderHiddenStates: Float32Array;
  readonly encoderHiddenStatesDims: readonly [number, number, number];
  /** `[batch, timeCondProjDim]` guidance embedding for LCM-distilled UNets. */
  readonly timestepCond?: Float32Array;
  /** SDXL's added conditions, one row per batch entry (required by UNets that take them). */
  readonly addedConditions?: AddedConditions;
}

/**
 * SDXL's `added_cond_kwargs`: the pooled text embedding and the size micro-conditioning, which the UNet embeds
 * and adds to its timestep embedding.
 */
export interface AddedConditions {
  /** `[batch, textEmbedsDim]` pooled embeddings of the second text encoder (`add_text_embeds`). */
  readonly textEmbeds: Float32Array;
  /** `[batch, 6]` `add_time_ids`: original size, crop top-left, target size (heights first). */
  readonly timeIds: Float32Array;
}

/** Numbers in one row of SDXL's `time_ids`: original (h, w), crop (top, left), target (h, w). */
export const sdxlTimeIdsLength = 6;

/** The denoising UNet graph. */
export class Unet {
  private readonly sampleName: string;
  private readonly sampleType: FloatType;
  private readonly timestepName: string;
  private readonly hiddenName: string;
  private readonly hiddenType: FloatType;
  private readonly outputName: string;
  private readonly timestepCondInput?: ModelIo;
  private readonly textEmbedsInput?: ModelIo;
  private readonly timeIdsInput?: ModelIo;
  /** How the timestep is fed; reported by `info`. */
  readonly timestepLayout: TimestepLayout;
  /**
   * Length of the text sequence when the graph fixes it (an export that declared `encoder_hidden_states` as
   * `[batch, 77, hidden]`), undefined when the axis is dynamic (optimum's and diffusers' exports).
   */
  readonly sequenceLength: number | undefined;

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(private readonly session: ModelSession) {
    const sample = findInput(session, ['sample'], 'noisy latents [batch, 4, height, width]');
    expectRank(session, sample, 4, 'noisy latents');
    this.sampleName = sample.name;
    this.sampleType = floatTypeOf(session, sample, 'noisy latents');

    const timestep = findInput(session, ['timestep'], 'the denoising timestep');
    this.timestepName = timestep.name;
    this.timestepLayout = timestepLayoutOf(session, timestep, sample);

    const hidden = findInput(session, ['encoder_hidden_states'], 'text embeddings [batch, sequence, hidden]');
    expectRank(session, hidden, 3, 'text embeddings');
    this.hiddenName = hidden.name;
    this.hiddenType = floatTypeOf(session, hidden, 'text embeddings');
    const sequence = hidden.shape?.[1];
    this.sequenceLength = typeof sequence === 'number' && sequence > 0 ? sequence : undefined;

    const cond = session.inputs.find((io) => io.name === 'timestep_cond');
    if (cond) {
      floatTypeOf(session, cond, 'guidance embedding');
      this.timestepCondInput = cond;
    }
    const textEmbeds = session.inputs.find((io) => io.name === 'text_embeds');
    const timeIds = session.inputs.find((io) => io.name === 'time_ids');
    if ((textEmbeds === undefined) !== (timeIds === undefined)) {
      throw new UserError(
        'model.unexpectedLayout',
        `${session.path}: an SDXL UNet takes both \`text_embeds\` and \`time_ids\`; the graph declares only \`${(textEmbeds ?? timeIds)!.name}\`.`,
      );
    }
    if (textEmbeds && timeIds) {
      floatTypeOf(session, textEmbeds, 'pooled text embeddings');
      expectRank(session, textEmbeds, 2, 'pooled text embeddings [batch, projection_dim]');
      floatTypeOf(session, timeIds, 'size micro-conditioning');
      expectRank(session, timeIds, 2, 'size micro-conditioning [batch, 6]');
      const width = timeIds.shape?.[1];
      if (typeof width === 'number' && width !== sdxlTimeIdsLength) {
        throw new UserError(
          'model.unexpectedLayout',
          `${session.path}: \`time_ids\` has ${width} values per row; SDXL base models take ${sdxlTimeIdsLength} (original size, crop, target size). ` +
            (width === 5 ? "Five is the SDXL refiner's aesthetic-score form, which latentcord does not run." : ''),
        );
      }
      this.textEmbedsInput = textEmbeds;
      this.timeIdsInput = timeIds;
    }
    const known = new Set([this.sampleName, this.timestepName, this.hiddenName, 'timestep_cond', 'text_embeds', 'time_ids']);
    const unknown = session.inputs.filter((io) => !known.has(io.name));
    if (unknown.length > 0) {
      throw new UserError(
        'model.unexpectedLayout',
        `${session.path}: the UNet has inputs this pipeline does not provide: ${unknown.map((io) => `\`${io.name}\``).join(', ')} (ControlNet, inpainting and IP-Adapter UNets are not supported; expected sample, timestep, encoder_hidden_states, optionally timestep_cond, and text_embeds with time_ids for SDXL).`,
      );
    }
    const output = findOutput(session, ['out_sample', 'sample', 'noise_pred'], 'the predicted noise');
    floatTypeOf(session, output, 'the predicted noise');
    this.outputName = output.name;
  }

  /** Length of the `timestep_cond` vector the graph expects, or undefined when it takes none. */
  get timestepCondDim(): number | undefined {
    const dim = this.timestepCondInput?.shape?.[1];
    return this.timestepCondInput ? (typeof dim === 'number' ? dim : 256) : undefined;
  }

  /** Whether the graph takes SDXL's added conditions (`text_embeds`, `time_ids`). */
  get takesAddedConditions(): boolean {
    return this.textEmbedsInput !== undefined;
  }

  /** Length of the pooled embedding the graph declares for `text_embeds`, when it declares one. */
  get textEmbedsDim(): number | undefined {
    const dim = this.textEmbedsInput?.shape?.[1];
    return typeof dim === 'number' ? dim : undefined;
  }

  /** Float type of the latents input; reported by `info` ("fp16" folders). */
  get floatType(): FloatType {
    return this.sampleType;
  }

  /**
   * Most latent rows one graph run gets (0: all). A batch above it runs in consecutive slices: onnxruntime's
   * working memory grows with the rows of a run (over 1 GB per row for SD 1.5 at 512²) and its CPU arena keeps
   * its largest size, while a CPU computes a slice of rows in about the time its share of a batch takes.
   */
  maxBatch = 0;

  /** Runs one UNet evaluation and returns the prediction as float32 `[batch, 4, h, w]`. */
  async predict(input: UnetInput, timing: ModelTiming): Promise<Float32Array> {
    const rows = input.sampleDims[0];
    const slice = this.maxBatch > 0 ? this.maxBatch : rows;
    if (rows <= slice) return this.predictRows(input, timing);
    const [, channels, height, width] = input.sampleDims;
    const [, sequence, hidden] = input.encoderHiddenStatesDims;
    const sampleRow = channels * height * width;
    const hiddenRow = sequence * hidden;
    const condRow = input.timestepCond ? input.timestepCond.length / rows : 0;
    const added = input.addedConditions;
    const textEmbedsRow = added ? added.textEmbeds.length / rows : 0;
    const timeIdsRow = added ? added.timeIds.length / rows : 0;
    const prediction = new Float32Array(input.sample.length);
    for (let first = 0; first < rows; first += slice) {
      const count = Math.min(slice, rows - first);
      const part = await this.predictRows(
        {
          sample: input.sample.subarray(first * sampleRow, (first + count) * sampleRow),
          sampleDims: [count, channels, height, width],
          timestep: input.timestep,
          encoderHiddenStates: input.encoderHiddenStates.subarray(first * hiddenRow, (first + count) * hiddenRow),
          encoderHiddenStatesDims: [count, sequence, hidden],
          ...(input.timestepCond ? { timestepCond: input.timestepCond.subarray(first * condRow, (first + count) * condRow) } : {}),
          ...(added
            ? {
                addedConditions: {
                  textEmbeds: added.textEmbeds.subarray(first * textEmbedsRow, (first + count) * textEmbedsRow),
                  timeIds: added.timeIds.subarray(first * timeIdsRow, (first + count) * timeIdsRow),
                },
              }
            : {}),
        },
        timing,
      );
      prediction.set(part, first * sampleRow);
    }
    return prediction;
  }

  private async predictRows(input: UnetInput, timing: ModelTiming): Promise<Float32Array> {
    const batch = input.sampleDims[0];
    const feeds: Record<string, TensorData> = {
      [this.sampleName]: floatTensor(this.sampleType, input.sample, input.sampleDims),
      [this.timestepName]: timestepTensor(this.timestepLayout, input.timestep, batch),
      [this.hiddenName]: floatTensor(this.hiddenType, input.encoderHiddenStates, input.encoderHiddenStatesDims),
    };
    if (this.timestepCondInput) {
      if (!input.timestepCond) throw new Error('timestepCond is required by this UNet');
      const dims = [batch, input.timestepCond.length / batch];
      feeds[this.timestepCondInput.name] = floatTensor(this.timestepCondInput.type as FloatType, input.timestepCond, dims);
    }
    if (this.textEmbedsInput && this.timeIdsInput) {
      const added = input.addedConditions;
      if (!added) throw new Error('addedConditions (text_embeds, time_ids) are required by this UNet');
      feeds[this.textEmbedsInput.name] = floatTensor(this.textEmbedsInput.type as FloatType, added.textEmbeds, [
        batch,
        added.textEmbeds.length / batch,
      ]);
      feeds[this.timeIdsInput.name] = floatTensor(this.timeIdsInput.type as FloatType, added.timeIds, [
        batch,
        added.timeIds.length / batch,
      ]);
    }
    const outputs = await timedRun(this.session, feeds, [this.outputName], timing);
    return readFloatOutput(this.session, outputs, this.outputName, input.sampleDims);
  }
}

function timestepLayoutOf(session: ModelSession, timestep: ModelIo, sample: ModelIo): TimestepLayout {
  const type = timestep.type;
  if (type !== 'float32' && type !== 'float16' && type !== 'float64' && type !== 'int64' && type !== 'int32') {
    throw new UserError('model.unexpectedLayout', `${session.path}: expected \`timestep\` to be float32, float16 or int64, got ${type}.`);
  }
  const shape = timestep.shape;
  if (shape === undefined || shape.length === 0) return { type, shape: 'scalar' };
  if (shape.length !== 1) {
    throw new UserError(
      'model.unexpectedLayout',
      `${session.path}: expected \`timestep\` to be a scalar or a vector, the graph declares [${shape.join(', ')}].`,
    );
  }
  const [dim] = shape;
  // A vector whose length is tied to the sample's batch axis needs one timestep per sample; a free or
  // fixed-1 axis takes diffusers' `np.array([t])`, which the graph broadcasts.
  const sampleBatch = sample.shape?.[0];
  if (typeof dim === 'string' && dim === sampleBatch) return { type, shape: 'batch' };
  if (typeof dim === 'number' && dim > 1) return { type, shape: 'batch' };
  return { type, shape: 'single' };
}

/**
 * Builds the timestep tensor. Integer graphs get the value truncated toward zero, as diffusers'
 * `OnnxStableDiffusionPipeline` does with `np.array([t], dtype=int64)`.
 */
function timestepTensor(layout: TimestepLayout, timestep: number, batch: number): TensorData {
  const dims = layout.shape === 'scalar' ? [] : layout.shape === 'single' ? [1] : [batch];
  const count = layout.shape === 'batch' ? batch : 1;
  switch (layout.type) {
    case 'float32':
      return { type: 'float32', data: new Float32Array(count).fill(timestep), dims };
    case 'float16':
      return { type: 'float16', data: new Uint16Array(count).fill(float32ToFloat16Bits(timestep)), dims };
    case 'float64':
      return { type: 'float64', data: new Float64Array(count).fill(Math.fround(timestep)), dims };
    case 'int32':
      return { type: 'int32', data: new Int32Array(count).fill(Math.trunc(timestep)), dims };
    case 'int64':
      return { type: 'int64', data: new BigInt64Array(count).fill(BigInt(Math.trunc(timestep))), dims };
  }
}
