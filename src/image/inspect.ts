import type { Metadata } from 'sharp';
import { sharp } from './sharp-instance.js';
import { UserError } from '../errors.js';
import { formatDisplayName, notAnImage, tooLarge, truncated, unsupportedFormat } from './image-errors.js';
import { sniffImageFormat, type ImageFormat } from './sniff.js';
import type { ImageInfo, InspectLimits } from './types.js';

/**
 * sharp's `failOn` level for user pictures. `'error'` refuses truncated files (libpng read errors, libjpeg's
 * "premature end of JPEG image") and corrupt pixel data, but tolerates mere decoder warnings such as the
 * "extraneous bytes before marker" that some cameras write and that Pillow also ignores.
 */
export const FAIL_ON = 'error' as const;

/** A Buffer view of `bytes` (no copy): sharp treats a string as a file path, so only bytes ever reach it. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkMaxPixels(limits: InspectLimits): number {
  const { maxPixels } = limits;
  if (!Number.isFinite(maxPixels) || maxPixels < 1)
    throw new RangeError(`Expected \`maxPixels\` to be a positive number, got \`${String(maxPixels)}\``);
  return Math.floor(maxPixels);
}

function sharpFormatMatches(format: ImageFormat, metadata: Metadata): boolean {
  if (format === 'avif') return metadata.format === 'heif' && metadata.compression === 'av1';
  return metadata.format === format;
}

/**
 * Checks a user's file cheaply, from its header only, and refuses it with a {@link UserError} unless it is a
 * picture latentcord can decode within the limits:
 *
 * - `image.notAnImage`: empty, random or text bytes (whatever the file name says);
 * - `image.unsupported`: another picture format (HEIC, TIFF, SVG, BMP, PDF, ...); no decoder but those of
 *   PNG/JPEG/WebP/GIF/AVIF is ever handed user data;
 * - `image.tooLarge`: the header declares more than `limits.maxPixels` pixels (decompression bombs are refused
 *   before any pixel is decoded);
 * - `image.truncated`: the header itself is unreadable.
 *
 * Animated pictures are accepted; `pages` tells how many frames there are and only the first one is used.
 * Truncated pixel data is only noticed when decoding (see `decodeRgb`).
 */
export async function inspectImage(bytes: Uint8Array, limits: InspectLimits): Promise<ImageInfo> {
  const maxPixels = checkMaxPixels(limits);
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind === 'unknown') throw notAnImage();
  if (sniffed.kind === 'unsupported') throw unsupportedFormat(sniffed.name);
  const format = sniffed.format;
  let metadata: Metadata;
  try {
    // Header only; the pixel limit is checked below so the message can name the declared size.
    metadata = await sharp(asBuffer(bytes), { failOn: FAIL_ON, limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw truncated(formatDisplayName(format), error);
  }
  if (!sharpFormatMatches(format, metadata)) {
    throw metadata.format === 'heif' ? unsupportedFormat('HEIC') : notAnImage();
  }
  const width = metadata.autoOrient?.width ?? metadata.width;
  const height = metadata.autoOrient?.height ?? metadata.height;
  if (!(width >= 1 && height >= 1)) throw truncated(formatDisplayName(format));
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
  return { format, width, height, pages: Math.max(1, metadata.pages ?? 1) };
}

/** Maps an error thrown by sharp while decoding an already inspected picture to a {@link UserError}. */
export function decodeFailure(error: unknown, info: ImageInfo, maxPixels: number): UserError {
  if (error instanceof UserError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return tooLarge(info.width, info.height, maxPixels);
  return truncated(formatDisplayName(info.format), error);
}
