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
import { decodeTiled, needsTiling, type VaeTiling } from './vae-tiling.js';

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

/**
 * When the full VAE decoder works tile by tile (diffusers' `enable_vae_tiling`): `never`; `always` (diffusers'
 * rule: whenever a latent side exceeds the tile); `auto`: only pictures larger than {@link autoTilingMinLatentArea}
 * latent cells, where the untiled decoder's memory (its attention over every latent cell) outgrows the UNet's.
 */
export type VaeTilingMode = 'never' | 'auto' | 'always';

/** `auto` tiles pictures with more latent cells than this (96 × 96: larger than 768 × 768 pixels). */
export const autoTilingMinLatentArea = 96 * 96;

/** The VAE decoder graph (`vae_decoder/model.onnx`). */
export class VaeDecoder {
  private readonly inputName: string;
  private readonly inputType: FloatType;
  private readonly outputName: string;

  /**
   * Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file.
   *
   * @param tiling diffusers' tile parameters for this VAE and when to use them (default: never)
   */
  constructor(
    private readonly session: ModelSession,
    private readonly vaeScaleFactor: number,
    private readonly tiling: { readonly mode: VaeTilingMode; readonly tileLatentSize: number } = { mode: 'never', tileLatentSize: 64 },
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

  /** Whether a picture of this latent size is decoded tile by tile. */
  tiles(latentHeight: number, latentWidth: number): boolean {
    const { mode } = this.tiling;
    if (mode === 'never' || !needsTiling(latentHeight, latentWidth, this.tileParameters())) return false;
    return mode === 'always' || latentHeight * latentWidth > autoTilingMinLatentArea;
  }

  /** Decodes `[1, 4, h, w]` latents (already divided by the scaling factor) into `[1, 3, 8h, 8w]` pixels. */
  async decode(latents: Float32Array, latentHeight: number, latentWidth: number, timing: ModelTiming): Promise<Float32Array> {
    if (this.tiles(latentHeight, latentWidth)) {
      return decodeTiled(latents, 4, latentHeight, latentWidth, this.tileParameters(), (tile, h, w) =>
        this.decodeWhole(tile, h, w, timing),
      );
    }
    return this.decodeWhole(latents, latentHeight, latentWidth, timing);
  }

  private tileParameters(): VaeTiling {
    return { tileLatentSize: this.tiling.tileLatentSize, overlapFactor: 0.25, scaleFactor: this.vaeScaleFactor };
  }

  private async decodeWhole(latents: Float32Array, latentHeight: number, latentWidth: number, timing: ModelTiming): Promise<Float32Array> {
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
