import { UserError } from '../../errors.js';
import type { ModelIo, ModelSession } from '../model-session.js';
import { expectRank, floatTensor, floatTypeOf, readFloatOutput, timedRun, type FloatType, type ModelTiming } from './io.js';

/**
 * What a tiny decoder folder's `config.json` says (diffusers' `AutoencoderTiny` config), with diffusers'
 * defaults for a folder without one.
 */
export interface TinyDecoderConfig {
  /** diffusers' `AutoencoderTiny.scaling_factor`: the pipeline divides the latents by it (1.0 for TAESD). */
  readonly scalingFactor: number;
}

/** diffusers' `AutoencoderTiny` defaults. */
export const defaultTinyDecoderConfig: TinyDecoderConfig = { scalingFactor: 1 };

/**
 * A TAESD-class tiny VAE decoder (madebyollin's TAESD as diffusers' `AutoencoderTiny`, exported to ONNX like
 * the full decoder: `vae_decoder_tiny/model.onnx`): latents `[batch, 4, h, w]` in, pixels
 * `[batch, 3, 8h, 8w]` in [-1, 1] out (`DecoderTiny` ends with `x * 2 - 1`). It takes the latents as the UNet
 * produces them (TAESD's scaling factor is 1), costs a few percent of the full decoder and draws a slightly
 * softer picture: good for previews, and as a fast final decoder where speed matters more.
 */
export class TinyVaeDecoder {
  private readonly input: ModelIo;
  private readonly inputType: FloatType;
  private readonly outputName: string;

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(
    private readonly session: ModelSession,
    private readonly vaeScaleFactor: number,
    private readonly config: TinyDecoderConfig = defaultTinyDecoderConfig,
  ) {
    this.input = onlyOrNamed(session, session.inputs, 'input', ['latent_sample', 'latents', 'x'], 'latents [batch, 4, h, w]');
    expectRank(session, this.input, 4, 'latents');
    this.inputType = floatTypeOf(session, this.input, 'latents');
    const channels = this.input.shape?.[1];
    if (typeof channels === 'number' && channels !== 4) {
      throw new UserError(
        'model.unexpectedLayout',
        `${session.path}: expected a tiny decoder for 4-channel latents (TAESD for SD 1.x/2.x or SDXL), the graph declares ${channels} channels.`,
      );
    }
    const output = onlyOrNamed(session, session.outputs, 'output', ['sample', 'image'], 'pixels [batch, 3, height, width]');
    floatTypeOf(session, output, 'pixels');
    this.outputName = output.name;
  }

  /** Pixels per latent cell (8). */
  get scaleFactor(): number {
    return this.vaeScaleFactor;
  }

  /** Path of the graph, for `info` and the logs. */
  get path(): string {
    return this.session.path;
  }

  /**
   * Decodes one picture's `[1, 4, h, w]` latents (as the denoising loop holds them, not divided by the full
   * VAE's scaling factor) into `[1, 3, 8h, 8w]` pixels in [-1, 1].
   */
  async decode(latents: Float32Array, latentHeight: number, latentWidth: number, timing: ModelTiming): Promise<Float32Array> {
    let scaled = latents;
    const scaling = Math.fround(this.config.scalingFactor);
    if (scaling !== 1) scaled = latents.map((value) => Math.fround(value / scaling));
    const outputs = await timedRun(
      this.session,
      { [this.input.name]: floatTensor(this.inputType, scaled, [1, 4, latentHeight, latentWidth]) },
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

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Reads a tiny decoder folder's `config.json` object (diffusers' `AutoencoderTiny`), keeping diffusers' defaults. */
export function tinyDecoderConfigFrom(json: Readonly<Record<string, unknown>> | undefined, file: string): TinyDecoderConfig {
  const value = json?.['scaling_factor'];
  if (value === undefined || value === null) return defaultTinyDecoderConfig;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new UserError(
      'model.badConfig',
      `${file}: expected \`scaling_factor\` to be a positive number, got \`${JSON.stringify(value)}\`.`,
    );
  }
  return { scalingFactor: value };
}

/** The graph's only input (or output), or the one with a preferred name when there are several. */
function onlyOrNamed(session: ModelSession, list: readonly ModelIo[], kind: string, names: readonly string[], what: string): ModelIo {
  const named = names.map((name) => list.find((io) => io.name === name)).find((io) => io !== undefined);
  if (named) return named;
  if (list.length === 1) return list[0]!;
  const declared = list.map((io) => `\`${io.name}\``).join(', ') || 'none';
  throw new UserError(
    'model.unexpectedLayout',
    `${session.path}: expected one ${kind} or one named ${names.map((n) => `\`${n}\``).join(' or ')} (${what}) in a tiny VAE decoder; the graph declares ${declared}.`,
  );
}
