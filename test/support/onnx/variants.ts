/**
 * Builders of small variant models derived from the tiny Stable Diffusion ONNX graphs, mimicking how
 * real exports differ (int64 token ids or timesteps, scalar timesteps, float16 I/O, an LCM
 * `timestep_cond` input, external weights) plus broken models for error tests.
 *
 * Every builder reads the model at `source` and writes a new model at `target` (creating folders);
 * the graph between the boundary Casts/Reshapes is the original, so outputs match the source model
 * exactly (float32/int variants) or up to float16 rounding of the declared float16 values.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { moveInitializersToExternalData, type ExternalDataOptions } from './external-data.js';
import {
  castInput,
  castOutput,
  detachOutput,
  dimsOf,
  elemTypeOf,
  float32Initializer,
  int64Initializer,
  intAttribute,
  makeNode,
  renameNodeInputs,
  renameValue,
  requireInput,
  requireOutput,
  setTensorType,
  tensorValueInfo,
  uniqueName,
  type DimSpec,
} from './graph-edit.js';
import { rewriteModelFile } from './model-file.js';
import { DataType } from './onnx-schema.js';
import type { GraphProto } from './onnx-proto.js';

/** Symbolic (or fixed) batch dimension of a graph input, read from its declared shape. */
function batchDimOf(graph: GraphProto, inputName: string): DimSpec {
  const dims = dimsOf(requireInput(graph, inputName));
  if (dims === undefined || dims.length === 0) throw new Error(`input "${inputName}" has no declared batch dimension`);
  return dims[0];
}

// ------------------------------------------------------------------------------------------- text encoder

/** Text encoder whose `input_ids` are int64 (a Cast to the graph's int32 reads them). */
export function textEncoderInt64InputIds(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    castInput(graph, 'input_ids', DataType.int64);
  });
}

/**
 * Text encoder with float16 outputs (Cast after the float32 graph). By default both `last_hidden_state`
 * and `pooler_output`, like a real float16 export; pass `outputs` to pick.
 */
export function textEncoderFloat16Output(source: string, target: string, options: { outputs?: readonly string[] } = {}): void {
  rewriteModelFile(source, target, (graph) => {
    const outputs = options.outputs ?? graph.output.filter((o) => elemTypeOf(o) === DataType.float).map((o) => o.name ?? '');
    for (const name of outputs) castOutput(graph, name, DataType.float16);
  });
}

/** Broken text encoder: output `from` (default `last_hidden_state`) renamed to `to` (default `hidden_states`). */
export function textEncoderRenamedOutput(source: string, target: string, options: { from?: string; to?: string } = {}): void {
  const from = options.from ?? 'last_hidden_state';
  const to = options.to ?? 'hidden_states';
  rewriteModelFile(source, target, (graph) => {
    requireOutput(graph, from);
    renameValue(graph, from, to);
  });
}

/**
 * Text encoder exported without `output_hidden_states` (only `last_hidden_state` and the pooled output): fine for
 * SD 1.x/2.x, unusable for SDXL, which conditions on the penultimate layer.
 */
export function textEncoderWithoutHiddenStates(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    graph.output = graph.output.filter((o) => !/^hidden_states\.\d+$/.test(o.name ?? ''));
  });
}

// --------------------------------------------------------------------------------------------------- UNet

/** UNet whose `timestep` is int64 `[1]` (Cast to float32 inside). */
export function unetTimestepInt64(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    castInput(graph, 'timestep', DataType.int64, [1]);
  });
}

/** UNet whose `timestep` is float16 `[1]` (Cast to float32 inside). */
export function unetTimestepFloat16(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    castInput(graph, 'timestep', DataType.float16, [1]);
  });
}

