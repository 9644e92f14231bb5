/**
 * A TAESD-shaped tiny VAE decoder built from scratch, with seeded random weights: the architecture of
 * madebyollin's TAESD decoder as diffusers' `DecoderTiny` exports it (input `latent_sample` `[batch, 4, h, w]`,
 * output `sample` `[batch, 3, 8h, 8w]` in [-1, 1]):
 *
 *   tanh(x / 3) · 3 → conv 4→C, ReLU → { blocks, nearest ×2, conv C→C (no bias) } × 3 → blocks → conv C→3 → ·2 − 1
 *
 * where a block is `ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x)` with 3×3 convolutions. TAESD has C = 64 and
 * 3, 3, 3, 1 blocks per stage; tests use a narrower one, the benchmark the real width (its cost is TAESD's).
 */
import { makeNode, tensorValueInfo, intsAttribute, float32Initializer } from './graph-edit.js';
import { writeModelFile } from './model-file.js';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto } from './onnx-proto.js';
import { AttributeType, DataType } from './onnx-schema.js';

/** Shape of the built decoder. */
export interface TinyDecoderShape {
  /** Channels of every hidden layer (TAESD: 64). */
  readonly channels: number;
  /** Residual blocks before each of the three upsamplings and before the output convolution (TAESD: 3, 3, 3, 1). */
  readonly blocks: readonly [number, number, number, number];
  /** Seed of the weights. */
  readonly seed: number;
}

/** TAESD's own shape. */
export const taesdShape: TinyDecoderShape = { channels: 64, blocks: [3, 3, 3, 1], seed: 1 };

/** A small shape for tests: the same operators and signature, a fraction of the work. */
export const smallTinyDecoderShape: TinyDecoderShape = { channels: 8, blocks: [1, 1, 1, 1], seed: 1 };

/** Normal-ish seeded values (sum of uniforms), scaled to `std`. */
function seededWeights(count: number, seed: number, std: number): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = (uniform() + uniform() + uniform() - 1.5) * 2 * std;
  return out;
}

function stringAttribute(name: string, value: string): AttributeProto {
  return { name, type: AttributeType.string, s: new TextEncoder().encode(value), ints: [], strings: [], tensors: [], graphs: [] };
}

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;
  private seed: number;

  constructor(seed: number) {
    this.seed = seed;
  }

  private name(base: string): string {
    return `${base}_${this.count++}`;
  }

  constant(values: readonly number[], dims: readonly number[]): string {
    const name = this.name('const');
    this.initializers.push(float32Initializer(name, dims, values));
    return name;
  }

  op(opType: string, inputs: readonly string[], attributes: AttributeProto[] = []): string {
    const output = this.name(opType.toLowerCase());
    this.nodes.push(makeNode(opType, inputs, [output], `${output}_node`, attributes));
    return output;
  }

  /** A 3×3 convolution with padding 1; He-scaled weights times `gain`. */
  conv(input: string, inChannels: number, outChannels: number, bias: boolean, gain = 1): string {
    const fanIn = inChannels * 9;
    const weights = this.constant(seededWeights(outChannels * fanIn, this.seed++, gain * Math.sqrt(2 / fanIn)), [
      outChannels,
      inChannels,
      3,
      3,
    ]);
    const inputs = [input, weights];
    if (bias) inputs.push(this.constant(seededWeights(outChannels, this.seed++, 0.05), [outChannels]));
    return this.op('Conv', inputs, [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]);
  }

  block(input: string, channels: number): string {
    let x = this.op('Relu', [this.conv(input, channels, channels, true)]);
    x = this.op('Relu', [this.conv(x, channels, channels, true)]);
    // A small last convolution keeps the residual stack from growing without bound over many blocks.
    x = this.conv(x, channels, channels, true, 0.3);
    return this.op('Relu', [this.op('Add', [x, input])]);
  }

  upsample(input: string): string {
    const scales = this.constant([1, 1, 2, 2], [4]);
    return this.op(
      'Resize',
      [input, '', scales],
      [
        stringAttribute('mode', 'nearest'),
        stringAttribute('coordinate_transformation_mode', 'asymmetric'),
        stringAttribute('nearest_mode', 'floor'),
      ],
    );
  }
}

/** The decoder as an ONNX model. */
export function tinyDecoderModel(shape: TinyDecoderShape = smallTinyDecoderShape): ModelProto {
  const { channels, blocks } = shape;
  const g = new GraphBuilder(shape.seed);
  // DecoderTiny: "clamp" the latents with tanh(x / 3) * 3.
  let x = g.op('Mul', [g.op('Tanh', [g.op('Div', ['latent_sample', g.constant([3], [])])]), g.constant([3], [])]);
  x = g.op('Relu', [g.conv(x, 4, channels, true)]);
  for (let stage = 0; stage < 4; stage++) {
    for (let b = 0; b < blocks[stage]!; b++) x = g.block(x, channels);
    if (stage < 3) x = g.conv(g.upsample(x), channels, channels, false);
  }
  x = g.conv(x, channels, 3, true, 0.5);
  // [0, 1] → [-1, 1], diffusers' convention.
  const sample = g.op('Sub', [g.op('Mul', [x, g.constant([2], [])]), g.constant([1], [])]);
  g.nodes.push(makeNode('Identity', [sample], ['sample'], 'output_identity'));
  const graph: GraphProto = {
    name: 'tiny_vae_decoder',
    node: g.nodes,
    initializer: g.initializers,
    input: [tensorValueInfo('latent_sample', DataType.float, ['batch', 4, 'latent_height', 'latent_width'])],
    output: [tensorValueInfo('sample', DataType.float, ['batch', 3, 'height', 'width'])],
    valueInfo: [],
  };
  return { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'latentcord-tests', graph, metadataProps: [] };
}

/** Writes the decoder to `path` (e.g. `<model>/vae_decoder_tiny/model.onnx`). */
export function writeTinyDecoder(path: string, shape: TinyDecoderShape = smallTinyDecoderShape): void {
  writeModelFile(path, tinyDecoderModel(shape));
}
