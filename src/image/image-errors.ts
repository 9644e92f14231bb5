import { UserError } from '../errors.js';
import { SUPPORTED_FORMAT_NAMES } from './sniff.js';

/** The file is empty or not a picture at all (`image.notAnImage`). */
export function notAnImage(): UserError {
  return new UserError('image.notAnImage', `That file is not a picture I can read (${SUPPORTED_FORMAT_NAMES}).`);
}

/** The file is a picture in a format latentcord does not read (`image.unsupported`). */
export function unsupportedFormat(name: string): UserError {
  return new UserError('image.unsupported', `${name} pictures are not supported. Please send a ${SUPPORTED_FORMAT_NAMES} file instead.`);
}

/** The picture declares more pixels than allowed (`image.tooLarge`). */
export function tooLarge(width: number | undefined, height: number | undefined, maxPixels: number): UserError {
  const size = width !== undefined && height !== undefined ? ` (${width}x${height})` : '';
  const megapixels = (maxPixels / 1e6).toFixed(1).replace(/\.0$/, '');
  return new UserError(
    'image.tooLarge',
    `That picture is too large${size}. The limit is ${megapixels} megapixels; please send a smaller one.`,
  );
}

/** The picture's data is cut off or corrupt (`image.truncated`). */
export function truncated(formatName: string, cause?: unknown): UserError {
  return new UserError(
    'image.truncated',
    `That ${formatName} file is damaged or incomplete (maybe the upload was cut off), so I cannot read it. Please send it again.`,
    { cause },
  );
}

/** Upper-case display name of a format, for messages. */
export function formatDisplayName(format: string): string {
  return format === 'jpeg' ? 'JPEG' : format === 'webp' ? 'WebP' : format.toUpperCase();
}
