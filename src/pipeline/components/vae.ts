import { UserError } from '../../errors.js';
import type { ModelSession } from '../model-session.js';
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

/**
 * What the VAE encoder graph returns: diffusers' `latent_dist.parameters` (mean and log-variance, the
 * pipeline samples with the job's generator) or a `latent_sample` drawn inside the graph.
 */
export type VaeEncoderOutput =
  | { readonly kind: 'parameters'; readonly data: Float32Array; readonly dims: readonly [number, number, number, number] }
  | { readonly kind: 'sample'; readonly data: Float32Array; readonly dims: readonly [number, number, number, number] };

/** The VAE encoder graph (`vae_encoder/model.onnx`), used by image-to-image. */
export class VaeEncoder {
  private readonly inputName: string;
  private readonly inputType: FloatType;
  private readonly outputName: string;
  /** Whether the graph outputs distribution parameters or an in-graph sample; reported by `info`. */
  readonly outputKind: 'parameters' | 'sample';

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(
    private readonly session: ModelSession,
    private readonly vaeScaleFactor: number,
  ) {
    const input = findInput(session, ['sample'], 'pixels [batch, 3, height, width] in [-1, 1]');
    expectRank(session, input, 4, 'pixels');
    this.inputName = input.name;
    this.inputType = floatTypeOf(session, input, 'pixels');
    const output = findOutput(
      session,
      ['latent_parameters', 'latent_sample', 'latent_dist'],
      'latent distribution parameters or a latent sample',
    );
    floatTypeOf(session, output, 'latents');
    this.outputName = output.name;
    this.outputKind = output.name === 'latent_sample' ? 'sample' : 'parameters';
  }

  /** Encodes `[1, 3, H, W]` pixels in [-1, 1]. */
  async encode(pixels: Float32Array, height: number, width: number, timing: ModelTiming): Promise<VaeEncoderOutput> {
    const outputs = await timedRun(
      this.session,
      { [this.inputName]: floatTensor(this.inputType, pixels, [1, 3, height, width]) },
      [this.outputName],
      timing,
    );
    const latentHeight = height / this.vaeScaleFactor;
    const latentWidth = width / this.vaeScaleFactor;
    const channels = this.outputKind === 'parameters' ? 8 : 4;
    const dims = [1, channels, latentHeight, latentWidth] as const;
    const actual = outputs[this.outputName]?.dims;
    if (actual && actual[1] !== channels) {
      throw new UserError(
        'model.unexpectedOutput',
        `${this.session.path}: expected \`${this.outputName}\` to have ${channels} channels, got [${actual.join(', ')}].`,
      );
    }
    return { kind: this.outputKind, data: readFloatOutput(this.session, outputs, this.outputName, dims), dims };
  }
}

/** The VAE decoder graph (`vae_decoder/model.onnx`). */
export class VaeDecoder {
  private readonly inputName: string;
  private readonly inputType: FloatType;
  private readonly outputName: string;

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(
    private readonly session: ModelSession,
    private readonly vaeScaleFactor: number,
  ) {
    const input = findInput(session, ['latent_sample'], 'latents [batch, 4, h, w]');
    expectRank(session, input, 4, 'latents');
    this.inputName = input.name;
    this.inputType = floatTypeOf(session, input, 'latents');
    const output = findOutput(session, ['sample'], 'decoded pixels [batch, 3, height, width]');
    floatTypeOf(session, output, 'decoded pixels');
    this.outputName = output.name;
  }

  /** Float type of the decoder input; reported by `info`. */
  get floatType(): FloatType {
    return this.inputType;
  }

  /** Decodes `[1, 4, h, w]` latents (already divided by the scaling factor) into `[1, 3, 8h, 8w]` pixels. */
  async decode(latents: Float32Array, latentHeight: number, latentWidth: number, timing: ModelTiming): Promise<Float32Array> {
    const outputs = await timedRun(
      this.session,
      { [this.inputName]: floatTensor(this.inputType, latents, [1, 4, latentHeight, latentWidth]) },
      [this.outputName],
      timing,
    );
    return readFloatOutput(this.session, outputs, this.outputName, [
      1,
      3,
      latentHeight * this.vaeScaleFactor,
      latentWidth * this.vaeScaleFactor,
    ]);
  }
}
