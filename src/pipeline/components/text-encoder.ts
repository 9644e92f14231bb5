import { UserError } from '../../errors.js';
import type { ModelIo, ModelSession, TensorData } from '../model-session.js';
import type { ChunkEncoder, ChunkEncoding } from '../prompt/prompt-encoder.js';
import { expectRank, findInput, findOutput, floatTypeOf, readFloatOutput, timedRun, type ModelTiming } from './io.js';

/**
 * Which hidden state conditions the UNet: `last` is `last_hidden_state` (SD 1.x/2.x, `text_encoder(ids)[0]`),
 * `penultimate` is transformers' `hidden_states[-2]` (SDXL: both encoders, called with `output_hidden_states=True`).
 */
export type HiddenStateChoice = 'last' | 'penultimate';

/** How a text encoder graph is read. */
export interface TextEncoderOptions {
  /** Default `last`. */
  readonly hiddenState?: HiddenStateChoice;
  /** Also read the projected pooled embedding `text_embeds` (SDXL's second encoder, `CLIPTextModelWithProjection`). */
  readonly pooled?: boolean;
  /** `num_hidden_layers` of the encoder's config.json, checked against the graph's `hidden_states.N` outputs. */
  readonly numHiddenLayers?: number;
}

const hiddenStatesPattern = /^hidden_states\.(\d+)$/;

/**
 * The CLIP text encoder graph: token ids in, one hidden vector per token out (and, for SDXL's second encoder, the
 * pooled `text_embeds`). Which output is read follows diffusers: `last_hidden_state` for SD 1.x/2.x; for SDXL the
 * penultimate of the `hidden_states.0 … hidden_states.L` outputs optimum exports (embeddings plus one per layer, so
 * `hidden_states[-2]` is `hidden_states.{L-1}`, the input of the last layer).
 */
export class TextEncoder implements ChunkEncoder {
  private readonly idsName: string;
  private readonly idsType: 'int32' | 'int64';
  private readonly outputName: string;
  private readonly pooledName: string | undefined;

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(
    private readonly session: ModelSession,
    options: TextEncoderOptions = {},
  ) {
    const ids = findInput(session, ['input_ids'], 'token ids');
    if (ids.type !== 'int32' && ids.type !== 'int64') {
      throw new UserError('model.unexpectedLayout', `${session.path}: expected \`input_ids\` to be int32 or int64, got ${ids.type}.`);
    }
    expectRank(session, ids, 2, 'token ids [batch, sequence]');
    this.idsName = ids.name;
    this.idsType = ids.type;
    const output =
      options.hiddenState === 'penultimate'
        ? penultimateHiddenState(session, options.numHiddenLayers)
        : findOutput(session, ['last_hidden_state'], 'text embeddings [batch, sequence, hidden]');
    floatTypeOf(session, output, 'text embeddings');
    this.outputName = output.name;
    if (options.pooled) {
      const pooled = findOutput(session, ['text_embeds'], 'the projected pooled text embedding [batch, projection_dim]');
      floatTypeOf(session, pooled, 'the pooled text embedding');
      this.pooledName = pooled.name;
    }
  }

  /** Element type of the ids input, reported by `info`. */
  get inputIdsType(): 'int32' | 'int64' {
    return this.idsType;
  }

  /** Element type of the embeddings, reported by `info`. */
  get outputType(): string {
    return this.session.outputs.find((o) => o.name === this.outputName)!.type;
  }

  /** The output the UNet is conditioned on (`last_hidden_state`, `hidden_states.N`), reported by `info`. */
  get hiddenStateOutput(): string {
    return this.outputName;
  }