/** UNet whose `timestep` is a float32 scalar (rank 0), reshaped to `[1]` inside. */
export function unetTimestepScalar(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    const input = requireInput(graph, 'timestep');
    const reshaped = uniqueName(graph, 'timestep/variant_reshape');
    const shapeName = uniqueName(graph, 'timestep/variant_shape');
    renameNodeInputs(graph, 'timestep', reshaped);
    graph.initializer.push(int64Initializer(shapeName, [1], [1]));
    graph.node.unshift(makeNode('Reshape', ['timestep', shapeName], [reshaped], 'timestep/variant_reshape'));
    setTensorType(input, { dims: [] });
  });
}

/** UNet whose `timestep` is declared float32 `[batch]`, with the same batch symbol as `sample`. */
export function unetTimestepBatch(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    setTensorType(requireInput(graph, 'timestep'), { dims: [batchDimOf(graph, 'sample')] });
  });
}

/**
 * UNet whose `encoder_hidden_states` declares a fixed text length (default 77), as exports traced without a
 * dynamic sequence axis do. onnxruntime then refuses any other length.
 */
export function unetFixedSequence(source: string, target: string, options: { length?: number } = {}): void {
  rewriteModelFile(source, target, (graph) => {
    const hidden = requireInput(graph, 'encoder_hidden_states');
    const dims = dimsOf(hidden);
    if (dims === undefined || dims.length !== 3) throw new Error('encoder_hidden_states has no [batch, sequence, hidden] shape');
    setTensorType(hidden, { dims: [dims[0], options.length ?? 77, dims[2]] });
  });
}

/**
 * UNet with float16 `sample`, `timestep`, `encoder_hidden_states` and `out_sample` (Casts at the boundary), and
 * SDXL's `text_embeds` and `time_ids` when the graph has them (as an optimum `--fp16` export declares them).
 */
export function unetFloat16(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    const added = ['text_embeds', 'time_ids'].filter((name) => graph.input.some((i) => i.name === name));
    for (const name of ['sample', 'timestep', 'encoder_hidden_states', ...added]) castInput(graph, name, DataType.float16);
    castOutput(graph, 'out_sample', DataType.float16);
  });
}

/**
 * LCM-style UNet with an extra float32 input `timestep_cond` `[batch, dim]` (default dim 256). The graph
 * reads it harmlessly: `out_sample + 0 * mean(timestep_cond)`, which equals the original output for any
 * finite `timestep_cond`.
 */
export function unetTimestepCond(source: string, target: string, options: { dim?: number } = {}): void {
  const dim = options.dim ?? 256;
  rewriteModelFile(source, target, (graph) => {
    if (graph.input.some((i) => i.name === 'timestep_cond')) throw new Error('the UNet already has a timestep_cond input');
    graph.input.push(tensorValueInfo('timestep_cond', DataType.float, [batchDimOf(graph, 'sample'), dim]));
    const unconditioned = detachOutput(graph, 'out_sample', 'before_timestep_cond');
    const mean = uniqueName(graph, 'timestep_cond/variant_mean');
    const zero = uniqueName(graph, 'timestep_cond/variant_zero');
    const zeroed = uniqueName(graph, 'timestep_cond/variant_zeroed');
    graph.initializer.push(float32Initializer(zero, [], [0]));
    graph.node.push(
      makeNode('ReduceMean', ['timestep_cond'], [mean], 'timestep_cond/variant_mean', [intAttribute('keepdims', 0)]),
      makeNode('Mul', [mean, zero], [zeroed], 'timestep_cond/variant_zeroed'),
      makeNode('Add', [unconditioned, zeroed], ['out_sample'], 'timestep_cond/variant_add'),
    );
  });
}

/** Broken UNet: input `from` (default `sample`) renamed to `to` (default `latents`). */
export function unetRenamedInput(source: string, target: string, options: { from?: string; to?: string } = {}): void {
  const from = options.from ?? 'sample';
  const to = options.to ?? 'latents';
  rewriteModelFile(source, target, (graph) => {
    requireInput(graph, from);
    renameValue(graph, from, to);
  });
}

