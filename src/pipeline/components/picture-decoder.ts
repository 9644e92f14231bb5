import type { ModelTiming } from './io.js';
import type { TinyVaeDecoder } from './tiny-vae-decoder.js';
import type { VaeDecoder } from './vae.js';

/** Which decoder draws the final pictures: the model's own VAE decoder, or the TAESD-class tiny decoder. */
export type FinalDecoder = 'vae' | 'tiny';

/**
 * Turns the denoised latents of a batch into pixels, one picture at a time (as diffusers' ONNX pipeline
 * does, to bound memory): with the full VAE decoder (latents divided by its scaling factor first; large
 * pictures tile by tile as configured), or with the tiny decoder, which takes the latents as they are.
 */
export class PictureDecoder {
  /**
   * @param vaeScalingFactor the full VAE's `scaling_factor` (0.18215 for SD 1.x)
   * @param choice which decoder draws; `tiny` needs `tinyDecoder`
   */
  constructor(
    private readonly vaeDecoder: VaeDecoder,
    private readonly vaeScalingFactor: number,
    private readonly tinyDecoder: TinyVaeDecoder | undefined,
    readonly choice: FinalDecoder,
  ) {
    if (choice === 'tiny' && !tinyDecoder) throw new Error('the tiny final decoder needs a tiny decoder');
  }

  /** How A1111 names the decoder in a picture's parameters (`VAE Decoder: TAESD`); undefined for the full VAE. */
  get infotextName(): string | undefined {
    return this.choice === 'tiny' ? 'TAESD' : undefined;
  }

  /** Decodes every row of `[rows, 4, h, w]` latents into `[1, 3, 8h, 8w]` pixels in about [-1, 1]. */
  async decode(latents: Float32Array, dims: readonly [number, number, number, number], timing: ModelTiming): Promise<Float32Array[]> {
    const [rows, channels, height, width] = dims;
    const rowSize = channels * height * width;
    const images: Float32Array[] = [];
    if (this.choice === 'tiny') {
      for (let row = 0; row < rows; row++) {
        images.push(await this.tinyDecoder!.decode(latents.subarray(row * rowSize, (row + 1) * rowSize), height, width, timing));
      }
      return images;
    }
    const scaling = Math.fround(this.vaeScalingFactor);
    const scaled = new Float32Array(rowSize);
    for (let row = 0; row < rows; row++) {
      for (let i = 0; i < rowSize; i++) scaled[i] = Math.fround(latents[row * rowSize + i]! / scaling);
      images.push(await this.vaeDecoder.decode(scaled, height, width, timing));
    }
    return images;
  }
}
