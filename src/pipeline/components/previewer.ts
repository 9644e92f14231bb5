import type { ModelTiming } from './io.js';
import { approximateLatentPreview, latentRgbFactors, type LatentRgbFactors, type PreviewImage } from './latent-preview.js';
import { imageToUint8Rgb } from '../postprocess.js';
import type { TinyVaeDecoder } from './tiny-vae-decoder.js';

/** How a preview is drawn: the linear latent→RGB map (`approx`) or the tiny VAE decoder (`tiny`). */
export type PreviewDecoder = 'approx' | 'tiny';

/** What a run asks for. */
export interface PreviewRequest {
  /** A preview after every this many steps (never after the last: the result follows at once). */
  readonly everySteps: number;
  /**
   * `auto`: the tiny decoder when the model has one and it is cheap next to the steps between two previews,
   * else `approx`. Default `auto`.
   */
  readonly decoder?: 'auto' | PreviewDecoder;
}

/** One drawn preview. */
export interface RenderedPreview extends PreviewImage {
  readonly decoder: PreviewDecoder;
}

/** Whether a preview is due after `step` (1-based) of `totalSteps`. */
export function isPreviewStep(step: number, totalSteps: number, everySteps: number): boolean {
  return everySteps >= 1 && step < totalSteps && step % everySteps === 0;
}

/**
 * Draws previews of a job's latents while it denoises. The linear map costs microseconds and shows the
 * picture at 1/8 of its size; the tiny decoder (TAESD) draws it at full size for a few percent of a full
 * VAE decode.
 */
export class LatentPreviewer {
  constructor(
    private readonly factors: LatentRgbFactors = latentRgbFactors.sd,
    private readonly tinyDecoder?: TinyVaeDecoder,
  ) {}

  /** Whether `tiny` previews are available. */
  get hasTinyDecoder(): boolean {
    return this.tinyDecoder !== undefined;
  }

  /**
   * Draws one row of `[rows, 4, h, w]` latents (the loop's latents, or better its prediction of the clean
   * latents, which shows the picture to come rather than noise). `tiny` without a tiny decoder falls back to
   * `approx`.
   */
  async render(
    latents: Float32Array,
    dims: readonly [number, number, number, number],
    row: number,
    decoder: PreviewDecoder,
    timing: ModelTiming = { modelMs: 0, modelCalls: 0 },
  ): Promise<RenderedPreview> {
    if (decoder === 'tiny' && this.tinyDecoder) {
      const [, channels, height, width] = dims;
      const rowSize = channels * height * width;
      const pixels = await this.tinyDecoder.decode(latents.subarray(row * rowSize, (row + 1) * rowSize), height, width, timing);
      const outHeight = height * this.tinyDecoder.scaleFactor;
      const outWidth = width * this.tinyDecoder.scaleFactor;
      return { width: outWidth, height: outHeight, rgb: imageToUint8Rgb(pixels, [1, 3, outHeight, outWidth]), decoder: 'tiny' };
    }
    return { ...approximateLatentPreview(latents, dims, row, this.factors), decoder: 'approx' };
  }
}