// ---------------------------------------------------------------------------------------------------- VAE

/**
 * VAE encoder whose only output is `latent_sample` `[batch, 4, h, w]`: channels 0–3 (the mean) of
 * `latent_parameters`, as exports that return the distribution's mode do.
 */
export function vaeEncoderLatentSample(source: string, target: string): void {
  rewriteModelFile(source, target, (graph) => {
    const parameters = requireOutput(graph, 'latent_parameters');
    const dims = dimsOf(parameters) ?? [undefined, 8, undefined, undefined];
    if (dims.length !== 4 || dims[1] !== 8) throw new Error(`unexpected latent_parameters shape [${dims.join(', ')}]`);
    const starts = uniqueName(graph, 'latent_sample/variant_starts');
    const ends = uniqueName(graph, 'latent_sample/variant_ends');
    const axes = uniqueName(graph, 'latent_sample/variant_axes');
    graph.initializer.push(int64Initializer(starts, [1], [0]), int64Initializer(ends, [1], [4]), int64Initializer(axes, [1], [1]));
    graph.node.push(makeNode('Slice', ['latent_parameters', starts, ends, axes], ['latent_sample'], 'latent_sample/variant_slice'));
    graph.output = graph.output.map((o) =>
      o === parameters ? tensorValueInfo('latent_sample', DataType.float, [dims[0], 4, dims[2], dims[3]]) : o,
    );
  });
}

/** VAE encoder with float16 `sample` input and float16 `latent_parameters` output. */
export function vaeEncoderFloat16(source: string, target: string): void {
  float16Io(source, target, { inputs: ['sample'], outputs: ['latent_parameters'] });
}

/** VAE decoder with float16 `latent_sample` input and float16 `sample` output. */
export function vaeDecoderFloat16(source: string, target: string): void {
  float16Io(source, target, { inputs: ['latent_sample'], outputs: ['sample'] });
}

// -------------------------------------------------------------------------------------------------- generic

/** Declares the named float32 inputs and outputs as float16, with Casts at the boundary. */
export function float16Io(source: string, target: string, io: { inputs: readonly string[]; outputs: readonly string[] }): void {
  rewriteModelFile(source, target, (graph) => {
    for (const name of io.inputs) castInput(graph, name, DataType.float16);
    for (const name of io.outputs) castOutput(graph, name, DataType.float16);
  });
}

/** Options of {@link withExternalData}. */
export interface WithExternalDataOptions extends Partial<Pick<ExternalDataOptions, 'sizeThreshold' | 'alignment'>> {
  /** Data file name beside the model: `model.onnx_data` (default, optimum's name) or e.g. `weights.pb`. */
  dataFileName?: string;
}

/**
 * Writes the model at `target` with its weights (initializers of at least `sizeThreshold` bytes) moved to
 * a data file beside it. Returns the data file's path.
 */
export function withExternalData(source: string, target: string, options: WithExternalDataOptions = {}): string {
  const dataFileName = options.dataFileName ?? 'model.onnx_data';
  const dataPath = join(dirname(target), dataFileName);
  let data: Uint8Array = new Uint8Array(0);
  rewriteModelFile(source, target, (graph) => {
    const external: ExternalDataOptions = { location: dataFileName };
    if (options.sizeThreshold !== undefined) external.sizeThreshold = options.sizeThreshold;
    if (options.alignment !== undefined) external.alignment = options.alignment;
    data = moveInitializersToExternalData(graph, external).data;
  });
  writeFileSync(dataPath, data);
  return dataPath;
}

/** Broken model file: only the first `fraction` (default one half) of the source's bytes. */
export function truncatedModel(source: string, target: string, options: { fraction?: number } = {}): void {
  const fraction = options.fraction ?? 0.5;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`fraction must be in (0, 1), got ${fraction}`);
  const bytes = readFileSync(source);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}
