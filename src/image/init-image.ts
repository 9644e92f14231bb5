import { sharp } from './sharp-instance.js';
import { decodeRgb } from './decode.js';
import { planCoverCrop, planWithinLimits, type Rect, type ResizePlan, type Size } from './size-policy.js';
import type { InitImageLimits, RgbImage } from './types.js';

/** An image-to-image input, ready for the VAE encoder. */
export interface InitImage {
  width: number;
  height: number;
  /** `[1, 3, height, width]`. */
  dims: [1, 3, number, number];
  /** NCHW float32 in [-1, 1]. */
  pixels: Float32Array;
}

/**
 * Turns a user's picture into the image-to-image input exactly as diffusers' `VaeImageProcessor.preprocess`
 * does for a PIL picture of the final size: RGB bytes `v` → `v / 255` in float32 → NCHW → `2 * x - 1` in float32.
 * Decoding follows `decodeRgb` (EXIF orientation applied, first frame only, alpha composited on white, ICC
 * profile ignored; refusals are `UserError`s: `image.notAnImage`, `image.unsupported`, `image.tooLarge`,
 * `image.truncated`).
 *
 * Size policy:
 * - with `target`: scale to cover `target` (Lanczos3), then centre-crop to exactly `target`; no resampling when
 *   the source already has that size (or matches it on one side and only needs cropping on the other);
 * - without `target`: keep the aspect ratio, scale down (never up) so the area is at most
 *   `limits.maxOutputPixels` and both sides at most `limits.maxSide`, then round each side down to a multiple of
 *   `limits.multipleOf` (default 8), never below it. When that size is reachable by cutting fewer than
 *   `multipleOf` pixels off each side, it is a pure centre crop (no resampling, so a picture that already has a
 *   valid size is used bit for bit); otherwise scale to cover (Lanczos3) and centre-crop.
 *
 * `target` sides must be positive integers; checking them against what the model needs (e.g. multiples of 8) is
 * the caller's job.
 */
export async function prepareInitImage(bytes: Uint8Array, target: Size | undefined, limits: InitImageLimits): Promise<InitImage> {
  const { image } = await decodeRgb(bytes, limits);
  const plan = target === undefined ? planWithinLimits(image, limits) : planCoverCrop(image, target);
  const prepared = await applyPlan(image, plan);
  return {
    width: prepared.width,
    height: prepared.height,
    dims: [1, 3, prepared.height, prepared.width],
    pixels: rgbToNchwMinusOneToOne(prepared),
  };
}

/** Applies a {@link ResizePlan} to an RGB picture: Lanczos3 resampling (sharp/libvips) when planned, then the crop. */
export async function applyPlan(image: RgbImage, plan: ResizePlan): Promise<RgbImage> {
  let current = image;
  if (plan.resize !== undefined) {
    const { data, info } = await sharp(Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength), {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .resize(plan.resize.width, plan.resize.height, { fit: 'fill', kernel: 'lanczos3' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== plan.resize.width || info.height !== plan.resize.height || info.channels !== 3) {
      throw new Error(
        `sharp resized to ${info.width}x${info.height}x${info.channels}, expected ${plan.resize.width}x${plan.resize.height}x3`,
      );
    }
    current = { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  return cropRgb(current, plan.crop);
}

/** Cuts `rect` out of an RGB picture (returns the picture itself when `rect` covers all of it). */
export function cropRgb(image: RgbImage, rect: Rect): RgbImage {
  if (rect.left < 0 || rect.top < 0 || rect.left + rect.width > image.width || rect.top + rect.height > image.height) {
    throw new RangeError(
      `Crop ${rect.width}x${rect.height}+${rect.left}+${rect.top} is outside the ${image.width}x${image.height} picture`,
    );
  }
  if (rect.width === image.width && rect.height === image.height) return image;
  const rgb = new Uint8Array(rect.width * rect.height * 3);
  const rowBytes = rect.width * 3;
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.top + y) * image.width + rect.left) * 3;
    rgb.set(image.rgb.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width: rect.width, height: rect.height, rgb };
}

/**
 * HWC RGB bytes → NCHW `[1, 3, H, W]` float32 in [-1, 1], with torch's float32 arithmetic: `x = v / 255` rounded
 * to float32, then `2 * x - 1` rounded to float32 (computing in float64 and rounding once is exact here: float64
 * has more than twice float32's precision, so double rounding cannot occur).
 */
export function rgbToNchwMinusOneToOne(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(2 * Math.fround(v / 255) - 1);
  for (let p = 0; p < plane; p++) {
    out[p] = table[image.rgb[p * 3]!]!;
    out[plane + p] = table[image.rgb[p * 3 + 1]!]!;
    out[2 * plane + p] = table[image.rgb[p * 3 + 2]!]!;
  }
  return out;
}