  /** Encodes one tokenized prompt (`[1, sequence]`) into `[1, sequence, hidden]` float32 embeddings (and the pooled embedding). */
  async encode(
    inputIds: Int32Array,
    timing: ModelTiming,
  ): Promise<{ data: Float32Array; dims: [number, number, number]; pooled?: Float32Array }> {
    const dims = [1, inputIds.length];
    const ids: TensorData =
      this.idsType === 'int32'
        ? { type: 'int32', data: inputIds, dims }
        : { type: 'int64', data: BigInt64Array.from(inputIds, (id) => BigInt(id)), dims };
    const names = this.pooledName ? [this.outputName, this.pooledName] : [this.outputName];
    const outputs = await timedRun(this.session, { [this.idsName]: ids }, names, timing);
    const tensor = outputs[this.outputName];
    const hidden = tensor?.dims.length === 3 ? tensor.dims[2]! : 0;
    if (!(hidden > 0) || tensor?.dims[1] !== inputIds.length) {
      throw new UserError(
        'model.unexpectedOutput',
        `${this.session.path}: expected \`${this.outputName}\` of shape [1, ${inputIds.length}, hidden], got [${tensor?.dims.join(', ') ?? 'nothing'}].`,
      );
    }
    const dimsOut: [number, number, number] = [1, inputIds.length, hidden];
    const data = readFloatOutput(this.session, outputs, this.outputName, dimsOut);
    if (!this.pooledName) return { data, dims: dimsOut };
    const pooledTensor = outputs[this.pooledName];
    const pooledSize = pooledTensor?.dims.length === 2 ? pooledTensor.dims[1]! : 0;
    if (!(pooledSize > 0)) {
      throw new UserError(
        'model.unexpectedOutput',
        `${this.session.path}: expected \`${this.pooledName}\` of shape [1, projection_dim], got [${pooledTensor?.dims.join(', ') ?? 'nothing'}].`,
      );
    }
    return { data, dims: dimsOut, pooled: readFloatOutput(this.session, outputs, this.pooledName, [1, pooledSize]) };
  }

  /** One prompt chunk's hidden states (Clip skip 1: A1111's default and diffusers'), with the pooled embedding if read. */
  async encodeChunk(ids: Int32Array, timing: ModelTiming): Promise<ChunkEncoding> {
    const { data, dims, pooled } = await this.encode(ids, timing);
    return { hiddenStates: data, hiddenSize: dims[2], ...(pooled ? { pooled } : {}) };
  }
}

/**
 * `hidden_states[-2]` among the graph's `hidden_states.N` outputs. They must run 0 … L without a gap (transformers'
 * tuple: embeddings, then every layer's output); with a config the last index must be its `num_hidden_layers`.
 */
function penultimateHiddenState(session: ModelSession, numHiddenLayers: number | undefined): ModelIo {
  const indexed = session.outputs
    .map((io) => ({ io, index: Number(hiddenStatesPattern.exec(io.name)?.[1] ?? Number.NaN) }))
    .filter((entry) => Number.isInteger(entry.index))
    .sort((a, b) => a.index - b.index);
  const declared = session.outputs.map((io) => `\`${io.name}\``).join(', ') || 'none';
  if (indexed.length < 2) {
    throw new UserError(
      'model.unexpectedLayout',
      `${session.path}: SDXL conditions on the penultimate hidden state, so the text encoder must output \`hidden_states.0\` … \`hidden_states.L\` ` +
        `(optimum exports SDXL text encoders with output_hidden_states=True); the graph declares ${declared}.`,
    );
  }
  const last = indexed.at(-1)!.index;
  if (indexed.some((entry, i) => entry.index !== i)) {
    throw new UserError(
      'model.unexpectedLayout',
      `${session.path}: the \`hidden_states.N\` outputs must run from 0 to ${last} without a gap; the graph declares ${declared}.`,
    );
  }
  if (numHiddenLayers !== undefined && last !== numHiddenLayers) {
    throw new UserError(
      'model.unexpectedLayout',
      `${session.path}: config.json says num_hidden_layers ${numHiddenLayers}, so the graph should output hidden_states.0 … hidden_states.${numHiddenLayers}; ` +
        `it outputs hidden_states.0 … hidden_states.${last}.`,
    );
  }
  return indexed[last - 1]!.io;
}
