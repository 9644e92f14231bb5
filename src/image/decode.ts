import type { OutputInfo } from 'sharp';
import { sharp } from './sharp-instance.js';
import { asBuffer, decodeFailure, FAIL_ON, inspectImage } from './inspect.js';
import type { ImageInfo, InspectLimits, RgbImage } from './types.js';

/**
 * Background that transparent pixels are composited on: white, as AUTOMATIC1111's img2img does with its default
 * `img2img_background_color` (diffusers itself has no rule: an RGBA picture is not a valid VAE input).
 */
export const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 } as const;

/**
 * Decodes a user's picture (after {@link inspectImage}'s checks) to 8-bit RGB at its own size:
 *
 * - the EXIF orientation is applied (what the user sees is what the model gets);
 * - only the first frame of an animated picture is decoded;
 * - alpha is composited on {@link ALPHA_BACKGROUND} (white), grey is expanded to RGB, 16-bit samples are
 *   reduced to their high byte (as Pillow's `convert("RGB")` does);
 * - embedded ICC profiles are ignored, as Pillow (and so diffusers and AUTOMATIC1111) ignores them: the stored
 *   sample values are used as they are;
 * - truncated or corrupt pixel data is refused (`image.truncated`), never decoded to garbage.
 */
export async function decodeRgb(bytes: Uint8Array, limits: InspectLimits): Promise<{ info: ImageInfo; image: RgbImage }> {
  const info = await inspectImage(bytes, limits);
  const maxPixels = Math.floor(limits.maxPixels);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(asBuffer(bytes), {
      failOn: FAIL_ON,
      limitInputPixels: maxPixels,
      autoOrient: true,
      ignoreIcc: true,
      pages: 1,
      page: 0,
    })
      .flatten({ background: ALPHA_BACKGROUND })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeFailure(error, info, maxPixels);
  }
  const { data, info: out } = decoded;
  if (out.channels !== 3 || data.length !== out.width * out.height * 3) {
    throw new Error(`sharp returned ${out.width}x${out.height}x${out.channels} for a ${info.format} picture, expected RGB`);
  }
  return { info, image: { width: out.width, height: out.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } };
}
